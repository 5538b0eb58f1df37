"""The Suno gateway client against a fake gateway on 127.0.0.1 speaking the sunoapi.org task protocol."""

import json
import time

import pytest
from werkzeug import Response

from generation.providers import (
    MusicRequest,
    ProviderOutOfCredits,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
    TaskState,
    fetch_asset,
    get_music_provider,
)
from generation.providers.suno import SunoProvider

from .fake_servers import closed_port_url, server_fixture  # noqa: F401

KEY = "test-key-123"


@pytest.fixture
def suno(server):
    return SunoProvider(base_url=server.url_for(""), api_key=KEY, model="V4_5", timeout=2.0)


def ok(data):
    return {"code": 200, "msg": "success", "data": data}


def record(status, *, tracks=(), error_message=None, instrumental=False):
    return ok(
        {
            "taskId": "task-1",
            "param": json.dumps({"prompt": "p", "customMode": True, "instrumental": instrumental, "model": "V4_5"}),
            "response": {"taskId": "task-1", "sunoData": list(tracks)},
            "status": status,
            "type": "GENERATE",
            "errorCode": None if error_message is None else 400,
            "errorMessage": error_message,
        }
    )


def clip(server, n, *, audio=True):
    return {
        "id": f"clip-{n}",
        "audioUrl": server.url_for(f"/files/clip-{n}.mp3") if audio else "",
        "streamAudioUrl": server.url_for(f"/stream/clip-{n}"),
        "imageUrl": server.url_for(f"/files/clip-{n}.jpeg"),
        "prompt": "[Verse]\n夏天的风",
        "modelName": "chirp-v4-5",
        "title": "夏天",
        "tags": "pop, upbeat",
        "createTime": "2025-01-01 00:00:00",
        "duration": 198.44,
    }


def test_submit_in_custom_mode_sends_title_style_lyrics_and_the_callback(server, suno):
    seen = {}

    def generate(request):
        seen["auth"] = request.headers.get("Authorization")
        seen["body"] = request.get_json()
        return Response(json.dumps(ok({"taskId": "5c79be8e"})), content_type="application/json")

    server.expect_request("/api/v1/generate", method="POST").respond_with_handler(generate)
    request = MusicRequest(
        prompt="描述",
        lyrics="[Verse]\n夏天的风",
        title="夏天",
        style="pop",
        tags=("upbeat", "summer"),
        negative_tags="heavy metal",
        callback_url="https://tunee.example/api/generation/callback/suno?token=t",
    )
    submission = suno.submit(request)
    assert submission.task_id == "5c79be8e" and submission.result is None
    assert seen["auth"] == f"Bearer {KEY}"
    assert seen["body"] == {
        "customMode": True,
        "instrumental": False,
        "model": "V4_5",
        "callBackUrl": "https://tunee.example/api/generation/callback/suno?token=t",
        "title": "夏天",
        "style": "pop, upbeat, summer",
        "negativeTags": "heavy metal",
        "prompt": "[Verse]\n夏天的风",
    }
    assert submission.raw["request"] == seen["body"]


def test_submit_without_a_title_uses_description_mode_within_500_characters(server, suno):
    seen = {}

    def generate(request):
        seen["body"] = request.get_json()
        return Response(json.dumps(ok({"taskId": "t2"})), content_type="application/json")

    server.expect_request("/api/v1/generate", method="POST").respond_with_handler(generate)
    suno.submit(MusicRequest(prompt="一首轻快的流行歌曲" * 80, style="pop", mood="happy", instrumental=True))
    body = seen["body"]
    assert body["customMode"] is False and body["instrumental"] is True and len(body["prompt"]) == 500
    assert body["prompt"].startswith("一首轻快的流行歌曲")
    assert not {"title", "style", "negativeTags", "callBackUrl"} & body.keys()


def test_lyrics_over_the_models_limit_are_refused_before_calling(server, suno):
    with pytest.raises(ProviderRejected):
        suno.submit(MusicRequest(prompt="x", title="t", style="pop", lyrics="啦" * 5001))
    assert not [entry for entry, _ in server.log if entry.path.startswith("/api/v1/generate")]


