"""The generation pipeline: one idempotent step per Celery job, until the generation is completed or failed.

States: `pending` → `processing` → `completed` | `failed`. Each job (`tasks.generation_run`) calls
`generation_advance`, which

1. takes the generation: `pending → processing` by a conditional UPDATE (counting `attempts`, setting
   `started_at`), or, for a generation already processing, a lease (`locked_until`) taken by a conditional UPDATE
   on a free lease. A job that gets neither does nothing: a duplicate delivery, a job that arrives while another
   worker is on it, a job for a finished generation. A scheduled job that arrives before the generation's
   `next_check_at` is a stale duplicate (a newer one is scheduled) and does nothing either, so there is never more
   than one chain of polls per generation, however many callbacks or redeliveries arrive.
2. does the next thing: fail it if it is past GENERATION_TIMEOUT; describe the photo when there is one and no
   stored analysis (`_describe`: the only place a photo is described and the blanks filled from it, falling back
   to the offline reading of the pixels when the vision provider gives up); submit to the music provider
   (keeping the provider's name, task id and raw answer) unless a task is already running there; otherwise poll
   that task.
3. then either completes it (the files are copied into our storage, then `processing → completed` by a
   conditional UPDATE; a job that loses that race deletes what it wrote), schedules the next poll by enqueueing
   itself with a countdown (never sleeping in a worker), retries a transient provider error with exponential
   backoff and jitter (at least the provider's Retry-After, at most GENERATION_MAX_RETRIES times), or fails it with
   the provider's readable reason and refunds the charge (`services.generation_fail`: once, in one transaction).

A worker killed mid-job leaves its lease to expire; its redelivered job (acks_late) or the sweeper's
(`services.generations_sweep`) then carries on from the last stored state, or the sweeper fails and refunds the
generation once it is past GENERATION_TIMEOUT. A provider's callback (`services.generation_callback`) only moves
the next poll to now: its payload is never trusted.
"""

from __future__ import annotations

import logging
import mimetypes
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from moderation import services as moderation
from moderation.providers import MEDIA_AUDIO
from tunee import fetch as fetching
from tunee import metrics
from tunee.api.i18n import T
from tunee.storage import typed_content

from . import services
from .models import Generation
from .providers.base import (
    ImageAnalysis,
    MusicRequest,
    MusicResult,
    PollResult,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
    TaskState,
    fetch_asset,
    get_music_provider,
    get_vision_provider,
)
from .providers.local_vision import LocalVisionProvider

logger = logging.getLogger(__name__)

PHOTO_UNREADABLE = T("照片无法读取，请重新上传", "The photo could not be read, please upload it again")
INTERNAL_FAILURE = T("生成失败，请稍后重试", "The generation failed, please try again later")
EMPTY_AUDIO = ProviderUnavailable(detail="the provider returned an empty audio file")
# A job never arrives before its ETA; this much clock skew between machines is tolerated.
EARLY_SLACK = timedelta(seconds=2)

SKIPPED = "skipped"
WAITING = "waiting"
RETRYING = "retrying"
COMPLETED = "completed"
FAILED = "failed"


def lease_seconds() -> int:
    """How long a worker holds a generation: longer than any job may run (Celery's hard time limit)."""
    return int(settings.CELERY_TASK_TIME_LIMIT) + 30


def callback_url(provider_name: str, generation: Generation) -> str:
    """Where the provider posts its callbacks. The gateway does not sign them, so the URL carries a token signed
    for this generation: a forged callback cannot trigger polls of generations it does not know."""
    path = reverse("generation-callback", kwargs={"provider": provider_name})
    return f"{settings.PUBLIC_BASE_URL}{path}?token={services.callback_token(generation)}"


@dataclass
class _Job:
    generation: Generation
    lease: datetime
    now: datetime


