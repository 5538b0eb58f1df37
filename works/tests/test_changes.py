"""PATCH / DELETE / like / play of works, and the caches those changes must invalidate."""

import time
from functools import partial

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.clients import client_for
from accounts.tests.factories import UserFactory
from generation.models import Generation
from tunee.testing import race_results
from works import services
from works.models import Like, Tag, Work

from .factories import WorkFactory, complete, completed_work
from .helpers import body

pytestmark = pytest.mark.django_db


@pytest.fixture
def work(user):
    return completed_work(creator=user, tags=["海边"])


# --- PATCH ----------------------------------------------------------------------------------------------------


def test_the_owner_edits_title_description_tags_and_visibility(auth_api, work):
    data = body(
        auth_api.patch(
            f"/api/works/{work.pk}",
            {
                "title": "新标题",
                "description": "新的描述",
                "tags": ["Summer ", "城市", "summer"],
                "visibility": "private",
            },
            format="json",
        ),
        200,
    )["data"]

    assert data["title"] == "新标题" and data["description"] == "新的描述"
    assert data["tags"] == ["summer", "城市"]  # normalized, repeats dropped, order kept
    assert data["visibility"] == "private"
    work.refresh_from_db()
    assert work.title == "新标题" and work.visibility == "private"
    assert set(Tag.objects.values_list("name", flat=True)) >= {"summer", "城市"}


def test_patch_keeps_fields_that_are_not_sent(auth_api, work):
    body(auth_api.patch(f"/api/works/{work.pk}", {"title": "只改标题"}, format="json"), 200)
    work.refresh_from_db()
    assert work.description == "海边的傍晚"
    assert [link.tag.name for link in work.work_tags.all()] == ["海边"]


@pytest.mark.parametrize(
    "payload",
    [{"visibility": "friends"}, {"title": "长" * 101}, {"tags": "x" * 31}, {"tags": [f"t{n}" for n in range(21)]}],
    ids=["visibility", "title", "tag-length", "tag-count"],
)
def test_invalid_edits_are_30002_and_change_nothing(auth_api, work, payload):
    response = body(auth_api.patch(f"/api/works/{work.pk}", payload, format="json"), 400, 30002)
    assert set(response["details"]) == set(payload)
    fresh = Work.objects.get(pk=work.pk)
    assert (fresh.title, fresh.visibility) == (work.title, work.visibility)
    assert [link.tag.name for link in fresh.work_tags.all()] == ["海边"]


def test_patch_and_delete_need_a_login(api, work):
    body(api.patch(f"/api/works/{work.pk}", {"title": "x"}, format="json"), 401, 401)
    body(api.delete(f"/api/works/{work.pk}"), 401, 401)
    assert Work.objects.filter(pk=work.pk, title=work.title).exists()


def test_another_user_cannot_edit_or_delete_and_learns_nothing(work):
    stranger = client_for(UserFactory())

    body(stranger.patch(f"/api/works/{work.pk}", {"title": "x"}, format="json"), 404, 30000)
    body(stranger.delete(f"/api/works/{work.pk}"), 404, 30000)
    missing = "7b1f4b7e-5d7c-4a57-9d7e-6f6b8f1d2c3a"
    body(stranger.delete(f"/api/works/{missing}"), 404, 30000)  # the same answer as for a missing work
    assert Work.objects.filter(pk=work.pk, title=work.title).exists()


def test_staff_get_no_special_access_through_the_api(staff, work):
    body(client_for(staff).delete(f"/api/works/{work.pk}"), 404, 30000)


# --- DELETE ---------------------------------------------------------------------------------------------------


