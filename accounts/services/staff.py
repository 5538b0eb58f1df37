"""What support staff and moderation do to an account: disable, enable, log out everywhere, remove a risky avatar.

The staff functions take the acting user (`actor`; None is the system) and refuse, with 403, an actor without the
permission (accounts/roles.py)."""

import logging

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from ..models import User
from ..roles import require_permission
from ..tokens import user_auth_forget
from .sessions import user_sessions_revoke_all

logger = logging.getLogger(__name__)


def _user_set_status(*, user: User, status: str, actor) -> None:
    require_permission(actor, "accounts.change_user")
    is_active = status == User.Status.ACTIVE
    User.objects.filter(pk=user.pk).update(status=status, is_active=is_active, updated_at=timezone.now())
    user_auth_forget(user.pk)
    transaction.on_commit(lambda: user_auth_forget(user.pk))


@transaction.atomic
def user_disable(*, user: User, actor=None) -> None:
    """Logins and authenticated requests answer 20003 until enabled again (sessions are kept for that)."""
    _user_set_status(user=user, status=User.Status.DISABLED, actor=actor)


@transaction.atomic
def user_enable(*, user: User, actor=None) -> None:
    _user_set_status(user=user, status=User.Status.ACTIVE, actor=actor)


def user_avatar_verdict(*, subject_id, field: str, outcome: str, label: str, file_name: str = "") -> None:
    """A later verdict on an uploaded avatar (moderation's WeChat media push): a risky one is removed, if it is still
    the user's avatar."""
    if outcome != "risky" or not file_name:
        return
    if User.objects.filter(pk=subject_id, avatar=file_name).update(avatar="", updated_at=timezone.now()):
        transaction.on_commit(lambda: default_storage.delete(file_name))


def user_sessions_revoke_by_staff(*, user: User, actor, reason: str = "staff") -> int:
    """Staff log a user out on every device (`accounts.revoke_sessions`); returns how many sessions ended."""
    require_permission(actor, "accounts.revoke_sessions")
    return user_sessions_revoke_all(user=user, reason=reason[:30] or "staff")
