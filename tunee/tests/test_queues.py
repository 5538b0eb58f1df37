"""The queue names are defined once (tunee/queues.py) and jobs go where they belong: photo processing on `files`,
generations on theirs; the worker started by `make run` and compose consume every queue; every beat job is listed
in tunee/schedule.py with a queue and a task that exists."""

import importlib.util
import re
from pathlib import Path

import pytest
from django.conf import settings

from tunee import queues
from tunee.celery import app as celery_app
from works.tests.factories import jpeg_bytes, upload

ROOT = Path(__file__).resolve().parents[2]


def drain(queue_name: str) -> list[tuple[str, list, str]]:
    """(task, args, routing key) of every message waiting on `queue_name` in the in-memory broker."""
    jobs = []
    with celery_app.connection_for_read() as conn:
        queue = conn.SimpleQueue(queue_name)
        try:
            while True:
                try:
                    message = queue.get(block=False)
                except queue.Empty:
                    return jobs
                args, _kwargs, _embed = message.payload
                jobs.append((message.headers["task"], args, message.delivery_info["routing_key"]))
                message.ack()
        finally:
            queue.close()


@pytest.fixture
def empty_queues():
    for name in queues.ALL:
        drain(name)
    yield
    for name in queues.ALL:
        drain(name)


@pytest.mark.django_db
def test_a_photo_is_processed_on_the_files_queue(auth_api, empty_queues, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_api.post(
            "/api/works", {"image": upload(jpeg_bytes(), "p.jpg", "image/jpeg")}, format="multipart"
        )
    assert response.status_code == 201, response.content
    work_id = response.json()["data"]["id"]

    assert drain(queues.FILES) == [("works.process", [work_id], queues.FILES)]
    assert drain(queues.DEFAULT) == []


@pytest.mark.django_db
def test_generations_go_to_the_generation_queues(auth_api, empty_queues, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_api.post("/api/generation/create", {"prompt": "海边的夏天", "duration": 10}, format="json")
    assert response.status_code in (200, 201), response.content
    [(task, _args, routing_key)] = drain(queues.GENERATION)  # a free user's: not the priority queue
    assert (task, routing_key) == ("generation.run", queues.GENERATION)
    assert drain(queues.GENERATION_PRIORITY) == []


def test_settings_declare_every_queue_once_and_default_to_default():
    assert [queue.name for queue in settings.CELERY_TASK_QUEUES] == list(queues.ALL)
    assert len(set(queues.ALL)) == len(queues.ALL)
    assert {queues.FILES, queues.STATS} <= set(queues.ALL)
    assert settings.CELERY_TASK_DEFAULT_QUEUE == queues.DEFAULT


def test_make_run_and_compose_start_workers_for_every_queue():
    spec = importlib.util.spec_from_file_location("run_script", ROOT / "scripts" / "run.py")
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)  # defines things only; main() is not called
    assert run.QUEUES.split(",") == list(queues.ALL)

    compose = (ROOT / "docker-compose.yml").read_text()
    assert '-Q "$$(python -m tunee.queues)"' in compose
    assert queues.worker_arg() == ",".join(queues.ALL)


def test_no_queue_name_is_written_as_a_literal_outside_tunee_queues():
    literal = re.compile(r"""queue\s*=\s*["']""")
    offenders = [
        str(path.relative_to(ROOT))
        for path in ROOT.glob("*/**/*.py")
        if not {".venv", "tests", "migrations", "var", "bench"} & set(path.relative_to(ROOT).parts)
        and literal.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_every_beat_job_runs_a_real_task_on_a_declared_queue():
    celery_app.loader.import_default_modules()
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert {
        "generation-sweep",
        "moderation-purge",
        "payments-close-expired",
        "payments-reconcile",
        "purge-expired",
    } <= set(schedule)
    for name, entry in schedule.items():
        assert entry["task"] in celery_app.tasks, name
        assert entry["options"]["queue"] in queues.ALL, name
    assert schedule["payments-reconcile"]["options"]["queue"] == queues.PAYMENTS
    assert schedule["generation-sweep"]["schedule"] == settings.GENERATION_SWEEP_INTERVAL
