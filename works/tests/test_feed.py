"""GET /api/works and GET /api/works/:id: who sees what, filters, pagination, a constant number of queries."""

import datetime

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.clients import client_for
from accounts.tests.factories import UserFactory
from generation.models import Generation
from tunee import localcache
from works.models import Like, Work

from .factories import WorkFactory, completed_work
from .helpers import body

pytestmark = pytest.mark.django_db


def ids(payload) -> list[str]:
    return [item["id"] for item in payload["data"]["list"]]


def aged(work: Work, minutes: int) -> Work:
    """Move a work's creation back in time (the feed is newest first)."""
    Work.objects.filter(pk=work.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=minutes))
    return work


@pytest.fixture
def world(user):
    """Public finished works by two people, plus works that must stay out of the public feed."""
    other = UserFactory()
    old = aged(completed_work(creator=other, tags=["海边", "夏天"]), 30)
    mine = aged(completed_work(creator=user, tags=["夏天"]), 20)
    new = aged(completed_work(creator=other, tags=["城市"]), 10)
    private = aged(completed_work(creator=user, visibility=Work.Visibility.PRIVATE), 5)
    pending = aged(WorkFactory(creator=user), 4)
    failed = aged(WorkFactory(creator=other), 3)
    Generation.objects.filter(pk=failed.generation_id).update(status=Generation.Status.FAILED, error_message="失败")
    return {"other": other, "old": old, "mine": mine, "new": new, "private": private, "pending": pending}


def test_the_public_feed_shows_finished_public_works_newest_first(api, world):
    payload = body(api.get("/api/works"), 200)

    assert ids(payload) == [str(world["new"].pk), str(world["mine"].pk), str(world["old"].pk)]
    assert payload["data"]["pagination"] == {"page": 1, "pageSize": 10, "total": 3, "totalPages": 1}
    item = payload["data"]["list"][0]
    assert set(item) >= {
        "id", "title", "description", "imageUrl", "thumbnailUrl", "audioUrl", "coverUrl", "creator", "status",
        "style", "tags", "plays", "likes", "liked", "visibility", "createdAt", "generationId", "errorMessage",
    }  # fmt: skip
    assert item["status"] == "completed"
    assert item["audioUrl"].startswith("http://testserver/media/generations/") and item["audioUrl"].endswith(".mp3")
    assert item["coverUrl"].startswith("http://testserver/media/generations/")
    assert item["creator"] == {"id": str(world["other"].pk), "username": world["other"].username, "avatarUrl": None}
    assert item["tags"] == ["城市"]
    assert item["createdAt"].endswith("Z")
    assert item["errorMessage"] is None


def test_creator_me_shows_all_my_works_in_every_status_and_visibility(auth_api, world):
    payload = body(auth_api.get("/api/works", {"creator": "me"}), 200)

    assert ids(payload) == [str(world["pending"].pk), str(world["private"].pk), str(world["mine"].pk)]
    statuses = [item["status"] for item in payload["data"]["list"]]
    assert statuses == ["pending", "completed", "completed"]


def test_creator_me_needs_a_login(api, world):
    body(api.get("/api/works", {"creator": "me"}), 401, 401)


def test_creator_id_shows_only_that_users_public_finished_works(api, world):
    payload = body(api.get("/api/works", {"creator": str(world["other"].pk)}), 200)
    assert ids(payload) == [str(world["new"].pk), str(world["old"].pk)]

    body(api.get("/api/works", {"creator": "not-an-id"}), 400, 400)


def test_tag_filter_matches_normalized_tags(api, world):
    payload = body(api.get("/api/works", {"tag": "夏天"}), 200)
    assert ids(payload) == [str(world["mine"].pk), str(world["old"].pk)]

    assert ids(body(api.get("/api/works", {"tag": " 城市 "}), 200)) == [str(world["new"].pk)]
    assert ids(body(api.get("/api/works", {"tag": "nothing"}), 200)) == []
    refused = body(api.get("/api/works", {"tag": "夏\x00天"}), 400, 400)  # a 500 on PostgreSQL if it got through
    assert refused["details"] == {"tag": ["标签不能包含空字符"]}


def test_tag_and_creator_combine(api, world):
    payload = body(api.get("/api/works", {"tag": "夏天", "creator": str(world["other"].pk)}), 200)
    assert ids(payload) == [str(world["old"].pk)]


def test_pagination_follows_the_contract(api, world):
    first = body(api.get("/api/works", {"page": 1, "limit": 2}), 200)
    second = body(api.get("/api/works", {"page": 2, "pageSize": 2}), 200)

    assert ids(first) == [str(world["new"].pk), str(world["mine"].pk)]
    assert first["data"]["pagination"] == {"page": 1, "pageSize": 2, "total": 3, "totalPages": 2}
    assert ids(second) == [str(world["old"].pk)]
    assert second["data"]["pagination"]["page"] == 2
    assert body(api.get("/api/works", {"page": 9}), 200)["data"]["list"] == []
    body(api.get("/api/works", {"page": 0}), 400, 400)
    body(api.get("/api/works", {"limit": "x"}), 400, 400)