def generation_advance(*, generation_id: str) -> str:
    """Take the generation and move it one step on. Returns what happened (`skipped`, `waiting`, `retrying`,
    `completed`, `failed`) for logs and tests."""
    now = timezone.now()
    lease = now + timedelta(seconds=lease_seconds())
    claimed = Generation.objects.filter(pk=generation_id, status=Generation.Status.PENDING).update(
        status=Generation.Status.PROCESSING,
        started_at=now,
        attempts=F("attempts") + 1,
        locked_until=lease,
        updated_at=now,
    )
    if claimed:
        metrics.generation_started()
    if not claimed:
        free = Generation.objects.filter(
            Q(locked_until__isnull=True) | Q(locked_until__lt=now),
            Q(next_check_at__isnull=True) | Q(next_check_at__lte=now + EARLY_SLACK),
            pk=generation_id,
            status=Generation.Status.PROCESSING,
        )
        claimed = free.update(attempts=F("attempts") + 1, locked_until=lease, updated_at=now)
    if not claimed:
        return SKIPPED
    job = _Job(generation=Generation.objects.select_related("charge").get(pk=generation_id), lease=lease, now=now)
    try:
        outcome = _step(job)
    finally:  # whatever happened, let the next job in (a no-op when the step already released or finished it)
        Generation.objects.filter(pk=generation_id, locked_until=lease).update(locked_until=None)
    logger.info("generation %s: %s (attempt %s)", generation_id, outcome, job.generation.attempts)
    return outcome


def _deadline(generation: Generation) -> datetime:
    return generation.queued_at + timedelta(seconds=settings.GENERATION_TIMEOUT)


def _step(job: _Job) -> str:
    generation = job.generation
    if job.now >= _deadline(generation):
        services.generation_fail(
            generation=generation,
            message=services.TIMED_OUT,
            detail=f"past GENERATION_TIMEOUT ({settings.GENERATION_TIMEOUT} s) at attempt {generation.attempts}",
        )
        return FAILED
    resubmit = False
    try:
        if generation.image and not generation.image_analysis:
            _describe(generation)
        provider = get_music_provider()
        if not generation.provider_task_id or generation.provider != provider.name:
            submission = provider.submit(_music_request(generation, provider.name))
            _save(
                generation,
                provider=provider.name,
                provider_task_id=submission.task_id[:200],
                provider_response={"submit": submission.raw},
            )
            if submission.result is None:
                return _wait(job)
            return _complete(job, submission.result)
        poll = provider.poll(generation.provider_task_id)
        _record_poll(generation, poll)
        if poll.state == TaskState.PENDING:
            return _wait(job)
        if poll.state == TaskState.COMPLETED:
            return _complete(job, poll.result)
        resubmit = True  # the upstream task failed: a retry starts a new one
        raise poll.error
    except ProviderError as error:
        if error.alert:
            logger.error("generation %s: provider needs an operator: %r", generation.pk, error)
        if error.retryable:
            return _retry(job, error, resubmit=resubmit)
        services.generation_fail(generation=generation, message=error.message, detail=_detail(error))
        return FAILED
    except Exception as exc:  # a bug, a storage hiccup, the soft time limit: retried like a transient error
        logger.exception("generation %s: step failed", generation.pk)
        error = ProviderUnavailable(INTERNAL_FAILURE, detail=f"{type(exc).__name__}: {exc}")
        return _retry(job, error, resubmit=resubmit)


def _detail(error: ProviderError) -> str:
    return f"{type(error).__name__}: {error.detail or error.message.en}"


def _save(generation: Generation, **fields) -> None:
    """Write fields of a processing generation (never of one that finished meanwhile)."""
    fields["updated_at"] = timezone.now()
    Generation.objects.filter(pk=generation.pk, status=Generation.Status.PROCESSING).update(**fields)
    for name, value in fields.items():
        setattr(generation, name, value)


