"""The pipeline step by step, jobs delivered by hand: completion with our own files, duplicates, crashes, timeouts,
the sweeper, permanent and transient provider failures (the local providers and a fake Suno gateway), photos,
callbacks, the works app's services, staff actions. The same with a real worker: test_pipeline_worker.py."""

import io
import re
from datetime import timedelta

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone
from mutagen.mp3 import MP3
from PIL import Image

from generation import pipeline, services, tasks
from generation.models import Generation
from generation.providers.imagestats import NOT_AN_IMAGE
from membership.models import PointsEntry
from membership.selectors import quota_status
from membership.services import points_credit, quota_consume

from .stored import name_of, stored_files

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_pipeline")]


@pytest.fixture
def broker(monkeypatch):
    """Jobs sent to the broker, as (generation id, queue, countdown), delivered by `drain`."""
    sent = []
    monkeypatch.setattr(
        tasks.generation_run,
        "apply_async",
        lambda args, queue, countdown=None: sent.append((args[0], queue, countdown)),
    )
    return sent


def drain(broker, limit: int = 50) -> list[str]:
    """Deliver the jobs in the order they were sent (and those they send), as one worker would; their outcomes."""
    outcomes = []
    for _ in range(limit):
        if not broker:
            return outcomes
        generation_id, _queue, _countdown = broker.pop(0)
        outcomes.append(tasks.generation_run(generation_id))
    raise AssertionError(f"still sending jobs after {limit}: {outcomes[-5:]}")


def create(user, capture, **kwargs) -> Generation:
    kwargs.setdefault("prompt", "雨后的城市，轻快的钢琴")
    kwargs.setdefault("duration", 10)
    with capture(execute=True):
        return services.generation_create(user=user, **kwargs)


def stored_names(generation) -> list[str]:
    return stored_files(generation.pk)


def crash_after_claim(generation) -> None:
    """What a worker killed right after its claim leaves behind: processing, its lease held, nothing else."""
    now = timezone.now()
    Generation.objects.filter(pk=generation.pk, status="pending").update(
        status="processing", started_at=now, attempts=1, locked_until=now + timedelta(seconds=pipeline.lease_seconds())
    )


# --- the happy path -------------------------------------------------------------------------------------------


def test_a_generation_completes_with_its_audio_and_a_cover_in_our_storage(
    user, broker, django_capture_on_commit_callbacks, auth_api
):
    generation = create(user, django_capture_on_commit_callbacks, style="pop", mood="happy")
    assert broker == [(str(generation.pk), "generation", None)]

    assert drain(broker) == ["completed"]

    generation.refresh_from_db()
    assert generation.status == "completed"
    assert (generation.provider, generation.attempts, generation.retries) == ("local", 1, 0)
    assert generation.provider_task_id.startswith("local-")
    assert generation.provider_response["submit"]["composition"]
    assert generation.started_at <= generation.completed_at
    assert generation.charge.refunded_at is None
    # a free user's song: no 320 kbps file is made (nobody could download it); the standard one stands for it
    assert stored_names(generation) == ["audio.mp3", "cover.jpg"]
    assert generation.audio_hq.name == generation.audio.name
    with default_storage.open(generation.audio.name) as audio:
        standard = MP3(io.BytesIO(audio.read()))
    assert abs(standard.info.length - 10) <= 1 and standard.info.bitrate == 128000
    assert generation.result_title and generation.result_duration == 10.0

    result = auth_api.get(f"/api/generation/{generation.pk}").json()["data"]["result"]
    assert result["audioUrl"] == f"http://testserver/media/{generation.audio.name}"
    assert result["coverUrl"] == f"http://testserver/media/{generation.cover.name}"
    assert re.fullmatch(rf"generations/{generation.pk}/audio-[0-9a-f]{{32}}\.mp3", generation.audio.name)
    assert re.fullmatch(rf"generations/{generation.pk}/cover-[0-9a-f]{{32}}\.jpg", generation.cover.name)
    assert result["hqAudioUrl"] is None  # free user


