"""A real Celery worker (in a thread, on the in-memory broker) logs a job's lines with the request id the message
carries: published inside a "request", consumed and run by the worker, whose own context starts empty."""

import copy
import io
import json
import logging.config
import threading

import pytest
from celery import shared_task
from celery.contrib.testing.worker import start_worker

from tunee import queues, requestid
from tunee.celery import app as celery_app

ran = threading.Event()


@shared_task(name="tunee.tests.worker_log_line")
def worker_log_line() -> None:
    logging.getLogger("tunee.tests.worker").warning("job for 13800138000 ran")
    ran.set()


@pytest.fixture(scope="module")
def worker():
    with start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=10):
        yield


@pytest.fixture
def log_lines(worker, settings):
    """After the worker set logging up: the project's LOGGING in JSON, written to a buffer."""
    buffer = io.StringIO()
    config = copy.deepcopy(settings.LOGGING)
    config["handlers"]["console"].update(stream=buffer, formatter="json")
    logging.config.dictConfig(config)
    try:
        yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    finally:
        logging.config.dictConfig(settings.LOGGING)


def test_the_worker_logs_the_job_with_the_request_id_that_enqueued_it(log_lines):
    ran.clear()
    token = requestid.current.set("req-worker")  # what RequestIdMiddleware does for a request
    try:
        worker_log_line.apply_async(queue=queues.DEFAULT)
    finally:
        requestid.current.reset(token)

    assert ran.wait(30), "the worker did not run the job"
    [line] = [line for line in log_lines() if line["logger"] == "tunee.tests.worker"]
    assert line["request_id"] == "req-worker"
    assert line["message"] == "job for 138****8000 ran"
