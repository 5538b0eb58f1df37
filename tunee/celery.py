"""The Celery app: `celery -A tunee worker -Q <tunee.queues.ALL>` / `celery -A tunee beat`. Configuration lives in
settings (CELERY_*), the queue names in tunee/queues.py, the periodic jobs in tunee/schedule.py."""

import logging.config
import os

from celery import Celery, signals

from . import requestid

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tunee.settings")

app = Celery("tunee")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The request id travels with every job a request (or a job) enqueues, onto the job's log lines (tunee/requestid.py).
signals.before_task_publish.connect(requestid.on_before_task_publish, weak=False)
signals.task_prerun.connect(requestid.on_task_prerun, weak=False)
signals.task_postrun.connect(requestid.on_task_postrun, weak=False)


@signals.setup_logging.connect(weak=False)
def _logging_from_settings(**_) -> None:
    """Workers log through settings.LOGGING (JSON or plain, masked, with the request id) rather than Celery's own
    handlers, like the web process."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
