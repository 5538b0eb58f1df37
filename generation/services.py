"""Writes of generations: creation (charged in the same transaction, enqueued on commit) and favorites.

The pipeline that drives a generation to completed or failed lives in `pipeline.py`.
"""

import uuid

from django.db import IntegrityError, transaction

from membership.selectors import is_member
from membership.services import quota_consume

from .models import DEFAULT_DURATION, Favorite, Generation


@transaction.atomic
def generation_create(
    *,
    user,
    source: str = Generation.Source.API,
    prompt: str = "",
    style: str = "",
    mood: str = "",
    duration: int | None = None,
    title: str = "",
    tags: list[str] | None = None,
    negative_tags: list[str] | None = None,
    options: dict | None = None,
    device: str = "",
    image: str = "",
) -> Generation:
    """Charge one generation (quota or points, else 40004) and create the row, in one transaction; the pipeline
    is enqueued only once that transaction commits — members on `generation_priority`, others on `generation`.

    `image` is the storage name of a photo to describe and compose from (a work's photo).
    """
    generation_id = uuid.uuid4()
    charge = quota_consume(user=user, reference=f"generation:{generation_id}")
    generation = Generation.objects.create(
        id=generation_id,
        user=user,
        source=source,
        prompt=prompt,
        style=style,
        mood=mood,
        duration=duration or DEFAULT_DURATION,
        title=title,
        tags=list(tags or []),
        negative_tags=list(negative_tags or []),
        options=dict(options or {}),
        device=device,
        image=image,
        priority=is_member(user=user),
        charge=charge,
    )
    from .tasks import enqueue_generation

    transaction.on_commit(lambda: enqueue_generation(generation))
    return generation


def favorite_toggle(*, user, generation: Generation) -> bool:
    """Favorite or unfavorite; returns whether it is now a favorite. Safe against double taps."""
    deleted, _ = Favorite.objects.filter(user=user, generation=generation).delete()
    if deleted:
        return False
    try:
        with transaction.atomic():
            Favorite.objects.create(user=user, generation=generation)
    except IntegrityError:  # a concurrent tap created it first
        pass
    return True
