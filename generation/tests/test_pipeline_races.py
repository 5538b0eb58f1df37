"""Races on PostgreSQL with real threads: concurrent finishers complete a generation once, a finisher racing the
sweeper ends with either a completed generation or one refund, concurrent callbacks send one poll, concurrent
sweepers refund once."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from generation import pipeline, services, tasks
from generation.models import Generation
from membership.models import PointsEntry
from membership.selectors import quota_status
from membership.services import points_credit, quota_consume
from tunee.testing import race_results

from .stored import stored_files

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("fast_pipeline"),
]

THREADS = 8


@pytest.fixture
def sent(monkeypatch):
    jobs = []
    lock = threading.Lock()

    def apply_async(args, queue, countdown=None):
        with lock:
            jobs.append(args[0])

    monkeypatch.setattr(tasks.generation_run, "apply_async", apply_async)
    return jobs


def race(*targets):
    """Run the callables at the same moment, one thread each; their results (exceptions re-raised)."""
    return race_results(*targets)


def submitted(suno, user, sent) -> Generation:
    """A generation whose Suno task is done upstream and whose next poll is due."""
    suno.statuses = ("SUCCESS",)
    generation = services.generation_create(user=user, prompt="雨后的城市", duration=10)
    assert pipeline.generation_advance(generation_id=str(generation.pk)) == "waiting"
    sent.clear()
    return generation


def stored(generation) -> list[str]:
    return stored_files(generation.pk)


def test_concurrent_finishers_complete_a_generation_once(suno, user, sent):
    generation = submitted(suno, user, sent)

    outcomes = race(*[lambda: pipeline.generation_advance(generation_id=str(generation.pk))] * THREADS)

    assert sorted(outcomes) == ["completed"] + ["skipped"] * (THREADS - 1)
    generation.refresh_from_db()
    assert generation.status == "completed" and generation.charge.refunded_at is None
    assert stored(generation) == ["audio.mp3", "cover.jpg"]
    assert suno.polls["task-1"] == 1


def test_a_finisher_racing_the_sweeper_ends_completed_or_refunded_never_both(suno, user, sent):
    generation = submitted(suno, user, sent)

    def sweep():  # the sweeper's clock says the generation is out of time; the finishers' says it is not
        return services.generations_sweep(now=timezone.now() + timedelta(seconds=601)).failed

    finishers = [lambda: pipeline.generation_advance(generation_id=str(generation.pk))] * (THREADS // 2)
    race(*finishers, *[sweep] * (THREADS // 2))

    generation.refresh_from_db()
    used = quota_status(user=user).used
    if generation.status == "completed":
        assert generation.charge.refunded_at is None and used == 1
        assert stored(generation) == ["audio.mp3", "cover.jpg"]
    else:
        assert generation.status == "failed"
        assert generation.charge.refunded_at is not None and used == 0
        assert stored(generation) == []  # the finisher that lost removed what it stored


def test_concurrent_callbacks_send_one_poll(suno, user, sent, api, settings):
    settings.GENERATION_POLL_INTERVAL = settings.GENERATION_POLL_MAX_INTERVAL = 30
    generation = submitted(suno, user, sent)
    url = f"/api/generation/callback/suno?token={services.callback_token(generation)}"
    body = suno.callback_body("task-1")

    def post():
        from rest_framework.test import APIClient

        return APIClient().post(url, body, format="json").status_code

    assert race(*[post] * THREADS) == [200] * THREADS
    assert sent == [str(generation.pk)]


def test_concurrent_sweepers_refund_points_once(user, sent):
    points_credit(user=user, amount=10, reason=PointsEntry.Reason.PURCHASE)
    for _ in range(3):
        quota_consume(user=user)
    generation = services.generation_create(user=user, prompt="雨", duration=10, enqueue=False)
    assert generation.charge.kind == "points" and quota_status(user=user).points == 0

    with time_machine.travel(timezone.now() + timedelta(seconds=601)):
        reports = race(*[services.generations_sweep] * THREADS)

    assert sum(len(report.failed) for report in reports) == 1
    assert quota_status(user=user).points == 10
    assert PointsEntry.objects.filter(user=user, reason="generation_refund").count() == 1
