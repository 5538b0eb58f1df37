"""The user's own profile: username, settings and avatar, and binding a phone."""

import logging

from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from tunee.api.errors import ApiError

from ..images import avatar_reencode
from ..models import User, VerificationCode
from ..tokens import user_auth_forget
from .common import _duplicate
from .sms import sms_code_consume

logger = logging.getLogger(__name__)


def user_update_profile(
    *,
    user: User,
    username: str | None = None,
    avatar=None,
    language: str | None = None,
    notifications: bool | None = None,
) -> User:
    """PATCH /user/me: only the fields given change. A new avatar replaces (and deletes) the old file. A new username
    is screened first (60001, nothing changed); a new avatar is screened as a photo (moderation app)."""
    from moderation.providers import SCENE_PROFILE
    from moderation.services import content_screen, media_screen

    if username is not None and username != user.username:
        content_screen(
            user=user,
            source="profile",
            fields={"username": username},
            subject="user",
            subject_id=user.pk,
            scene=SCENE_PROFILE,
        )
    image = avatar_reencode(avatar) if avatar is not None else None
    stored = None
    old_avatar = user.avatar.name if user.avatar else ""
    try:
        with transaction.atomic():
            user = User.objects.select_for_update().get(pk=user.pk)
            fields = []
            if username is not None and username != user.username:
                if User.objects.filter(username__iexact=username).exclude(pk=user.pk).exists():
                    raise _duplicate("username")
                user.username = username
                fields.append("username")
            if language is not None:
                user.language = language
                fields.append("language")
            if notifications is not None:
                user.notifications = notifications
                fields.append("notifications")
            if image is not None:
                stored = default_storage.save(f"avatars/{user.pk}/{image.name}", image)
                user.avatar.name = stored
                fields.append("avatar")
                media_screen(
                    user=user,
                    source="profile",
                    field_name="avatar",
                    subject="avatar",
                    subject_id=user.pk,
                    file_name=stored,
                    scene=SCENE_PROFILE,
                )
            if fields:
                user.save(update_fields=[*fields, "updated_at"])
                if "language" in fields:  # now, and once committed (a request in between may cache the old one)
                    user_auth_forget(user.pk)
                    transaction.on_commit(lambda: user_auth_forget(user.pk))
    except IntegrityError:
        if stored:
            default_storage.delete(stored)
        raise _duplicate("username") from None
    except ApiError:
        if stored:
            default_storage.delete(stored)
        raise
    if stored and old_avatar:
        transaction.on_commit(lambda: default_storage.delete(old_avatar))
    return user


def user_bind_phone(*, user: User, phone: str, code: str) -> User:
    """Bind a phone after its `bind_phone` code checks out; a phone on another account → 11000 (asked only after
    the code, so only the phone's owner can learn that)."""
    sms_code_consume(phone=phone, purposes=[VerificationCode.Purpose.BIND_PHONE], code=code)
    try:
        with transaction.atomic():
            if User.objects.filter(phone=phone).exclude(pk=user.pk).exists():
                raise _duplicate("phone")
            User.objects.filter(pk=user.pk).update(phone=phone, updated_at=timezone.now())
    except IntegrityError:
        raise _duplicate("phone") from None
    user.phone = phone
    return user
