"""Media screened like photos: the profile's avatar (local and WeChat, a risky push removes it) and every finished
song (mediaCheckAsync with media_type 1 when the pipeline completes; a risky verdict takes its work out of the feed
and the share page, a passing one never approves a work still waiting for its photo)."""

import pytest
from django.core.files.storage import default_storage
from rest_framework.test import APIClient

from accounts.tests.helpers import image_upload
from generation import pipeline
from generation.models import Generation
from generation.tests.factories import GenerationFactory
from moderation import services
from moderation.models import MediaCheck, Verdict
from moderation.providers import MEDIA_AUDIO, MEDIA_IMAGE
from works.models import Work
from works.tests.factories import WorkFactory
from works.tests.helpers import body

from .helpers import PUSH_TOKEN, checked, signed_push

pytestmark = pytest.mark.django_db


@pytest.fixture
def local_songs(settings):
    settings.MUSIC_PROVIDER = "local"
    settings.VISION_PROVIDER = "local"
    settings.PUBLIC_BASE_URL = "http://testserver"


def logged_in(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def push(client, trace_id: str, suggest: str, label=20002):
    body_ = {
        "Event": "wxa_media_check",
        "trace_id": trace_id,
        "version": 2,
        "result": {"suggest": suggest, "label": label},
    }
    answer = signed_push(client, body_, token=PUSH_TOKEN)
    assert (answer.status_code, answer.content) == (200, b"success")


def media_async(server, trace_id: str, media_type: int) -> None:
    server.expect_oneshot_request("/wxa/media_check_async", method="POST").respond_with_handler(
        lambda request: checked(
            request,
            {"media_type": media_type, "version": 2, "openid": "o-wx-1"},
            {"errcode": 0, "trace_id": trace_id},
        )
    )


# --- the avatar -------------------------------------------------------------------------------------------------


def test_an_uploaded_avatar_is_screened_and_logged_like_a_photo(auth_api, user):
    body(auth_api.patch("/api/user/me", {"avatar": image_upload()}, format="multipart"), 200, 0)

    verdict = Verdict.objects.get(field="avatar")
    assert (verdict.source, verdict.subject, verdict.subject_id, verdict.outcome) == (
        "profile",
        "avatar",
        str(user.pk),
        "pass",
    )


def test_avatars_go_to_review_with_the_photos_setting(auth_api, settings):
    settings.MODERATION_PHOTOS_REVIEW = True

    body(auth_api.patch("/api/user/me", {"avatar": image_upload()}, format="multipart"), 200, 0)

    assert Verdict.objects.get(field="avatar").outcome == "review"


def test_a_wechat_users_avatar_is_checked_asynchronously_and_removed_by_a_risky_push(
    wechat, wx_user, client, django_capture_on_commit_callbacks
):
    media_async(wechat, "T-AV", MEDIA_IMAGE)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        data = body(logged_in(wx_user).patch("/api/user/me", {"avatar": image_upload()}, format="multipart"), 200)
    assert callbacks  # the submission waits for the commit
    wx_user.refresh_from_db()
    stored = wx_user.avatar.name
    assert data["data"]["avatarUrl"].endswith(stored)  # shown until the verdict says otherwise
    check = MediaCheck.objects.get()
    services.media_check_submit(check_id=check.pk)  # the job the upload enqueued
    check.refresh_from_db()
    assert (check.subject, check.subject_id, check.field, check.trace_id) == (
        "avatar",
        str(wx_user.pk),
        "avatar",
        "T-AV",
    )
    assert not Verdict.objects.filter(field="avatar").exists()  # no verdict yet

    with django_capture_on_commit_callbacks(execute=True):
        push(client, "T-AV", "risky")

    wx_user.refresh_from_db()
    assert not wx_user.avatar
    assert not default_storage.exists(stored)
    assert Verdict.objects.filter(field="avatar", outcome="risky", provider="wechat").exists()
    assert body(logged_in(wx_user).get("/api/user/me"), 200)["data"]["avatarUrl"] is None


def test_a_passing_avatar_push_keeps_the_avatar(wechat, wx_user, client, django_capture_on_commit_callbacks):
    media_async(wechat, "T-OK", MEDIA_IMAGE)
    with django_capture_on_commit_callbacks(execute=False):
        body(logged_in(wx_user).patch("/api/user/me", {"avatar": image_upload()}, format="multipart"), 200)
    services.media_check_submit(check_id=MediaCheck.objects.get().pk)
    wx_user.refresh_from_db()
    stored = wx_user.avatar.name

    push(client, "T-OK", "pass", 100)

    wx_user.refresh_from_db()
    assert wx_user.avatar.name == stored and default_storage.exists(stored)


# --- the finished song ------------------------------------------------------------------------------------------


def finish(generation: Generation) -> Generation:
    """One pipeline job: the local provider renders the song at once, so the step completes it."""
    assert pipeline.generation_advance(generation_id=str(generation.pk)) == pipeline.COMPLETED
    generation.refresh_from_db()
    return generation


def work_with_song(user, **kwargs) -> Work:
    generation = GenerationFactory(user=user, source=Generation.Source.WORK, duration=10, status="pending")
    return WorkFactory(creator=user, generation=generation, **kwargs)


def test_offline_a_finished_song_passes_and_is_logged(user, local_songs, settings):
    settings.MODERATION_PHOTOS_REVIEW = True  # a photos' setting: the song still passes
    generation = finish(GenerationFactory(user=user, duration=10))

    verdict = Verdict.objects.get(field="audio")
    assert (verdict.subject, verdict.subject_id, verdict.outcome, verdict.source) == (
        "generation",
        str(generation.pk),
        "pass",
        "api",
    )
    assert not MediaCheck.objects.exists()


def test_a_risky_song_takes_its_work_out_of_the_feed_and_the_share_page(
    wechat, wx_user, local_songs, api, client, django_capture_on_commit_callbacks
):
    work = work_with_song(wx_user)
    media_async(wechat, "T-SONG", MEDIA_AUDIO)
    generation = finish(work.generation)
    check = MediaCheck.objects.get()
    services.media_check_submit(check_id=check.pk)  # the job the completion enqueued
    check.refresh_from_db()
    assert (check.subject, check.subject_id, check.field, check.media_type) == (
        "generation",
        str(generation.pk),
        "audio",
        MEDIA_AUDIO,
    )
    assert check.file_name == generation.audio.name and check.trace_id == "T-SONG"
    assert [item["id"] for item in body(api.get("/api/works"), 200)["data"]["list"]] == [str(work.pk)]

    with django_capture_on_commit_callbacks(execute=True):  # the feed's cache moves once the verdict commits
        push(client, "T-SONG", "risky", 20001)

    work.refresh_from_db()
    assert work.moderation == Work.Moderation.REJECTED and "audio:20001" in work.moderation_label
    assert body(api.get("/api/works"), 200)["data"]["list"] == []
    body(api.get(f"/api/works/{work.pk}"), 404, 30000)
    assert client.get(f"/w/{work.pk}").status_code == 404
    assert body(logged_in(wx_user).get(f"/api/works/{work.pk}"), 200)["data"]["moderation"] == "rejected"


def test_a_song_for_review_sends_its_work_to_the_queue(wechat, wx_user, local_songs, client):
    work = work_with_song(wx_user)
    generation = finish(work.generation)
    MediaCheck.objects.filter(subject_id=str(generation.pk)).update(trace_id="T-R")

    push(client, "T-R", "review", 20006)

    work.refresh_from_db()
    assert work.moderation == Work.Moderation.REVIEW


def test_a_passing_song_does_not_approve_a_work_still_waiting_for_its_photo(wechat, wx_user, local_songs, client):
    work = work_with_song(wx_user, moderation=Work.Moderation.PENDING)
    generation = finish(work.generation)
    MediaCheck.objects.filter(subject_id=str(generation.pk)).update(trace_id="T-P")

    push(client, "T-P", "pass", 100)

    work.refresh_from_db()
    assert work.moderation == Work.Moderation.PENDING
    assert Verdict.objects.filter(field="audio", outcome="pass", provider="wechat").exists()


def test_a_risky_song_that_is_no_works_is_only_logged(wechat, wx_user, local_songs, client):
    generation = finish(GenerationFactory(user=wx_user, duration=10))
    MediaCheck.objects.filter(subject_id=str(generation.pk)).update(trace_id="T-G")

    push(client, "T-G", "risky")

    generation.refresh_from_db()
    assert generation.status == Generation.Status.COMPLETED
    assert Verdict.objects.filter(subject="generation", field="audio", outcome="risky").exists()


def test_a_song_whose_submit_fails_passes_on_the_local_rule(wechat, wx_user, local_songs, settings):
    settings.MODERATION_PHOTOS_REVIEW = True
    wechat.expect_oneshot_request("/wxa/media_check_async").respond_with_data("busy", status=503)
    work = work_with_song(wx_user)
    check_id = MediaCheck.objects.get(subject_id=str(finish(work.generation).pk)).pk

    services.media_check_submit(check_id=check_id)

    check = MediaCheck.objects.get(pk=check_id)
    assert (check.status, check.outcome) == ("done", "pass")
    work.refresh_from_db()
    assert work.moderation == Work.Moderation.APPROVED
