"""Moderation's jobs: submitting media to WeChat (after the upload commits) and the hourly housekeeping."""

from celery import shared_task

from tunee import queues

from . import services

QUEUE = queues.DEFAULT  # media submissions (services enqueue with apply_async(queue=QUEUE))


@shared_task(name="moderation.media_check_submit", acks_late=True)
def media_check_submit(check_id: int, scene: int = 4) -> None:
    services.media_check_submit(check_id=check_id, scene=scene)


@shared_task(name="moderation.purge")
def purge() -> dict:
    """Beat job: media checks without a verdict go to the staff queue; log rows past their retention go."""
    return {"expired": services.media_checks_expire(), "purged": services.verdicts_purge()}