@pytest.mark.parametrize("status", ["PENDING", "TEXT_SUCCESS", "FIRST_SUCCESS"])
def test_poll_while_the_gateway_works_is_pending(server, suno, status):
    tracks = [clip(server, 1, audio=False)] if status != "PENDING" else []
    server.expect_request("/api/v1/generate/record-info", query_string={"taskId": "task-1"}).respond_with_json(
        record(status, tracks=tracks)
    )
    poll = suno.poll("task-1")
    assert poll.state == TaskState.PENDING and poll.result is None and poll.upstream_status == status


def test_poll_on_success_gives_both_tracks_as_remote_files_that_can_be_fetched(server, suno):
    server.expect_request("/api/v1/generate/record-info").respond_with_json(
        record("SUCCESS", tracks=[clip(server, 1), clip(server, 2)])
    )
    server.expect_request("/files/clip-1.mp3").respond_with_data(b"ID3-mp3-bytes", content_type="audio/mpeg")
    poll = suno.poll("task-1")
    assert poll.state == TaskState.COMPLETED and poll.error is None
    first, second = poll.result.tracks
    assert first.provider_track_id == "clip-1" and second.provider_track_id == "clip-2"
    assert first.title == "夏天" and first.duration == 198.44 and first.lyrics == "[Verse]\n夏天的风"
    assert first.audio.is_remote and first.audio.url.endswith("/files/clip-1.mp3")
    assert first.audio.content_type == "audio/mpeg" and first.audio_hq is None
    assert first.cover.content_type == "image/jpeg" and first.cover.extension == "jpeg"
    assert poll.raw["data"]["status"] == "SUCCESS"
    assert fetch_asset(poll.result.track.audio, max_bytes=1000, timeout=2) == b"ID3-mp3-bytes"


def test_an_instrumental_success_has_no_lyrics(server, suno):
    server.expect_request("/api/v1/generate/record-info").respond_with_json(
        record("SUCCESS", tracks=[clip(server, 1)], instrumental=True)
    )
    assert suno.poll("task-1").result.track.lyrics is None


def test_a_slow_task_goes_from_pending_to_completed_over_successive_polls(server, suno):
    for status, tracks in (
        ("PENDING", []),
        ("TEXT_SUCCESS", [clip(server, 1, audio=False)]),
        ("FIRST_SUCCESS", [clip(server, 1), clip(server, 2, audio=False)]),
        ("SUCCESS", [clip(server, 1), clip(server, 2)]),
    ):
        server.expect_ordered_request("/api/v1/generate/record-info").respond_with_json(record(status, tracks=tracks))
    states = [suno.poll("task-1").state for _ in range(4)]
    assert states == [TaskState.PENDING] * 3 + [TaskState.COMPLETED]
    server.check_assertions()


def test_failed_tasks_are_permanent_failures_that_say_why(server, suno):
    server.expect_ordered_request("/api/v1/generate/record-info").respond_with_json(
        record("GENERATE_AUDIO_FAILED", error_message="Song Description contained artist name")
    )
    server.expect_ordered_request("/api/v1/generate/record-info").respond_with_json(
        record("SENSITIVE_WORD_ERROR", error_message="contains sensitive words")
    )
    server.expect_ordered_request("/api/v1/generate/record-info").respond_with_json(record("CREATE_TASK_FAILED"))
    audio_failed, sensitive, create_failed = (suno.poll("task-1") for _ in range(3))
    assert audio_failed.state == TaskState.FAILED and audio_failed.retryable is False
    assert "artist name" in audio_failed.error_message and "音乐生成失败" in audio_failed.error_message
    assert audio_failed.error.message.en.startswith("Music generation failed: Song Description")
    assert sensitive.state == TaskState.FAILED and "敏感词" in sensitive.error_message
    assert create_failed.state == TaskState.FAILED and create_failed.error_message == "音乐生成失败，请重试"


def test_a_callback_exception_with_audio_is_a_success_without_it_a_failure(server, suno):
    server.expect_ordered_request("/api/v1/generate/record-info").respond_with_json(
        record("CALLBACK_EXCEPTION", tracks=[clip(server, 1)])
    )
    server.expect_ordered_request("/api/v1/generate/record-info").respond_with_json(record("CALLBACK_EXCEPTION"))
    assert suno.poll("task-1").state == TaskState.COMPLETED
    assert suno.poll("task-1").state == TaskState.FAILED