def test_members_run_on_the_priority_queue_and_get_both_qualities(
    member, api, broker, django_capture_on_commit_callbacks
):
    generation = create(member, django_capture_on_commit_callbacks)
    assert broker[0][1] == "generation_priority"

    drain(broker)

    generation.refresh_from_db()
    assert stored_names(generation) == ["audio-hq.mp3", "audio.mp3", "cover.jpg"]
    with default_storage.open(generation.audio.name) as audio:
        standard = MP3(io.BytesIO(audio.read()))
    with default_storage.open(generation.audio_hq.name) as audio:
        hq = MP3(io.BytesIO(audio.read()))
    assert abs(standard.info.length - 10) <= 1 and abs(hq.info.length - 10) <= 1
    assert (standard.info.bitrate, hq.info.bitrate) == (128000, 320000)
    api.force_authenticate(member)
    result = api.get(f"/api/generation/{generation.pk}").json()["data"]["result"]
    assert result["hqAudioUrl"].startswith("http://testserver/media-signed/")  # expires; its file is private
    assert name_of(result["hqAudioUrl"]) == generation.audio_hq.name
    assert result["audioUrl"] != result["hqAudioUrl"]


def test_the_same_request_renders_the_same_song_for_a_retry_but_not_for_another_generation(
    user, broker, django_capture_on_commit_callbacks
):
    first = create(user, django_capture_on_commit_callbacks, prompt="同一句话")
    second = create(user, django_capture_on_commit_callbacks, prompt="同一句话")
    drain(broker)

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.provider_task_id != second.provider_task_id  # seeded with the generation id
    song, task_id = _read(first.audio.name), first.provider_task_id
    assert song != _read(second.audio.name)

    # What a retry that resubmits leaves behind (pipeline._retry after a lost task): processing, no task upstream.
    Generation.objects.filter(pk=first.pk).update(
        status="processing", provider_task_id="", locked_until=None, next_check_at=None
    )
    assert tasks.generation_run(str(first.pk)) == "completed"

    first.refresh_from_db()
    assert first.provider_task_id == task_id
    assert _read(first.audio.name) == song  # the same song, byte for byte