def _describe(generation: Generation) -> None:
    """Describe the photo, keep the analysis and fill the blank title/style/mood/tags from it — the one place a
    photo is described, for works and any other generation with a photo.

    The configured vision provider is asked first. A transient error of its is raised for the pipeline's retry
    (backoff, GENERATION_MAX_RETRIES, the same budget as the music provider's); once it gives up for good (a
    permanent error, or the last retry failing) the offline reading of the pixels stands in, so that the song is
    still made. Only a photo that even the offline provider cannot read fails the generation.
    """
    if not default_storage.exists(generation.image):
        raise ProviderRejected(PHOTO_UNREADABLE, detail=f"no file {generation.image!r} in storage")
    with default_storage.open(generation.image, "rb") as photo:
        data = photo.read()
    content_type = mimetypes.guess_type(generation.image)[0] or ""
    provider = get_vision_provider()
    source = provider.name
    error: ProviderError | None = None
    try:
        analysis = provider.describe(data, content_type)
    except ProviderError as exc:
        error = exc
    except Exception as exc:  # a bug in a client: treated like a hiccup upstream
        logger.exception("generation %s: vision %s failed unexpectedly", generation.pk, source)
        error = ProviderUnavailable(detail=f"{type(exc).__name__}: {exc}")
    if error is not None:
        if (
            error.retryable and generation.retries < settings.GENERATION_MAX_RETRIES
        ) or source == LocalVisionProvider.name:
            raise error  # the pipeline retries it; or the offline reading itself failed: nothing can stand in
        logger.warning("generation %s: vision %s gave up (%r), reading the pixels", generation.pk, source, error)
        analysis = LocalVisionProvider().describe(data, content_type)  # ProviderRejected: not an image after all
        source = LocalVisionProvider.name
    changed = services.fill_from_analysis(generation, {**analysis.to_dict(), "provider": source})
    _save(generation, **{name: getattr(generation, name) for name in changed})


def _music_request(generation: Generation, provider_name: str) -> MusicRequest:
    options = generation.options or {}
    lyrics = options.get("lyrics") if isinstance(options.get("lyrics"), str) else None
    return MusicRequest(
        prompt=generation.prompt,
        style=generation.style,
        mood=generation.mood,
        duration=generation.duration,
        title=generation.title,
        tags=tuple(generation.tags or ()),
        negative_tags=", ".join(generation.negative_tags or ()),
        instrumental=bool(options.get("instrumental", False)),
        lyrics=lyrics or None,
        image=ImageAnalysis.from_dict(generation.image_analysis) if generation.image_analysis else None,
        seed=str(generation.pk),
        callback_url=callback_url(provider_name, generation),
        high_quality=generation.priority,  # a member's song (members get the high-quality download)
    )


def _record_poll(generation: Generation, poll: PollResult) -> None:
    response = dict(generation.provider_response or {})
    response["poll"] = {"status": poll.upstream_status or str(poll.state), "raw": poll.raw}
    _save(generation, provider_response=response)


def _schedule(job: _Job, countdown: float, **fields) -> None:
    """Release the generation and enqueue the next job `countdown` seconds from now (never past the deadline,
    so that a generation out of time fails promptly)."""
    from .tasks import enqueue_generation

    generation = job.generation
    countdown = max(0.0, min(countdown, (_deadline(generation) - job.now).total_seconds() + 1))
    next_check_at = timezone.now() + timedelta(seconds=countdown)
    released = Generation.objects.filter(
        pk=generation.pk, status=Generation.Status.PROCESSING, locked_until=job.lease
    ).update(locked_until=None, next_check_at=next_check_at, updated_at=timezone.now(), **fields)
    if released:  # else it was failed (sweeper, staff) or taken over meanwhile: that one schedules
        enqueue_generation(generation, countdown=countdown)


def _wait(job: _Job) -> str:
    """The provider is still working: poll again later, a little later each time."""
    generation = job.generation
    polls = max(0, generation.attempts - 1 - generation.retries)
    countdown = min(
        settings.GENERATION_POLL_MAX_INTERVAL, settings.GENERATION_POLL_INTERVAL * 1.5 ** min(polls, 20)
    ) * random.uniform(1.0, 1.2)
    _schedule(job, countdown)
    return WAITING


def _retry(job: _Job, error: ProviderError, *, resubmit: bool) -> str:
    generation = job.generation
    retries = generation.retries + 1
    if retries > settings.GENERATION_MAX_RETRIES:
        services.generation_fail(
            generation=generation,
            message=error.message,
            detail=f"gave up after {generation.retries} retries: {_detail(error)}",
        )
        return FAILED
    backoff = settings.GENERATION_RETRY_BACKOFF * 2 ** (retries - 1)
    countdown = max(backoff, error.retry_after or 0) * random.uniform(1.0, 1.25)
    fields = {"retries": retries, "error_detail": f"retry {retries}: {_detail(error)}"[:5000]}
    if resubmit:
        fields["provider_task_id"] = ""
    logger.warning("generation %s: %r, retry %s in %.1f s", generation.pk, error, retries, countdown)
    _schedule(job, countdown, **fields)
    return RETRYING


