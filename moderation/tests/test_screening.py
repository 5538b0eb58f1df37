"""Each place that publishes user text is screened before anything is charged or shown: generation create, music
tasks, works (create, PATCH, what the vision model wrote), the profile's username; `review` keeps a work out of
the feed and the share page until staff approve it; reports."""

import pytest

from generation.models import Generation
from membership.models import Charge
from membership.selectors import quota_status
from moderation.models import Report, Verdict
from works import services as work_services
from works.models import Work
from works.tests.factories import WorkFactory, complete, jpeg_bytes, upload
from works.tests.helpers import body

from .helpers import standard_words

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _words():
    standard_words()


@pytest.fixture
def enqueued(monkeypatch):
    from generation import tasks

    sent = []
    monkeypatch.setattr(tasks.generation_run, "apply_async", lambda *args, **kwargs: sent.append(args))
    return sent


def assert_nothing_charged(user):
    assert Generation.objects.count() == 0
    assert Charge.objects.count() == 0
    assert quota_status(user=user).used == 0


def test_a_refused_prompt_costs_nothing_and_enqueues_nothing(
    auth_api, user, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_api.post(
            "/api/generation/create", {"prompt": "a FORBIDDEN phrase", "style": "pop"}, format="json"
        )

    payload = body(response, 422, 60001)
    assert payload["details"] == {"fields": ["prompt"]}
    assert "forbidden" not in response.content.decode().lower()  # no hint of the word
    assert_nothing_charged(user)
    assert enqueued == []
    assert Verdict.objects.filter(source="api", field="prompt", outcome="risky").exists()  # the refusal is logged


def test_refused_lyrics_in_options_and_style_are_named(auth_api, user, enqueued):
    response = auth_api.post(
        "/api/generation/create",
        {"prompt": "雨后的城市", "style": "禁止词语", "options": {"lyrics": "forbidden phrase"}},
        format="json",
    )

    assert body(response, 422, 60001)["details"] == {"fields": ["options.lyrics", "style"]}
    assert_nothing_charged(user)


def test_clean_generation_is_created_and_charged(auth_api, user, enqueued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_api.post("/api/generation/create", {"prompt": "雨后的城市，轻快的钢琴"}, format="json")

    body(response, 201)
    assert quota_status(user=user).used == 1 and len(enqueued) == 1


def test_a_refused_music_task_costs_nothing(auth_api, user, enqueued):
    response = auth_api.post(
        "/api/music/tasks",
        {"title": "晴天", "tags": "pop, 禁止词语", "prompt": "verse one\nforbidden phrase"},
        format="json",
    )

    assert body(response, 422, 60001)["details"] == {"fields": ["prompt", "tags"]}
    assert_nothing_charged(user)
    assert enqueued == []


def post_work(client, **fields):
    return client.post("/api/works", {"image": upload(jpeg_bytes()), **fields}, format="multipart")


def test_a_refused_work_costs_nothing_and_stores_nothing(auth_api, user):
    response = post_work(auth_api, title="forbidden phrase", description="夏天的海")

    assert body(response, 422, 60001)["details"] == {"fields": ["title"]}
    assert Work.objects.count() == 0
    assert_nothing_charged(user)


def test_a_work_whose_text_needs_review_is_kept_out_of_the_feed_until_approved(
    auth_api, api, user, django_capture_on_commit_callbacks
):
    data = body(post_work(auth_api, title="晴天", description="buy followers"), 201)["data"]
    work = Work.objects.get(pk=data["id"])
    complete(work)
    assert data["moderation"] == "review"
    assert work.moderation_label == "description:spam"

    assert body(api.get("/api/works"), 200)["data"]["list"] == []
    body(api.get(f"/api/works/{work.pk}"), 404, 30000)
    assert api.get(f"/w/{work.pk}").status_code == 404
    mine = body(auth_api.get("/api/works?creator=me"), 200)["data"]["list"]
    assert [item["id"] for item in mine] == [str(work.pk)]  # the creator still sees it

    with django_capture_on_commit_callbacks(execute=True):  # the cached feed and detail are invalidated on commit
        work_services.works_review_decide(work_ids=[work.pk], approve=True)

    assert [item["id"] for item in body(api.get("/api/works"), 200)["data"]["list"]] == [str(work.pk)]
    assert body(api.get(f"/api/works/{work.pk}"), 200)["data"]["moderation"] == "approved"
    assert api.get(f"/w/{work.pk}").status_code == 200


def test_photos_go_to_review_when_staff_ask_for_it(auth_api, api, settings):
    settings.MODERATION_PHOTOS_REVIEW = True

    data = body(post_work(auth_api), 201)["data"]

    assert data["moderation"] == "review"
    complete(Work.objects.get(pk=data["id"]))
    assert body(api.get("/api/works"), 200)["data"]["list"] == []


def test_patch_with_refused_text_changes_nothing(auth_api, user):
    work = complete(WorkFactory(creator=user, title="晴天"))

    response = auth_api.patch(f"/api/works/{work.pk}", {"title": "禁止词语", "tags": ["ok"]}, format="json")

    assert body(response, 422, 60001)["details"] == {"fields": ["title"]}
    work.refresh_from_db()
    assert work.title == "晴天" and not work.work_tags.exists()


def test_patch_with_text_for_review_sends_the_work_back_to_the_queue(auth_api, api, user):
    work = complete(WorkFactory(creator=user, title="晴天"))

    data = body(auth_api.patch(f"/api/works/{work.pk}", {"tags": ["buy followers"]}, format="json"), 200)["data"]

    assert data["moderation"] == "review" and data["tags"] == ["buy followers"]
    assert body(api.get("/api/works"), 200)["data"]["list"] == []


def test_risky_vision_text_is_not_used_and_the_creator_text_wins(user):
    work = WorkFactory(creator=user, title="", description="我的描述", style="")
    Generation.objects.filter(pk=work.generation_id).update(
        title="forbidden phrase",
        style="lo-fi",
        tags=["海边", "禁止词语"],
        image_analysis={"description": "a vision description"},
    )

    assert work_services.work_fill(work_id=work.pk) is True

    work.refresh_from_db()
    assert work.title == ""  # risky: not used
    assert work.description == "我的描述"  # the creator's own
    assert work.style == "lo-fi"
    assert list(work.work_tags.values_list("tag__name", flat=True)) == []  # the tags as a whole were risky
    assert Verdict.objects.filter(source="work_vision", field="title", outcome="risky").exists()


def test_a_refused_username_changes_nothing(auth_api, user):
    response = auth_api.patch("/api/user/me", {"username": "Forbidden_Phrase"}, format="json")

    assert body(response, 422, 60001)["details"] == {"fields": ["username"]}
    user.refresh_from_db()
    assert user.username != "Forbidden_Phrase"
    body(auth_api.patch("/api/user/me", {"username": "晴天小鱼"}, format="json"), 200)


def test_reports_once_per_user_and_the_threshold_hides_the_work(api, settings):
    from accounts.tests.factories import UserFactory

    settings.MODERATION_REPORT_THRESHOLD = 2
    work = complete(WorkFactory(title="晴天"))
    first, second = UserFactory(), UserFactory()
    api.force_authenticate(first)

    assert body(api.post(f"/api/works/{work.pk}/report", {"reason": "spam"}, format="json"), 200)["data"] == {
        "reported": True
    }
    body(api.post(f"/api/works/{work.pk}/report", {"reason": "abuse"}, format="json"), 409, 11000)  # once per user
    body(api.post(f"/api/works/{work.pk}/report", {"reason": "nonsense"}, format="json"), 400, 400)
    work.refresh_from_db()
    assert work.moderation == "approved"  # one user is not enough

    api.force_authenticate(second)
    body(api.post(f"/api/works/{work.pk}/report", {"reason": "abuse"}, format="json"), 200)

    work.refresh_from_db()
    assert work.moderation == "review"
    api.force_authenticate(None)
    assert body(api.get("/api/works"), 200)["data"]["list"] == []
    assert Report.objects.filter(subject_id=str(work.pk)).count() == 2


def test_reporting_needs_a_login_and_a_visible_work(api, auth_api):
    work = complete(WorkFactory(visibility=Work.Visibility.PRIVATE))

    body(api.post(f"/api/works/{work.pk}/report", {"reason": "spam"}, format="json"), 401, 401)
    body(auth_api.post(f"/api/works/{work.pk}/report", {"reason": "spam"}, format="json"), 404, 30000)


def test_60001_is_documented_in_the_schema_and_the_readme(api):
    from pathlib import Path

    from django.conf import settings

    from tunee.api.errors import Code

    assert (Code.CONTENT_REFUSED.code, Code.CONTENT_REFUSED.status) == (60001, 422)
    schema = api.get("/api/schema/", {"format": "json"}).json()
    for path, method in (
        ("/api/generation/create", "post"),
        ("/api/music/tasks", "post"),
        ("/api/works", "post"),
        ("/api/works/{work_id}", "patch"),
        ("/api/user/me", "patch"),
    ):
        answer = schema["paths"][path][method]["responses"]["422"]
        assert "60001" in answer["description"], path
        assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorEnvelope"}
    readme = (Path(settings.BASE_DIR) / "README.md").read_text()
    assert "60001 (HTTP 422)" in readme and "`details.fields`" in readme
