"""The hooks in generation: a generation completing (pipeline) or failing (`generation_fail`) tells its owner once,
after the change commits, and nothing a notification does can fail the generation."""

import pytest

from generation import services as generation_services
from generation import tasks as generation_tasks
from generation.models import Generation
from generation.tests.pipeline_fixtures import fast_pipeline  # noqa: F401
from notifications.models import Delivery

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_pipeline")]


@pytest.fixture
def generation_jobs(monkeypatch):
    """The pipeline's jobs, run by hand (generation ids in the order sent)."""
    sent = []
    monkeypatch.setattr(
        generation_tasks.generation_run, "apply_async", lambda args, queue, countdown=None: sent.append(args[0])
    )
    return sent


def create(owner, capture, **kwargs) -> Generation:
    with capture(execute=True):
        return generation_services.generation_create(
            user=owner, prompt="雨后的城市，轻快的钢琴", duration=10, title="雨后", **kwargs
        )


def run(jobs, capture) -> list[str]:
    outcomes = []
    while jobs:
        with capture(execute=True):
            outcomes.append(generation_tasks.generation_run(jobs.pop(0)))
    return outcomes


def test_a_completed_generation_pushes_one_message_to_its_owner(
    owner, generation_jobs, pushes, notifications_queue, django_capture_on_commit_callbacks
):
    generation = create(owner, django_capture_on_commit_callbacks)

    assert run(generation_jobs, django_capture_on_commit_callbacks) == ["completed"]
    notifications_queue.deliver()

    (sent,) = pushes
    assert sent.recipient == "xiaoming"
    assert sent.message.extras == {"generationId": str(generation.pk), "source": "api", "outcome": "completed"}
    generation.refresh_from_db()
    assert sent.message.text == f"你的歌曲《{generation.result_title}》已生成，快去听听吧"
    row = Delivery.objects.get(generation_id=generation.pk, channel="push")
    assert (row.status, row.finished_at) == ("sent", generation.completed_at)


def test_a_duplicate_completion_sends_nothing_more(
    owner, generation_jobs, pushes, notifications_queue, django_capture_on_commit_callbacks
):
    create(owner, django_capture_on_commit_callbacks)
    generation_jobs.append(generation_jobs[0])  # the job delivered twice

    assert run(generation_jobs, django_capture_on_commit_callbacks) == ["completed", "skipped"]
    notifications_queue.deliver()

    assert len(pushes) == 1


def test_a_failed_generation_tells_its_owner_once(
    owner, generation_jobs, pushes, notifications_queue, django_capture_on_commit_callbacks
):
    generation = create(owner, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        assert generation_services.generation_fail(generation=generation, message="no") is True
    with django_capture_on_commit_callbacks(execute=True):
        assert generation_services.generation_fail(generation=generation, message="again") is False
    notifications_queue.deliver()

    (sent,) = pushes
    assert sent.message.text == "你的歌曲《雨后》生成失败，请稍后重试"
    assert sent.message.extras["outcome"] == "failed"


def test_a_works_song_says_so(owner, generation_jobs, pushes, notifications_queue, django_capture_on_commit_callbacks):
    create(owner, django_capture_on_commit_callbacks, source=Generation.Source.WORK)

    run(generation_jobs, django_capture_on_commit_callbacks)
    notifications_queue.deliver()

    assert pushes[0].message.text.startswith("你的照片歌曲《") and pushes[0].message.extras["source"] == "work"


def test_nothing_is_enqueued_before_the_change_commits(
    owner, generation_jobs, notifications_queue, django_capture_on_commit_callbacks
):
    generation = create(owner, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        generation_services.generation_fail(generation=generation, message="no")

    assert notifications_queue.drain() == []
    # enqueued (and the finished-generations token moved, and the failure counted) only once the failure commits
    assert len(callbacks) == 3
    for callback in callbacks:
        callback()
    assert len(notifications_queue.drain()) == 1


def test_a_broken_broker_never_fails_the_generation(
    owner, generation_jobs, notifications_queue, django_capture_on_commit_callbacks, monkeypatch
):
    from notifications import tasks as notification_tasks

    def broken(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(notification_tasks.song_finished, "apply_async", broken)
    generation = create(owner, django_capture_on_commit_callbacks)

    assert run(generation_jobs, django_capture_on_commit_callbacks) == ["completed"]

    generation.refresh_from_db()
    assert generation.status == "completed"
