"""Jobs of notifications, all on the `notifications` queue. Thin: they take ids and plain values and call a service.

`enqueue_song_finished` is what generation calls (from `transaction.on_commit`) when a generation completes or
fails; it never raises, so a broker that is down costs a notification, never the song.
"""

import logging
import random
from datetime import datetime

from celery import shared_task
from django.conf import settings
from django.utils.dateparse import parse_datetime

from tunee import queues

from .metrics import ENQUEUE_ERRORS
from .providers import ProviderUnavailable

logger = logging.getLogger(__name__)

QUEUE = queues.NOTIFICATIONS


def enqueue_song_finished(
    *, user_id, generation_id, source: str, title: str, outcome: str, finished_at: datetime
) -> None:
    """Tell the user a generation finished (`outcome` completed or failed), on every channel, once."""
    kwargs = {
        "user_id": str(user_id),
        "generation_id": str(generation_id),
        "source": source,
        "title": title or "",
        "outcome": outcome,
        "finished_at": finished_at.isoformat(),
    }
    try:
        song_finished.apply_async(kwargs=kwargs, queue=QUEUE)
    except Exception:  # the broker is down: the song is fine, the user can still poll
        ENQUEUE_ERRORS.inc()
        logger.exception("could not enqueue the notification of generation %s", generation_id)


@shared_task(name="notifications.song_finished", acks_late=True, ignore_result=True)
def song_finished(
    user_id: str, generation_id: str, source: str, title: str, outcome: str, finished_at: str
) -> list[int]:
    """Create the generation's delivery rows (once, whatever the number of duplicates) and send each one in its
    own job, so that one channel's retries do not hold back or repeat the other."""
    from .services import deliveries_create

    ids = deliveries_create(
        user_id=user_id,
        generation_id=generation_id,
        source=source,
        title=title,
        outcome=outcome,
        finished_at=parse_datetime(finished_at),
    )
    for delivery_id in ids:
        deliver.apply_async(args=[delivery_id], queue=QUEUE)
    return ids


def retry_countdown(retries: int) -> float:
    """Exponential backoff with full jitter: up to NOTIFICATIONS_RETRY_BACKOFF * 2^retries seconds (10 min cap)."""
    return random.uniform(1, min(600, settings.NOTIFICATIONS_RETRY_BACKOFF * 2**retries))


@shared_task(name="notifications.deliver", bind=True, acks_late=True, ignore_result=True, max_retries=None)
def deliver(self, delivery_id: int) -> str | None:
    """Send one delivery; transient provider errors are retried with backoff up to NOTIFICATIONS_MAX_RETRIES
    times, then the delivery is marked failed, logged and counted."""
    from .services import delivery_give_up, delivery_send

    try:
        return delivery_send(delivery_id=delivery_id)
    except ProviderUnavailable as exc:
        if self.request.retries >= settings.NOTIFICATIONS_MAX_RETRIES:
            delivery_give_up(delivery_id=delivery_id, error=str(exc))
            return "failed"
        raise self.retry(exc=exc, countdown=retry_countdown(self.request.retries)) from exc