def test_the_owner_deletes_the_work_and_its_files(auth_api, work, django_capture_on_commit_callbacks):
    services.work_process(work_id=work.pk)  # nothing happens to a processed work, but make sure of a thumbnail
    Work.objects.filter(pk=work.pk).update(thumbnail="")
    work.refresh_from_db()
    work.thumbnail.save("thumb.jpg", work.image.file, save=True)
    photo, thumbnail = work.image.name, work.thumbnail.name
    assert default_storage.exists(photo) and default_storage.exists(thumbnail)
    Like.objects.create(user=UserFactory(), work=work)

    with django_capture_on_commit_callbacks(execute=True):
        body(auth_api.delete(f"/api/works/{work.pk}"), 200)

    assert not Work.objects.filter(pk=work.pk).exists()
    assert not Like.objects.filter(work_id=work.pk).exists()
    assert not default_storage.exists(photo) and not default_storage.exists(thumbnail)
    # The song stays in the creator's generation history.
    assert Generation.objects.get(pk=work.generation_id).status == Generation.Status.COMPLETED
    body(auth_api.get(f"/api/works/{work.pk}"), 404, 30000)


def test_files_leave_the_storage_only_once_the_deletion_commits(auth_api, work, django_capture_on_commit_callbacks):
    photo = work.image.name
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        body(auth_api.delete(f"/api/works/{work.pk}"), 200)

    assert not Work.objects.filter(pk=work.pk).exists()
    assert default_storage.exists(photo)  # a rollback here would have lost no file
    for callback in callbacks:
        callback()
    assert not default_storage.exists(photo)