def test_liked_is_per_requester(auth_api, user, world):
    Like.objects.create(user=user, work=world["new"])

    mine = body(auth_api.get("/api/works"), 200)["data"]["list"]
    assert [item["liked"] for item in mine] == [True, False, False]

    anonymous = body(client_for(UserFactory()).get("/api/works"), 200)["data"]["list"]
    assert [item["liked"] for item in anonymous] == [False, False, False]


def test_the_feed_costs_the_same_number_of_queries_whatever_the_page_size(user, django_assert_max_num_queries):
    client = client_for(user)
    for n in range(60):
        completed_work(creator=user if n % 2 else UserFactory(), tags=["t", f"x{n}"])

    for params in ({}, {"page": 2}, {"tag": "t"}, {"creator": "me"}):
        counts = {}
        for size in (5, 50):
            cache.clear()  # the first page is cached: measure the database, not the cache
            localcache.clear()
            with CaptureQueriesContext(connection) as captured:
                payload = body(client.get("/api/works", {**params, "pageSize": size}), 200)
            total = payload["data"]["pagination"]["total"]
            page = params.get("page", 1)
            assert len(payload["data"]["list"]) == min(size, total - (page - 1) * size) > 0
            counts[size] = len(captured)
        assert counts[5] == counts[50], params
        cache.clear()
        localcache.clear()
        # page 2 of 100 is past the end: an empty page carries no total, so one COUNT more (tunee/api/pagination.py)
        past_the_end = 1 if params.get("page", 1) > 1 else 0
        with django_assert_max_num_queries(counts[5] + past_the_end):
            body(client.get("/api/works", {**params, "pageSize": 100}), 200)


def test_detail_of_a_public_work_is_open_to_everyone(api, world):
    data = body(api.get(f"/api/works/{world['new'].pk}"), 200)["data"]
    assert data["id"] == str(world["new"].pk)
    assert data["status"] == "completed"
    assert data["liked"] is False


def test_detail_of_my_private_or_unfinished_work_is_mine_only(auth_api, api, world):
    for key in ("private", "pending"):
        url = f"/api/works/{world[key].pk}"
        assert body(auth_api.get(url), 200)["data"]["id"] == str(world[key].pk)
        body(api.get(url), 404, 30000)
        body(client_for(world["other"]).get(url), 404, 30000)


def test_detail_of_a_missing_work_is_30000_and_a_bad_id_1002(api):
    body(api.get("/api/works/7b1f4b7e-5d7c-4a57-9d7e-6f6b8f1d2c3a"), 404, 30000)
    body(api.get("/api/works/not-a-uuid"), 400, 1002)


def test_a_failed_work_shows_its_error_to_its_creator(world):
    failed = Work.objects.get(generation__status=Generation.Status.FAILED)
    data = body(client_for(world["other"]).get(f"/api/works/{failed.pk}"), 200)["data"]
    assert data["status"] == "failed"
    assert data["errorMessage"] == "失败"
    assert data["audioUrl"] is None


def test_a_failed_works_error_is_in_the_readers_language_cached_or_not(user):
    from generation.services import generation_fail
    from tunee.api.i18n import T

    work = WorkFactory(creator=user)
    generation_fail(generation=work.generation, message=T("生成失败，已退还", "Generation failed, refunded"))
    owner = client_for(user)
    url = f"/api/works/{work.pk}"

    for _ in range(2):  # the second round is served from the cache
        assert body(owner.get(url), 200)["data"]["errorMessage"] == "生成失败，已退还"
        english = body(owner.get(url, HTTP_ACCEPT_LANGUAGE="en"), 200)["data"]
        assert english["errorMessage"] == "Generation failed, refunded"


def test_a_work_hidden_by_staff_leaves_the_feed_but_not_its_creators_list(api, auth_api, user):
    shown = completed_work(creator=user)
    hidden = completed_work(creator=user, hidden=True)

    assert ids(body(api.get("/api/works"), 200)) == [str(shown.pk)]
    assert ids(body(api.get("/api/works", {"creator": str(user.pk)}), 200)) == [str(shown.pk)]
    mine = body(auth_api.get("/api/works", {"creator": "me"}), 200)["data"]["list"]
    assert [(item["id"], item["hidden"]) for item in mine] == [(str(hidden.pk), True), (str(shown.pk), False)]
    body(api.get(f"/api/works/{hidden.pk}"), 404, 30000)
    body(client_for(UserFactory()).post(f"/api/works/{hidden.pk}/like"), 404, 30000)
