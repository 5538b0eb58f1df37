"""Reads of accounts: the user profile (one shape everywhere a user is returned) and session lists."""

from django.db.models import QuerySet

from membership.selectors import user_entitlements, with_entitlements
from tunee.storage import public_url

from .models import LoginSession, User


def user_avatar_url(*, user: User) -> str | None:
    """The uploaded avatar, else our copy of the WeChat one, else None (never the URL the client sent)."""
    return public_url(user.avatar) or public_url(user.wechat_avatar)


def user_for_profile(*, user_id) -> User:
    """The user row with what their profile shows of membership, points and today's quota: one query."""
    return with_entitlements(User.objects.filter(pk=user_id)).get()


def user_profile(*, user: User, is_new_user: bool | None = None) -> dict:
    """API.md "The user profile"; membership, points and daily stats come from membership's selectors."""
    has_wechat = bool(user.wechat_openid or user.wechat_unionid)
    profile = {
        "id": str(user.pk),
        "username": user.username,
        "email": user.email or None,
        "email_verified": user.email_verified,
        "phone": user.phone,
        "avatar_url": user_avatar_url(user=user),
        "wechat": {"nickname": user.wechat_nickname or None, "avatar_url": public_url(user.wechat_avatar)}
        if has_wechat
        else None,
        **user_entitlements(user=user),
        "settings": {"language": user.language, "notifications": user.notifications},
        "status": user.status,
        "created_at": user.created_at,
    }
    if is_new_user is not None:
        profile["is_new_user"] = is_new_user
    return profile


def user_sessions_active(*, user: User) -> QuerySet[LoginSession]:
    return LoginSession.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at")