def test_a_storage_failure_after_the_commit_leaves_the_work_deleted_and_is_logged(
    auth_api, work, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def broken(name):
        raise OSError("storage is down")

    monkeypatch.setattr(default_storage, "delete", broken)

    with django_capture_on_commit_callbacks(execute=True):
        body(auth_api.delete(f"/api/works/{work.pk}"), 200)

    assert not Work.objects.filter(pk=work.pk).exists()
    assert f"deleting {work.image.name} from the storage failed" in caplog.text
    monkeypatch.undo()
    assert default_storage.exists(work.image.name)  # the orphan, logged
    body(auth_api.get(f"/api/works/{work.pk}"), 404, 30000)


def test_deleting_a_work_whose_song_has_not_started_refunds_it(auth_api, user):
    pending = WorkFactory(creator=user, processed_at=None)
    from membership.services import quota_consume

    charge = quota_consume(user=user, reference="test")
    Generation.objects.filter(pk=pending.generation_id).update(charge=charge)

    body(auth_api.delete(f"/api/works/{pending.pk}"), 200)

    generation = Generation.objects.get(pk=pending.generation_id)
    assert generation.status == Generation.Status.FAILED
    charge.refresh_from_db()
    assert charge.refunded_at is not None


# --- likes ----------------------------------------------------------------------------------------------------


def test_like_toggles_and_counts(auth_api, user, work):
    first = body(auth_api.post(f"/api/works/{work.pk}/like"), 200)["data"]
    assert first == {"liked": True, "likes": 1}
    assert body(auth_api.get(f"/api/works/{work.pk}"), 200)["data"]["liked"] is True

    second = body(auth_api.post(f"/api/works/{work.pk}/like"), 200)["data"]
    assert second == {"liked": False, "likes": 0}
    assert not Like.objects.filter(user=user, work=work).exists()


def test_like_needs_a_login_and_a_visible_work(api, user):
    private = completed_work(creator=UserFactory(), visibility=Work.Visibility.PRIVATE)
    body(api.post(f"/api/works/{private.pk}/like"), 401, 401)
    body(client_for(user).post(f"/api/works/{private.pk}/like"), 404, 30000)
    assert Work.objects.get(pk=private.pk).likes == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_liking_a_work_deleted_after_it_was_read_is_a_404_and_changes_nothing(user):
    """The toggle runs on a work read a moment before; deleted in between, the one statement finds no row."""
    from tunee.api.errors import ApiError, Code

    gone = completed_work(creator=UserFactory())
    Work.objects.filter(pk=gone.pk).delete()
    with pytest.raises(ApiError) as refused:
        services.work_like_toggle(user=user, work=gone)
    assert refused.value.code == Code.NOT_FOUND
    assert not Like.objects.filter(work_id=gone.pk).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_likes_are_counted_exactly():
    """20 people like at once, and one person taps like 6 times at once: the counter equals the rows."""
    work = completed_work(creator=UserFactory())
    people = [UserFactory() for _ in range(20)]
    tapper = UserFactory()
    clients = [client_for(person) for person in people] + [client_for(tapper)] * 6
    like = f"/api/works/{work.pk}/like"

    answers = [response.status_code for response in race_results(*[partial(c.post, like) for c in clients])]

    assert answers == [200] * len(clients)
    rows = Like.objects.filter(work=work).count()
    assert Work.objects.get(pk=work.pk).likes == rows
    assert Like.objects.filter(work=work, user__in=people).count() == 20
    assert rows in (20, 21)  # six toggles by one person: liked or not, but counted once at most


# --- plays ----------------------------------------------------------------------------------------------------


def test_a_play_counts_once_per_ip_and_work_within_the_window(api, work, settings):
    url = f"/api/works/{work.pk}/play"
    assert body(api.post(url, REMOTE_ADDR="10.0.0.1"), 200)["data"] == {"plays": 1}
    for _ in range(5):  # refreshing does not inflate it
        assert body(api.post(url, REMOTE_ADDR="10.0.0.1"), 200)["data"] == {"plays": 1}
    assert body(api.post(url, REMOTE_ADDR="10.0.0.2"), 200)["data"] == {"plays": 2}
    other = completed_work()
    assert body(api.post(f"/api/works/{other.pk}/play", REMOTE_ADDR="10.0.0.1"), 200)["data"] == {"plays": 1}
    assert Work.objects.get(pk=work.pk).plays == 2


def test_a_made_up_forwarded_for_header_does_not_count_a_play_again(api, work):
    url = f"/api/works/{work.pk}/play"
    assert body(api.post(url, REMOTE_ADDR="10.0.0.1"), 200)["data"] == {"plays": 1}
    for n in range(5):  # the same connection claiming to forward for someone else each time
        spoofed = api.post(url, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
        assert body(spoofed, 200)["data"] == {"plays": 1}
    assert Work.objects.get(pk=work.pk).plays == 1


def test_behind_configured_proxies_the_forwarded_address_counts(api, work, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}  # one proxy of ours in front
    url = f"/api/works/{work.pk}/play"
    proxy = {"REMOTE_ADDR": "10.9.9.9"}
    assert body(api.post(url, HTTP_X_FORWARDED_FOR="198.51.100.1", **proxy), 200)["data"] == {"plays": 1}
    assert body(api.post(url, HTTP_X_FORWARDED_FOR="198.51.100.1", **proxy), 200)["data"] == {"plays": 1}
    assert body(api.post(url, HTTP_X_FORWARDED_FOR="198.51.100.2", **proxy), 200)["data"] == {"plays": 2}
    # A client cannot prepend an address of its choice: the proxy appends the one it saw.
    spoofed = api.post(url, HTTP_X_FORWARDED_FOR="1.1.1.1, 198.51.100.2", **proxy)
    assert body(spoofed, 200)["data"] == {"plays": 2}


def test_a_play_counts_again_after_the_window(api, work, settings):
    settings.WORKS_PLAY_WINDOW_SECONDS = 1  # the cache (locmem or Redis) forgets the key after one second
    url = f"/api/works/{work.pk}/play"
    assert body(api.post(url, REMOTE_ADDR="10.0.0.1"), 200)["data"] == {"plays": 1}
    assert body(api.post(url, REMOTE_ADDR="10.0.0.1"), 200)["data"] == {"plays": 1}

    time.sleep(1.2)

    assert body(api.post(url, REMOTE_ADDR="10.0.0.1"), 200)["data"] == {"plays": 2}


def test_plays_of_hidden_works_are_not_counted(api, user):
    private = completed_work(creator=user, visibility=Work.Visibility.PRIVATE)
    body(api.post(f"/api/works/{private.pk}/play"), 404, 30000)
    assert body(client_for(user).post(f"/api/works/{private.pk}/play"), 200)["data"] == {"plays": 1}
    body(api.post("/api/works/nope/play"), 400, 1002)


# --- caching --------------------------------------------------------------------------------------------------
# Invalidation runs when a change commits: these tests commit for real (transaction=True).
real_commits = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def queries_of(client, url, **params) -> tuple[dict, int]:
    with CaptureQueriesContext(connection) as captured:
        payload = body(client.get(url, params), 200)
    return payload["data"], len(captured)


@real_commits
def test_a_finished_works_detail_is_cached_and_every_change_invalidates_it(api, work, user):
    url = f"/api/works/{work.pk}"
    first, cold = queries_of(api, url)
    again, warm = queries_of(api, url)
    assert again == first
    assert warm < cold  # served from the cache

    owner = client_for(user)
    body(owner.patch(url, {"title": "改过的"}, format="json"), 200)
    assert queries_of(api, url)[0]["title"] == "改过的"

    body(client_for(UserFactory()).post(f"{url}/like"), 200)
    assert queries_of(api, url)[0]["likes"] == 1

    body(api.post(f"{url}/play"), 200)
    assert queries_of(api, url)[0]["plays"] == 1

    services.works_moderate(work_ids=[work.pk], featured=True)
    assert queries_of(api, url)[0]["featured"] is True

    services.works_moderate(work_ids=[work.pk], hidden=True)
    body(api.get(url), 404, 30000)
    assert body(owner.get(url), 200)["data"]["hidden"] is True
    services.works_moderate(work_ids=[work.pk], hidden=False)
    assert queries_of(api, url)[0]["hidden"] is False

    body(owner.patch(url, {"visibility": "private"}, format="json"), 200)
    body(api.get(url), 404, 30000)
    assert body(owner.get(url), 200)["data"]["visibility"] == "private"

    body(owner.delete(url), 200)
    body(owner.get(url), 404, 30000)


@real_commits
def test_an_unfinished_work_is_not_cached_so_its_status_follows_the_generation(user):
    owner = client_for(user)
    pending = WorkFactory(creator=user)
    url = f"/api/works/{pending.pk}"
    assert body(owner.get(url), 200)["data"]["status"] == "pending"

    complete(pending)  # the pipeline finishes the song; works is not told

    data = body(owner.get(url), 200)["data"]
    assert data["status"] == "completed" and data["audioUrl"]


@real_commits
def test_the_feeds_first_page_is_cached_and_invalidated(api, user):
    owner = client_for(user)
    work = completed_work(creator=user)
    first, cold = queries_of(api, "/api/works")
    again, warm = queries_of(api, "/api/works")
    assert again == first and warm < cold

    # An edit shows at once.
    body(owner.patch(f"/api/works/{work.pk}", {"title": "新"}, format="json"), 200)
    assert queries_of(api, "/api/works")[0]["list"][0]["title"] == "新"

    # A like shows at once.
    body(owner.post(f"/api/works/{work.pk}/like"), 200)
    assert queries_of(api, "/api/works")[0]["list"][0]["likes"] == 1

    # A counted play shows at once.
    body(api.post(f"/api/works/{work.pk}/play"), 200)
    assert queries_of(api, "/api/works")[0]["list"][0]["plays"] == 1

    # A song finishing (the generation app, which does not know works) shows at once.
    pending = WorkFactory(creator=user)
    assert [item["id"] for item in queries_of(api, "/api/works")[0]["list"]] == [str(work.pk)]
    complete(pending)
    assert [item["id"] for item in queries_of(api, "/api/works")[0]["list"]] == [str(pending.pk), str(work.pk)]

    # Hiding by staff, and deleting, show at once.
    services.works_moderate(work_ids=[pending.pk], hidden=True)
    assert [item["id"] for item in queries_of(api, "/api/works")[0]["list"]] == [str(work.pk)]
    body(owner.delete(f"/api/works/{work.pk}"), 200)
    assert queries_of(api, "/api/works")[0]["list"] == []


@real_commits
def test_cached_answers_still_tell_each_requester_whether_they_liked(user):
    work = completed_work()
    Like.objects.create(user=user, work=work)
    stranger = client_for(UserFactory())
    body(stranger.get(f"/api/works/{work.pk}"), 200)  # fills the cache
    body(stranger.get("/api/works"), 200)

    assert body(client_for(user).get(f"/api/works/{work.pk}"), 200)["data"]["liked"] is True
    assert body(client_for(user).get("/api/works"), 200)["data"]["list"][0]["liked"] is True
    assert body(stranger.get("/api/works"), 200)["data"]["list"][0]["liked"] is False
