"""Thin Celery entry points of works; the logic is in `services.py`."""

import logging

from celery import shared_task
from django.conf import settings

from tunee import queues

from . import services

logger = logging.getLogger(__name__)

QUEUE = queues.FILES  # services enqueue with apply_async(queue=QUEUE); the task's own follow-ups keep it


@shared_task(name="works.process", acks_late=True, ignore_result=True)
def work_process(work_id: str, checks: int = 0) -> None:
    """Thumbnail, start the song, show what its pipeline read in the photo (services.work_process; idempotent).

    Describing the photo, with its retries and fallback, is the generation pipeline's: until it has described the
    photo this job looks again, a little later each time (at the pipeline's poll intervals; the generation
    finishes within GENERATION_TIMEOUT, which bounds the checks). Anything that breaks before the song started
    fails and refunds it (services.work_abandon) rather than leaving the user waiting for the sweeper.
    """
    try:
        done = services.work_process(work_id=work_id)
    except Exception:
        logger.exception("work %s: processing failed", work_id)
        services.work_abandon(work_id=work_id)
        raise
    if not done:
        countdown = min(
            settings.GENERATION_POLL_MAX_INTERVAL, settings.GENERATION_POLL_INTERVAL * 1.5 ** min(checks, 20)
        )
        work_process.apply_async(args=[work_id, checks + 1], queue=QUEUE, countdown=countdown)