def _complete(job: _Job, result: MusicResult) -> str:
    """Copy the files into our storage, then `processing → completed`; a job that loses that race (the generation
    was failed or completed meanwhile) removes what it stored."""
    generation = job.generation
    track = result.track
    limits = {"max_bytes": settings.GENERATION_ASSET_MAX_BYTES, "timeout": settings.GENERATION_ASSET_TIMEOUT}
    if not track.audio.is_remote and not track.audio.data:
        raise EMPTY_AUDIO
    audio = fetch_asset(track.audio, allowed=fetching.AUDIO, **limits)
    audio_hq = fetch_asset(track.audio_hq, allowed=fetching.AUDIO, **limits) if track.audio_hq else None
    cover = None
    if track.cover:
        try:
            cover = fetch_asset(track.cover, allowed=fetching.IMAGE, **limits)
        except ProviderRejected as refused:  # a cover that is not an image, or not ours to fetch: a song without one
            logger.warning("generation %s: cover dropped: %r", generation.pk, refused)

    stored: list[str] = []

    def store(file, kind: str, data: bytes) -> None:
        # Named and typed by the bytes (fetch_asset checked they are an allowed type), never by the provider's URL;
        # upload_to gives each file its own random token (generation/models.py).
        media = fetching.sniff(data)
        file.save(f"{kind}.{media.extension}", typed_content(data, media.content_type), save=False)
        stored.append(file.name)

    try:
        store(generation.audio, "audio", audio)
        if audio_hq:
            store(generation.audio_hq, "audio", audio_hq)
        else:  # the provider makes one quality only: the high-quality download is the same file
            generation.audio_hq.name = generation.audio.name
        if cover:
            store(generation.cover, "cover", cover)
    except Exception:
        _delete(stored)
        raise

    now = timezone.now()
    response = dict(generation.provider_response or {})
    response["tracks"] = [
        {"id": t.provider_track_id, "title": t.title, "duration": t.duration, "audio": t.audio.describe()}
        for t in result.tracks
    ]
    completed = Generation.objects.filter(pk=generation.pk, status=Generation.Status.PROCESSING).update(
        status=Generation.Status.COMPLETED,
        audio=generation.audio.name,
        audio_hq=generation.audio_hq.name,
        cover=generation.cover.name or "",
        result_title=(track.title or generation.title or "")[:200],
        result_duration=float(track.duration) if track.duration else float(generation.duration),
        lyrics=track.lyrics or "",
        provider_response=response,
        error_message="",
        error_message_en="",
        completed_at=now,
        locked_until=None,
        next_check_at=None,
        updated_at=now,
    )
    if not completed:
        _delete(stored)
        return SKIPPED
    metrics.generation_ended(generation, "completed")
    _audio_screen(generation)
    title = track.title or generation.title or ""
    services.notify_finished(generation=generation, outcome=Generation.Status.COMPLETED, title=title, at=now)
    return COMPLETED


def _audio_screen(generation: Generation) -> None:
    """The finished song goes to content screening like a photo (WeChat's mediaCheckAsync; offline it passes): a
    later risky verdict takes the work it belongs to out of the feed and the share page (works registers for
    "generation" verdicts). Never undoes the completion: a failure here is logged and the song stays."""
    try:
        moderation.media_screen(
            user=generation.user,
            source=generation.source,
            field_name="audio",
            subject="generation",
            subject_id=generation.pk,
            file_name=generation.audio.name,
            media_type=MEDIA_AUDIO,
        )
    except Exception:
        logger.exception("generation %s: the song could not be sent to content screening", generation.pk)


def _delete(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:  # best effort: an orphan file is harmless
            logger.warning("could not delete %s", name, exc_info=True)
