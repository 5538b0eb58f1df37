"""Helpers of the notifications tests."""

import uuid
from datetime import UTC, datetime

from notifications.models import Subscription
from notifications.tasks import enqueue_song_finished

FINISHED_AT = datetime(2024, 1, 1, 12, 10, tzinfo=UTC)  # 20:10 in Asia/Shanghai


def finish(queue, user, *, outcome="completed", source="api", title="晴天", generation_id=None, deliver=True):
    """What generation does when a song finishes (enqueue on the notifications queue), then what a worker does.
    Returns the generation id."""
    generation_id = generation_id or uuid.uuid4()
    enqueue_song_finished(
        user_id=user.pk,
        generation_id=generation_id,
        source=source,
        title=title,
        outcome=outcome,
        finished_at=FINISHED_AT,
    )
    if deliver:
        queue.deliver()
    return generation_id


def subscribe(user, template_id, count=1):
    Subscription.objects.bulk_create([Subscription(user=user, template_id=template_id) for _ in range(count)])


def unused(user, template_id=None) -> int:
    rows = Subscription.objects.filter(user=user, used_at__isnull=True)
    if template_id:
        rows = rows.filter(template_id=template_id)
    return rows.count()