def _read(name: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
        return handle.read()


# --- duplicates, crashes, timeouts, the sweeper ---------------------------------------------------------------


def test_a_job_delivered_twice_runs_once(user, broker, django_capture_on_commit_callbacks):
    generation = create(user, django_capture_on_commit_callbacks)
    job = broker[0]
    broker.append(job)

    assert drain(broker) == ["completed", "skipped"]
    generation.refresh_from_db()
    assert generation.attempts == 1
    assert stored_names(generation) == ["audio.mp3", "cover.jpg"]


def test_a_duplicate_arriving_while_a_worker_holds_the_generation_does_nothing(
    user, broker, django_capture_on_commit_callbacks
):
    generation = create(user, django_capture_on_commit_callbacks)
    crash_after_claim(generation)  # another worker is on it (or died on it: same thing until its lease ends)

    assert drain(broker) == ["skipped"]
    generation.refresh_from_db()
    assert (generation.status, generation.attempts) == ("processing", 1)


def test_a_worker_killed_mid_job_is_resumed_by_the_sweeper_once_its_lease_ends(
    user, broker, django_capture_on_commit_callbacks
):
    generation = create(user, django_capture_on_commit_callbacks)
    crash_after_claim(generation)
    assert drain(broker) == ["skipped"]  # acks_late redelivered the job at once: the dead worker's lease holds
    assert services.generations_sweep().requeued == []  # too early to call the job lost

    with time_machine.travel(timezone.now() + timedelta(seconds=pipeline.lease_seconds() + 1)):
        report = services.generations_sweep()
        assert report.requeued == [str(generation.pk)] and report.failed == []
        assert drain(broker) == ["completed"]

    generation.refresh_from_db()
    assert (generation.status, generation.attempts) == ("completed", 2)
    assert generation.charge.refunded_at is None
    assert stored_names(generation) == ["audio.mp3", "cover.jpg"]


def test_a_worker_killed_mid_job_past_the_timeout_is_failed_and_refunded_once(
    user, broker, django_capture_on_commit_callbacks
):
    generation = create(user, django_capture_on_commit_callbacks)
    crash_after_claim(generation)
    assert quota_status(user=user).used == 1

    with time_machine.travel(timezone.now() + timedelta(seconds=601)):
        assert services.generations_sweep().failed == [str(generation.pk)]
        assert services.generations_sweep().failed == []
        assert drain(broker) == ["skipped"]  # the redelivered job comes too late

    generation.refresh_from_db()
    assert generation.status == "failed"
    assert generation.error_message == "生成超时，本次消耗已退还"
    assert generation.charge.refunded_at is not None
    assert quota_status(user=user).used == 0


def test_a_job_running_past_the_timeout_fails_and_refunds_points_once(
    user, broker, django_capture_on_commit_callbacks, auth_api
):
    points_credit(user=user, amount=10, reason=PointsEntry.Reason.PURCHASE)
    for _ in range(3):
        quota_consume(user=user)
    generation = create(user, django_capture_on_commit_callbacks)
    assert generation.charge.kind == "points"

    with time_machine.travel(timezone.now() + timedelta(seconds=601)):
        assert drain(broker) == ["failed"]
        services.generations_sweep()
        assert services.generation_fail(generation=generation, message="again") is False

    assert PointsEntry.objects.filter(user=user, reason="generation_refund").count() == 1
    assert quota_status(user=user).points == 10
    data = auth_api.get(f"/api/generation/{generation.pk}").json()["data"]
    assert (data["status"], data["errorMessage"], data["result"]) == ("failed", "生成超时，本次消耗已退还", None)
    english = auth_api.get(f"/api/generation/{generation.pk}", HTTP_ACCEPT_LANGUAGE="en").json()["data"]
    assert english["errorMessage"] == "The generation timed out; what it cost has been refunded"


def test_the_sweeper_command_lists_then_fails_stuck_generations(user, broker, django_capture_on_commit_callbacks):
    waiting = create(user, django_capture_on_commit_callbacks, enqueue=False)  # never started
    stuck = create(user, django_capture_on_commit_callbacks)
    crash_after_claim(stuck)
    done = create(user, django_capture_on_commit_callbacks)
    broker.clear()
    tasks.generation_run(str(done.pk))
    assert quota_status(user=user).used == 3

    with time_machine.travel(timezone.now() + timedelta(seconds=601)):
        out = io.StringIO()
        call_command("fail_stuck_generations", "--dry-run", stdout=out)
        assert "would fail 2 generation(s)" in out.getvalue()
        assert str(waiting.pk) in out.getvalue() and str(stuck.pk) in out.getvalue()
        assert Generation.objects.filter(status="failed").count() == 0

        call_command("fail_stuck_generations", stdout=io.StringIO())
        out = io.StringIO()
        call_command("fail_stuck_generations", stdout=out)

    assert "failed and refunded 0 generation(s)" in out.getvalue()
    statuses = dict(Generation.objects.values_list("pk", "status"))
    assert statuses == {waiting.pk: "failed", stuck.pk: "failed", done.pk: "completed"}
    assert quota_status(user=user).used == 1
    assert broker == []


def test_the_beat_job_is_scheduled_and_runs_the_sweeper(settings, user, django_capture_on_commit_callbacks):
    assert settings.CELERY_BEAT_SCHEDULE["generation-sweep"]["task"] == "generation.sweep"
    generation = create(user, django_capture_on_commit_callbacks, enqueue=False)

    with time_machine.travel(timezone.now() + timedelta(seconds=601)):
        assert tasks.generation_sweep() == {"failed": 1, "requeued": 0}

    generation.refresh_from_db()
    assert generation.status == "failed"


def test_a_lost_pending_job_is_sent_again_but_an_unstarted_one_is_left_to_its_caller(
    user, broker, django_capture_on_commit_callbacks
):
    lost = create(user, django_capture_on_commit_callbacks)
    unstarted = create(user, django_capture_on_commit_callbacks, enqueue=False)
    broker.clear()  # the broker lost the job

    with time_machine.travel(timezone.now() + timedelta(minutes=3)):
        assert services.generations_sweep().requeued == [str(lost.pk)]
        assert services.generations_sweep().requeued == []  # not again at the next beat
        assert drain(broker) == ["completed"]

    unstarted.refresh_from_db()
    assert unstarted.status == "pending"


# --- failures -------------------------------------------------------------------------------------------------


def test_a_photo_that_is_not_an_image_fails_with_a_readable_reason_and_gives_the_unit_back(
    user, broker, django_capture_on_commit_callbacks, auth_api
):
    default_storage.save("works/photo.jpg", ContentFile(b"this is not a picture"))
    generation = create(user, django_capture_on_commit_callbacks, image="works/photo.jpg")
    assert quota_status(user=user).used == 1

    assert drain(broker) == ["failed"]

    data = auth_api.get(f"/api/generation/{generation.pk}").json()["data"]
    assert data["status"] == "failed" and data["errorMessage"] == NOT_AN_IMAGE.zh
    assert quota_status(user=user).used == 0
    generation.refresh_from_db()
    assert "undecodable" in generation.error_detail and generation.retries == 0


def test_a_missing_photo_fails_at_once(user, broker, django_capture_on_commit_callbacks):
    generation = create(user, django_capture_on_commit_callbacks, image="works/gone.jpg")

    assert drain(broker) == ["failed"]
    generation.refresh_from_db()
    assert generation.error_message == pipeline.PHOTO_UNREADABLE.zh


def test_a_rejected_song_fails_with_the_gateways_reason_and_is_refunded(
    suno, user, broker, django_capture_on_commit_callbacks, auth_api
):
    suno.statuses = ("PENDING", "SENSITIVE_WORD_ERROR")
    generation = create(user, django_capture_on_commit_callbacks)

    assert drain(broker) == ["waiting", "waiting", "failed"]

    data = auth_api.get(f"/api/generation/{generation.pk}").json()["data"]
    assert data["status"] == "failed" and data["errorMessage"]
    assert quota_status(user=user).used == 0
    generation.refresh_from_db()
    assert generation.provider_response["poll"]["status"] == "SENSITIVE_WORD_ERROR"
    assert len(suno.submits) == 1


def test_out_of_credits_upstream_fails_at_once_without_retrying(suno, user, broker, django_capture_on_commit_callbacks):
    suno.submit_errors = [(200, 429)]
    generation = create(user, django_capture_on_commit_callbacks)

    assert drain(broker) == ["failed"]
    generation.refresh_from_db()
    assert generation.retries == 0 and generation.charge.refunded_at is not None
    assert generation.error_message_en == "The music service is out of capacity, please try again later"


def test_transient_gateway_errors_are_retried_with_backoff_then_the_song_completes(
    suno, user, broker, django_capture_on_commit_callbacks, song_files
):
    suno.submit_errors = [(503, 503), (500, 500)]
    suno.poll_errors = [(503, 503)]
    generation = create(user, django_capture_on_commit_callbacks)

    outcomes = drain(broker)

    assert outcomes[:2] == ["retrying", "retrying"] and outcomes[-1] == "completed"
    assert "retrying" in outcomes[3:]  # the failed poll
    generation.refresh_from_db()
    assert generation.retries == 3 and len(suno.submits) == 1
    with default_storage.open(generation.audio.name) as audio:
        assert audio.read() == song_files[0]


def test_the_backoff_grows_and_respects_retry_after(suno, settings, user, broker, django_capture_on_commit_callbacks):
    settings.GENERATION_RETRY_BACKOFF = 1.0
    suno.submit_errors = [(503, 503), (503, 503), (200, 430)]
    create(user, django_capture_on_commit_callbacks)
    broker.pop(0)

    delays = []
    for _ in range(3):
        generation_id = str(Generation.objects.get().pk)
        Generation.objects.update(next_check_at=None)  # deliver each retry now, whatever its ETA
        tasks.generation_run(generation_id)
        delays.append(broker.pop(0)[2])

    assert 1.0 <= delays[0] <= 1.25 and 2.0 <= delays[1] <= 2.5
    assert delays[2] >= 10.0  # the gateway's "too frequent" asks for 10 s, more than the backoff's 4 s


def test_transient_errors_are_retried_a_finite_number_of_times(suno, user, broker, django_capture_on_commit_callbacks):
    suno.submit_errors = [(503, 503)] * 10
    generation = create(user, django_capture_on_commit_callbacks)

    assert drain(broker) == ["retrying", "retrying", "retrying", "failed"]
    generation.refresh_from_db()
    assert generation.status == "failed" and generation.retries == 3
    assert "gave up after 3 retries" in generation.error_detail
    assert generation.error_message == "音乐服务暂时不可用，请稍后重试"
    assert quota_status(user=user).used == 0


# --- suno: slow completion, callbacks -------------------------------------------------------------------------


def test_a_slow_suno_task_is_polled_until_success_and_its_files_are_copied(
    suno, user, broker, django_capture_on_commit_callbacks, song_files, auth_api
):
    generation = create(user, django_capture_on_commit_callbacks, title="雨后", style="pop")

    assert drain(broker) == ["waiting", "waiting", "waiting", "waiting", "completed"]

    generation.refresh_from_db()
    assert (generation.provider, generation.provider_task_id) == ("suno", "task-1")
    assert suno.polls["task-1"] == 4
    assert generation.audio_hq.name == generation.audio.name  # one quality upstream: served as both
    with default_storage.open(generation.cover.name) as cover:
        assert cover.read() == song_files[1]
    assert (generation.result_title, generation.result_duration) == ("雨后 1", 10.0)
    assert generation.lyrics.startswith("[Verse]")
    result = auth_api.get(f"/api/generation/{generation.pk}").json()["data"]["result"]
    assert result["audioUrl"].startswith("http://testserver/media/generations/")
    assert "127.0.0.1" not in str(result)
    body = suno.submits[0]
    assert body["callBackUrl"] == (
        f"http://testserver/api/generation/callback/suno?token={services.callback_token(generation)}"
    )
    assert (body["customMode"], body["title"], body["style"]) == (True, "雨后", "pop")


def callback(api, gateway, task_id: str, token: str, **extra):
    return api.post(
        f"/api/generation/callback/suno?token={token}", gateway.callback_body(task_id), format="json", **extra
    )


def deliver(broker, index: int = 0) -> str:
    """Deliver one job now (a job scheduled for later, or the newest one)."""
    return tasks.generation_run(broker.pop(index)[0])


def test_a_callback_only_triggers_a_confirming_poll(
    suno, settings, api, user, broker, django_capture_on_commit_callbacks
):
    settings.GENERATION_POLL_INTERVAL = settings.GENERATION_POLL_MAX_INTERVAL = 30
    suno.statuses = ("PENDING", "SUCCESS")
    generation = create(user, django_capture_on_commit_callbacks)
    assert deliver(broker) == "waiting"  # submitted
    assert len(broker) == 1  # the next poll, 30 s from now
    token = services.callback_token(generation)

    response = callback(api, suno, "task-1", token, HTTP_AUTHORIZATION="Bearer rubbish")

    assert response.status_code == 200
    assert response.json()["code"] == 0 and response.json()["data"] == {"accepted": True}
    assert len(broker) == 2 and broker[-1][2] is None  # a poll now
    assert callback(api, suno, "task-1", token).json()["data"] == {"accepted": True}
    assert len(broker) == 2  # a poll is due already: no second one
    assert deliver(broker, -1) == "waiting"  # upstream still working: the callback changed nothing
    assert suno.polls["task-1"] == 1

    callback(api, suno, "task-1", token)
    assert deliver(broker, -1) == "completed"
    assert drain(broker) == ["skipped", "skipped"]  # the polls scheduled earlier find it done
    generation.refresh_from_db()
    with default_storage.open(generation.audio.name) as audio:
        assert audio.read().startswith(b"ID3")  # the gateway's file, never the URL the callback named


def test_callbacks_that_name_no_waiting_generation_are_acknowledged_and_ignored(
    suno, api, user, broker, django_capture_on_commit_callbacks
):
    generation = create(user, django_capture_on_commit_callbacks)
    deliver(broker)
    broker.clear()

    unknown = callback(api, suno, "task-404", services.callback_token(generation))
    forged = callback(api, suno, "task-1", "forged-token")
    garbage = api.post("/api/generation/callback/suno", {"hello": "world"}, format="json")

    for response in (unknown, forged, garbage):
        assert response.status_code == 200
        assert response.json()["data"] == {"accepted": False}
        assert response.json()["message"] == "已收到：未知的任务"
    assert broker == []


def test_a_malformed_callback_is_400_and_an_unknown_provider_404(suno, api):
    response = api.post("/api/generation/callback/suno", "{not json", content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == 400

    response = api.post("/api/generation/callback/other", {}, format="json")
    assert response.status_code == 404 and response.json()["code"] == 404


# --- photos and the works app's services ----------------------------------------------------------------------


def photo(name: str = "works/sunset.png") -> str:
    image = Image.new("RGB", (64, 48), (240, 140, 40))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return default_storage.save(name, ContentFile(buffer.getvalue()))


def test_a_photo_is_described_and_fills_what_the_user_left_blank(user, broker, django_capture_on_commit_callbacks):
    generation = create(user, django_capture_on_commit_callbacks, prompt="", style="rock", image=photo())

    assert drain(broker) == ["completed"]

    generation.refresh_from_db()
    analysis = generation.image_analysis
    assert analysis["description"] and analysis["palette"]
    assert generation.style == "rock"  # what the user chose wins
    assert generation.mood == analysis["mood"] and generation.title == analysis["title"]
    assert generation.tags == analysis["tags"]


def test_a_generation_created_without_its_job_waits_for_generation_start(
    user, broker, django_capture_on_commit_callbacks
):
    generation = create(user, django_capture_on_commit_callbacks, prompt="", image=photo(), enqueue=False)
    assert broker == [] and generation.status == "pending" and generation.charge is not None

    with django_capture_on_commit_callbacks(execute=True):
        services.generation_start(generation=generation)
    with django_capture_on_commit_callbacks(execute=True):
        services.generation_start(generation=generation)  # twice: harmless, still one job

    assert len(broker) == 1
    assert drain(broker) == ["completed"]  # the pipeline describes the photo and fills the blanks
    generation.refresh_from_db()
    assert generation.image_analysis["description"] and generation.image_analysis["provider"] == "local"
    assert (generation.title, generation.style, generation.mood) == (
        generation.image_analysis["title"],
        generation.image_analysis["style"],
        generation.image_analysis["mood"],
    )
    assert generation.result_title


def test_generation_start_leaves_a_failed_generation_alone(user, broker, django_capture_on_commit_callbacks):
    generation = create(user, django_capture_on_commit_callbacks, enqueue=False)
    services.generation_fail(generation=generation, message="照片处理失败")

    with django_capture_on_commit_callbacks(execute=True):
        services.generation_start(generation=generation)

    generation.refresh_from_db()
    assert generation.status == "failed" and generation.title == "" and broker == []


def test_generation_fail_refunds_once_and_never_touches_a_completed_generation(
    user, broker, django_capture_on_commit_callbacks
):
    pending = create(user, django_capture_on_commit_callbacks, enqueue=False)
    finished = create(user, django_capture_on_commit_callbacks)
    drain(broker)
    assert quota_status(user=user).used == 2

    assert services.generation_fail(generation=pending, message="照片处理失败", detail="works: bad exif") is True
    assert services.generation_fail(generation=pending, message="again") is False
    assert services.generation_fail(generation=finished, message="too late") is False

    assert (pending.status, pending.error_message, pending.error_message_en) == ("failed", "照片处理失败", "")
    finished.refresh_from_db()
    assert finished.status == "completed" and finished.charge.refunded_at is None
    assert quota_status(user=user).used == 1


# --- staff ----------------------------------------------------------------------------------------------------


def admin_action(client, action: str, *generations):
    return client.post(
        "/admin/generation/generation/",
        {"action": action, "_selected_action": [str(g.pk) for g in generations]},
        follow=True,
    )


def test_staff_retry_a_failed_generation_for_free(staff, client, user, broker, django_capture_on_commit_callbacks):
    generation = create(user, django_capture_on_commit_callbacks, image="works/gone.jpg")
    drain(broker)
    generation.refresh_from_db()
    assert generation.status == "failed" and quota_status(user=user).used == 0
    Generation.objects.filter(pk=generation.pk).update(image="")  # staff fixed what was wrong
    client.force_login(staff)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_action(client, "retry_failed", generation)

    assert "1 generation(s) queued again" in response.content.decode()
    assert drain(broker) == ["completed"]
    generation.refresh_from_db()
    assert generation.status == "completed" and generation.error_message == ""
    assert quota_status(user=user).used == 0  # not charged again
    assert services.generation_retry(generation=generation) is False


def test_staff_fail_and_refund_a_stuck_generation(staff, client, user, broker, django_capture_on_commit_callbacks):
    stuck = create(user, django_capture_on_commit_callbacks)
    crash_after_claim(stuck)
    client.force_login(staff)

    response = admin_action(client, "fail_and_refund", stuck)

    assert "1 generation(s) failed and refunded" in response.content.decode()
    stuck.refresh_from_db()
    assert stuck.status == "failed" and stuck.error_message == "生成已被取消，本次消耗已退还"
    assert quota_status(user=user).used == 0
    assert drain(broker) == ["skipped"]


def test_the_admin_lists_filters_searches_and_shows_a_generation(
    staff, client, user, broker, django_capture_on_commit_callbacks
):
    generation = create(user, django_capture_on_commit_callbacks, prompt="海边的吉他")
    drain(broker)
    client.force_login(staff)

    for query in ("", "?status__exact=completed&provider=local", "?q=海边", f"?q={generation.provider_task_id}"):
        response = client.get(f"/admin/generation/generation/{query}")
        assert response.status_code == 200 and str(generation.pk) in response.content.decode()
    page = client.get(f"/admin/generation/generation/{generation.pk}/change/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and "Run time" in page.content.decode()
    hq_link = page.content.decode().split("/media-signed/", 1)[1].split('"', 1)[0]
    assert client.get(f"/media-signed/{hq_link}").status_code == 200  # staff reach the members' file
    assert client.get("/admin/generation/generation/add/").status_code == 403
    assert client.get("/admin/generation/favorite/add/").status_code == 403
