"""The Celery app: `celery -A tunee worker` / `celery -A tunee beat`. Configuration lives in settings (CELERY_*)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tunee.settings")

app = Celery("tunee")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Worker queues, highest priority first: a worker started with `-Q` lists them in this order.
WORKER_QUEUES = ("generation_priority", "generation", "payments", "notifications", "default")
