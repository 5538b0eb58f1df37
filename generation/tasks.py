"""Thin Celery entry points of the generation pipeline; the logic is in `pipeline.py` and `services.py`."""

from celery import shared_task

from tunee import queues

from .models import Generation

QUEUE_PRIORITY = queues.GENERATION_PRIORITY
QUEUE_NORMAL = queues.GENERATION


def queue_for(generation: Generation) -> str:
    return QUEUE_PRIORITY if generation.priority else QUEUE_NORMAL


def enqueue_generation(generation: Generation, *, countdown: float | None = None) -> None:
    """Send the pipeline's next job for `generation` (members' on the priority queue)."""
    generation_run.apply_async(args=[str(generation.pk)], queue=queue_for(generation), countdown=countdown)


@shared_task(name="generation.run", acks_late=True, ignore_result=True)
def generation_run(generation_id: str) -> str:
    from . import pipeline

    return pipeline.generation_advance(generation_id=generation_id)


@shared_task(name="generation.sweep", ignore_result=True)
def generation_sweep() -> dict:
    """Beat: fail and refund generations stuck past GENERATION_TIMEOUT; enqueue again those that lost their job."""
    from . import services

    report = services.generations_sweep()
    return {"failed": len(report.failed), "requeued": len(report.requeued)}


@shared_task(name="generation.suno_credits", ignore_result=True)
def suno_credits_refresh() -> float | None:
    """Beat: read the Suno gateway's credits left for the `tunee_suno_credits` gauge (nothing unless MUSIC_PROVIDER
    is suno; /metrics reads the kept value, never the gateway)."""
    from tunee import metrics

    return metrics.suno_credits_refresh()
