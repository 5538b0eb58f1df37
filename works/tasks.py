"""Thin Celery entry points of works; the logic is in `services.py`."""

import logging
import random

from celery import shared_task
from django.conf import settings

from generation.providers import ProviderError

from . import services

logger = logging.getLogger(__name__)

QUEUE = "default"  # services enqueue with apply_async(queue=QUEUE); retries keep it


def _backoff(retries: int, retry_after: float | None) -> float:
    delay = settings.WORKS_VISION_RETRY_BACKOFF * 2**retries
    delay += random.uniform(0, delay / 2)  # jitter: retries of many works do not arrive together
    return max(delay, retry_after or 0)


@shared_task(name="works.process", bind=True, acks_late=True, max_retries=None)
def work_process(self, work_id: str) -> None:
    """Thumbnail, describe the photo, fill the blanks, start the song. Idempotent (see services.work_process).

    A transient vision error is retried with backoff up to WORKS_VISION_MAX_RETRIES times; a permanent one, or
    the last retry failing, starts the song from the offline reading of the pixels. Anything else that breaks (the
    database or the storage hiccups) is retried the same way, and after the last retry the generation fails and
    is refunded rather than left pending."""
    retries = self.request.retries
    try:
        services.work_process(work_id=work_id)
        return
    except ProviderError as exc:
        if exc.retryable and retries < settings.WORKS_VISION_MAX_RETRIES:
            logger.info("work %s: vision provider failed (%r), retrying", work_id, exc)
            raise self.retry(countdown=_backoff(retries, exc.retry_after), exc=exc) from exc
        logger.warning("work %s: making the song without the vision provider (%r)", work_id, exc)
    except Exception as exc:
        _retry_or_abandon(self, work_id, exc)
    try:
        services.work_process(work_id=work_id, describe=False)
    except Exception as exc:
        _retry_or_abandon(self, work_id, exc)


def _retry_or_abandon(task, work_id: str, exc: Exception) -> None:
    if task.request.retries < settings.WORKS_VISION_MAX_RETRIES:
        logger.warning("work %s: processing failed (%r), retrying", work_id, exc)
        raise task.retry(countdown=_backoff(task.request.retries, None), exc=exc) from exc
    logger.exception("work %s: processing failed for good", work_id)
    services.work_abandon(work_id=work_id)
    raise exc
