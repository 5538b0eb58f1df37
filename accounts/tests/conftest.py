"""Fixtures of the accounts tests: the SMS outbox, the notifications queue, sending and reading codes."""

from dataclasses import dataclass

import pytest

from accounts.providers import sms as sms_providers
from tunee.celery import app as celery_app


@dataclass
class QueuedJob:
    task: str
    args: list
    kwargs: dict
    queue: str


class NotificationsQueue:
    """What was enqueued on the `notifications` queue of the in-memory broker; `deliver()` runs it in-process,
    as a worker would (no worker runs in tests)."""

    name = "notifications"

    def drain(self) -> list[QueuedJob]:
        jobs = []
        with celery_app.connection_for_read() as conn:
            queue = conn.SimpleQueue(self.name)
            try:
                while True:
                    try:
                        message = queue.get(block=False)
                    except queue.Empty:
                        break
                    args, kwargs, _embed = message.payload
                    jobs.append(QueuedJob(message.headers["task"], args, kwargs, message.delivery_info["routing_key"]))
                    message.ack()
            finally:
                queue.close()
        return jobs

    def deliver(self) -> list[QueuedJob]:
        jobs = self.drain()
        for job in jobs:
            celery_app.tasks[job.task].apply(args=job.args, kwargs=job.kwargs, throw=True)
        return jobs


@pytest.fixture
def notifications():
    queue = NotificationsQueue()
    queue.drain()  # nothing left over from another test
    yield queue
    queue.drain()


@pytest.fixture
def sms(settings):
    """The locmem SMS backend's outbox (a list of SmsMessage)."""
    settings.SMS_BACKEND = "locmem"
    sms_providers.outbox.clear()
    yield sms_providers.outbox
    sms_providers.outbox.clear()


@pytest.fixture
def send_code(api, sms, notifications, django_capture_on_commit_callbacks):
    """`send_code(phone, purpose="login")` → the 6-digit code, sent through the API, the queue and the backend."""

    def send(phone: str, purpose: str = "login", client=None, **extra) -> str:
        with django_capture_on_commit_callbacks(execute=True):
            response = (client or api).post(
                "/api/auth/send-code", {"phone": phone, "purpose": purpose}, format="json", **extra
            )
        assert response.status_code == 200, response.json()
        notifications.deliver()
        return sms[-1].params["code"]

    return send