def test_callbacks_only_name_the_task(suno):
    complete = {
        "code": 200,
        "msg": "All generated successfully.",
        "data": {"callbackType": "complete", "task_id": "2fac9f72", "data": [{"id": "x", "audio_url": "https://x"}]},
    }
    failure = {"code": 501, "msg": "Audio generation failed", "data": {"callbackType": "error", "task_id": "2fac9f72"}}
    assert suno.parse_callback(complete) == "2fac9f72"
    assert suno.parse_callback(failure) == "2fac9f72"
    assert suno.parse_callback(json.dumps(complete).encode()) == "2fac9f72"
    for junk in ({}, {"data": None}, {"data": {"task_id": 5}}, b"<html>", "[]", None, {"data": {"task_id": ""}}):
        assert suno.parse_callback(junk) is None


@pytest.mark.parametrize(
    ("http_status", "code", "error", "retryable"),
    [
        (401, 401, ProviderRejected, False),
        (200, 401, ProviderRejected, False),
        (200, 413, ProviderRejected, False),
        (200, 429, ProviderOutOfCredits, False),
        (200, 430, ProviderUnavailable, True),
        (430, 430, ProviderUnavailable, True),
        (200, 455, ProviderUnavailable, True),
        (500, 500, ProviderUnavailable, True),
        (200, 500, ProviderUnavailable, True),
        (400, 400, ProviderRejected, False),
    ],
)
def test_gateway_errors_map_to_permanent_or_retryable(server, suno, http_status, code, error, retryable):
    server.expect_request("/api/v1/generate").respond_with_json(
        {"code": code, "msg": "nope", "data": None}, status=http_status
    )
    with pytest.raises(error) as caught:
        suno.submit(MusicRequest(prompt="一首歌"))
    assert caught.value.retryable is retryable
    assert caught.value.user_message and "nope" in caught.value.detail
    if code in (401, 429):
        assert caught.value.alert is True
    if code == 430:
        assert caught.value.retry_after == 10.0


def test_a_retry_after_header_is_passed_on(server, suno):
    server.expect_request("/api/v1/generate/record-info").respond_with_json(
        {"code": 455, "msg": "maintenance", "data": None}, headers={"Retry-After": "120"}
    )
    with pytest.raises(ProviderUnavailable) as caught:
        suno.poll("task-1")
    assert caught.value.retry_after == 120.0


def test_a_proxy_error_page_or_an_answer_without_task_id_is_retryable(server, suno):
    server.expect_ordered_request("/api/v1/generate").respond_with_data("<html>Bad gateway</html>", status=502)
    server.expect_ordered_request("/api/v1/generate").respond_with_data("<html>ok?</html>", status=200)
    server.expect_ordered_request("/api/v1/generate").respond_with_json(ok({}))
    for _ in range(3):
        with pytest.raises(ProviderUnavailable):
            suno.submit(MusicRequest(prompt="一首歌"))


def test_a_gateway_that_does_not_answer_in_time_is_a_timeout(server):
    def slow(request):
        time.sleep(1.5)
        return Response(json.dumps(ok({"taskId": "late"})), content_type="application/json")

    server.expect_request("/api/v1/generate").respond_with_handler(slow)
    suno = SunoProvider(base_url=server.url_for(""), api_key=KEY, timeout=0.5)
    with pytest.raises(ProviderTimeout) as caught:
        suno.submit(MusicRequest(prompt="一首歌"))
    assert caught.value.retryable is True


def test_an_unreachable_gateway_is_retryable():
    suno = SunoProvider(base_url=closed_port_url(), api_key=KEY, timeout=1.0)
    with pytest.raises(ProviderUnavailable):
        suno.poll("task-1")


def test_settings_select_the_gateway_and_credits_can_be_read(server, settings):
    settings.MUSIC_PROVIDER, settings.SUNO_API_BASE, settings.SUNO_API_KEY = "suno", server.url_for(""), KEY
    server.expect_request("/api/v1/generate/credit", headers={"Authorization": f"Bearer {KEY}"}).respond_with_json(
        ok(42)
    )
    provider = get_music_provider()
    assert provider.name == "suno" and provider.credits() == 42
