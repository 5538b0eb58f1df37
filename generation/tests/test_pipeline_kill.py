"""A real Celery worker process killed (SIGKILL) in the middle of a job: the generation then completes once its lease
ends, or, past GENERATION_TIMEOUT, fails and is refunded exactly once.

The worker is a subprocess (`celery -A tunee worker`, as `make run` starts it) on the test database, fed through
kombu's filesystem broker; it is killed while the fake Suno gateway holds its submit open. PostgreSQL only: the
subprocess needs a database that another process can open (the SQLite test database lives in memory).
"""

import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import time_machine
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone
from kombu import Connection

from generation import pipeline, services, tasks
from generation.models import Generation
from membership.models import ChargeRefund
from membership.selectors import quota_status

from .pipeline_fixtures import SUNO_KEY

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("fast_pipeline"),
]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def held_submit(suno):
    """The gateway's first submit hangs until the test ends (the worker is then inside the job); later ones answer
    at once, and every task is done at the first poll."""
    arrived, release = threading.Event(), threading.Event()

    def hang_then_answer(request):
        arrived.set()
        release.wait(30)
        return suno._generate(request)

    suno.statuses = ("SUCCESS",)
    suno.server.expect_oneshot_request("/api/v1/generate", method="POST").respond_with_handler(hang_then_answer)
    yield arrived
    release.set()


@pytest.fixture
def broker_dir(tmp_path):
    folder = tmp_path / "var" / "celery" / "broker"
    for sub in ("out", "processed", "control"):
        (folder / sub).mkdir(parents=True)
    return folder


def filesystem_broker(folder: Path) -> Connection:
    out = str(folder / "out")
    return Connection(
        "filesystem://",
        transport_options={
            "data_folder_in": out,
            "data_folder_out": out,
            "store_processed": False,
            "control_folder": str(folder / "control"),  # not ./control in the working tree
        },
    )


@pytest.fixture
def worker_process(broker_dir, suno, settings):
    """Starts `celery -A tunee worker` on the test database and this test's media folder; killed at the end."""
    url = urlsplit(os.environ["DATABASE_URL"])
    database_url = urlunsplit(url._replace(path="/" + connection.settings_dict["NAME"]))
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "VAR_DIR": str(broker_dir.parents[1]),
        "CELERY_BROKER_URL": "filesystem://",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "MUSIC_PROVIDER": "suno",
        "SUNO_API_BASE": suno.base_url,
        "SUNO_API_KEY": SUNO_KEY,
        "SUNO_TIMEOUT": "60",
    }
    args = [sys.executable, "-m", "celery", "-A", "tunee", "worker", "-Q", "generation,generation_priority"]
    args += ["--pool", "solo", "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING"]
    process = subprocess.Popen(args, cwd=ROOT, env=env, start_new_session=True)
    yield process
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def killed_mid_job(held_submit, worker_process, broker_dir, user, sent) -> Generation:
    """Creates a generation, lets the worker process take it, and SIGKILLs the worker inside the provider call."""
    generation = services.generation_create(user=user, prompt="雨后的城市", duration=10)
    assert sent == [str(generation.pk)]  # enqueued on commit (to the in-memory broker): the worker gets it here
    sent.clear()
    with filesystem_broker(broker_dir) as conn:
        tasks.generation_run.app.send_task(
            "generation.run", args=[str(generation.pk)], queue="generation", connection=conn
        )
    assert held_submit.wait(60), "the worker never reached the gateway"

    os.killpg(worker_process.pid, signal.SIGKILL)
    worker_process.wait(10)

    generation.refresh_from_db()
    assert (generation.status, generation.attempts, generation.provider_task_id) == ("processing", 1, "")
    assert generation.locked_until > timezone.now()  # the dead worker's lease
    assert quota_status(user=user).used == 1
    return generation


@pytest.fixture
def sent(monkeypatch):
    jobs = []
    monkeypatch.setattr(tasks.generation_run, "apply_async", lambda args, queue, countdown=None: jobs.append(args[0]))
    return jobs


def run_jobs(sent) -> list[str]:
    outcomes = []
    while sent:
        Generation.objects.update(next_check_at=None)  # deliver each scheduled poll now
        outcomes.append(tasks.generation_run(sent.pop(0)))
    return outcomes


def test_a_worker_killed_mid_job_leaves_the_generation_to_complete(held_submit, worker_process, broker_dir, user, sent):
    generation = killed_mid_job(held_submit, worker_process, broker_dir, user, sent)
    assert tasks.generation_run(str(generation.pk)) == "skipped"  # redelivered at once: the lease still holds

    later = timezone.now() + timedelta(seconds=pipeline.lease_seconds() + services.LOST_JOB_GRACE.total_seconds() + 5)
    with time_machine.travel(later):
        assert services.generations_sweep().requeued == [str(generation.pk)]
        assert run_jobs(sent) == ["waiting", "completed"]

    generation.refresh_from_db()
    assert (generation.status, generation.attempts) == ("completed", 3)
    assert generation.audio.name and generation.charge.refunded_at is None
    assert quota_status(user=user).used == 1 and not ChargeRefund.objects.exists()


def test_a_worker_killed_mid_job_past_the_timeout_fails_and_refunds_once(
    held_submit, worker_process, broker_dir, user, sent
):
    generation = killed_mid_job(held_submit, worker_process, broker_dir, user, sent)

    with time_machine.travel(timezone.now() + timedelta(seconds=django_settings.GENERATION_TIMEOUT + 1)):
        assert services.generations_sweep().failed == [str(generation.pk)]
        assert services.generations_sweep().failed == []
        assert tasks.generation_run(str(generation.pk)) == "skipped"  # the job redelivered too late
        assert services.generation_fail(generation=generation, message="again") is False

    generation.refresh_from_db()
    assert generation.status == "failed" and generation.error_message == services.TIMED_OUT.zh
    assert generation.charge.refunded_at is not None
    assert ChargeRefund.objects.count() == 1
    assert quota_status(user=user).used == 0 and sent == []
