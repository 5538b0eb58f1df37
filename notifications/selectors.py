"""Reads of notifications."""

from django.db.models import Count

from accounts.models import User
from tunee.api.errors import ApiError, Code

from .models import Device, Subscription


def device_get_for_user(*, user: User, registration_id: str) -> Device:
    """One of `user`'s devices; not found (404) when the id is unknown or someone else's."""
    device = Device.objects.filter(user=user, registration_id=registration_id).first()
    if device is None:
        raise ApiError(Code.NOT_FOUND)
    return device


def subscriptions_available(*, user: User) -> list[dict]:
    """How many messages of each template the user's unused WeChat subscriptions still allow:
    `[{"template_id", "count"}]`, by template id."""
    rows = (
        Subscription.objects.filter(user=user, used_at__isnull=True)
        .values("template_id")
        .annotate(count=Count("pk"))
        .order_by("template_id")
    )
    return [{"template_id": row["template_id"], "count": row["count"]} for row in rows]
