"""Thin Celery entry points of the generation pipeline; the logic is in `pipeline.py`."""

from celery import shared_task

from .models import Generation

QUEUE_PRIORITY = "generation_priority"
QUEUE_NORMAL = "generation"


def queue_for(generation: Generation) -> str:
    return QUEUE_PRIORITY if generation.priority else QUEUE_NORMAL


def enqueue_generation(generation: Generation, *, countdown: float | None = None) -> None:
    generation_run.apply_async(args=[str(generation.pk)], queue=queue_for(generation), countdown=countdown)


@shared_task(name="generation.run", acks_late=True)
def generation_run(generation_id: str) -> None:
    from . import pipeline

    pipeline.generation_advance(generation_id=generation_id)
