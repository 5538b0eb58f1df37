import logging

from celery import shared_task

from . import retention

logger = logging.getLogger(__name__)


@shared_task(name="tunee.ping")
def ping() -> str:
    """A no-op job: `celery -A tunee call tunee.ping` (on CELERY_TASK_DEFAULT_QUEUE) checks that a worker consumes."""
    return "pong"


@shared_task(name="tunee.purge_expired", ignore_result=True)
def purge_expired() -> dict:
    """Beat (daily, tunee/schedule.py): delete what has outlived its retention (tunee/retention.py)."""
    report = retention.purge_expired()
    logger.info("%s", retention.summary(report, dry_run=False))
    return report
