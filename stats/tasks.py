"""Thin Celery entry point of the statistics; the logic is in `services.py`."""

import logging

from celery import shared_task

from tunee import queues

from . import services

logger = logging.getLogger(__name__)

QUEUE = queues.STATS  # beat sends it there (tunee/schedule.py); enqueue by hand with apply_async(queue=QUEUE)


@shared_task(name="stats.snapshot_yesterday", ignore_result=True)
def snapshot_yesterday() -> str:
    """Beat (daily, tunee/schedule.py, on the `stats` queue): store the business day that just ended. Idempotent:
    a second run replaces the row with the same figures."""
    snapshot, created = services.snapshot_yesterday()
    logger.info("stats snapshot of %s %s", snapshot.day, "created" if created else "updated")
    return snapshot.day.isoformat()
