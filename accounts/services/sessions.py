"""Login sessions and their tokens: start one, rotate its refresh token (a replay revokes it), revoke."""

import hashlib
import logging
import secrets
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tunee.api.errors import ApiError, Code

from ..models import LoginSession, RefreshToken, User
from ..tokens import access_lifetime, access_token_issue, session_cache_forget

logger = logging.getLogger(__name__)


def _token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class TokenBundle:
    access_token: str
    refresh_token: str
    expires_in: int
    session: LoginSession


@dataclass(frozen=True)
class LoginResult:
    user: User
    tokens: TokenBundle
    is_new_user: bool


def _refresh_token_create(*, session: LoginSession, device: str, ip: str | None) -> str:
    raw = secrets.token_urlsafe(32)
    RefreshToken.objects.create(
        session=session,
        token_hash=_token_hash(raw),
        expires_at=timezone.now() + settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"],
        device=device[:200],
        ip=ip,
    )
    return raw


@transaction.atomic
def session_start(
    *,
    user: User,
    method: str = LoginSession.Method.OTHER,
    device: str = "",
    ip: str | None = None,
    user_agent: str = "",
) -> TokenBundle:
    """A new login session with its first refresh token and an access token. Tests call this to get tokens."""
    session = LoginSession.objects.create(
        user=user, method=method, device=device[:200], user_agent=user_agent[:300], created_ip=ip, last_ip=ip
    )
    refresh = _refresh_token_create(session=session, device=device, ip=ip)
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return TokenBundle(
        access_token=access_token_issue(user_id=user.pk, session_id=session.pk),
        refresh_token=refresh,
        expires_in=int(access_lifetime().total_seconds()),
        session=session,
    )


def session_refresh(*, refresh_token: str, device: str = "", ip: str | None = None) -> TokenBundle:
    """Rotate: the presented token is spent and a new pair is issued. A spent token presented again is a replay
    (stolen or duplicated): its whole session is revoked. Unknown, expired or revoked → 2001."""
    now = timezone.now()
    outcome = None
    with transaction.atomic():
        row = (
            RefreshToken.objects.select_for_update()
            .select_related("session", "session__user")
            .filter(token_hash=_token_hash(refresh_token or ""))
            .first()
        )
        if row is None or row.session.revoked_at is not None or row.expires_at <= now:
            outcome = "invalid"
        elif row.rotated_at is not None:
            _sessions_revoke(LoginSession.objects.filter(pk=row.session_id), reason="refresh_reuse")
            outcome = "reuse"
        elif row.session.user.is_disabled:
            outcome = "disabled"
        else:
            RefreshToken.objects.filter(pk=row.pk, rotated_at__isnull=True).update(rotated_at=now)
            session = row.session
            session.last_refreshed_at = now
            session.last_ip = ip or session.last_ip
            session.save(update_fields=["last_refreshed_at", "last_ip"])
            new_refresh = _refresh_token_create(session=session, device=device or row.device, ip=ip)
            bundle = TokenBundle(
                access_token=access_token_issue(user_id=session.user_id, session_id=session.pk),
                refresh_token=new_refresh,
                expires_in=int(access_lifetime().total_seconds()),
                session=session,
            )
    if outcome == "reuse":
        logger.warning("Refresh token reuse: session %s revoked", row.session_id)
    if outcome == "disabled":
        raise ApiError(Code.ACCOUNT_DISABLED)
    if outcome is not None:
        raise ApiError(Code.TOKEN_INVALID)
    return bundle


def _sessions_revoke(queryset, *, reason: str) -> int:
    ids = list(queryset.filter(revoked_at__isnull=True).values_list("pk", flat=True))
    if not ids:
        return 0
    LoginSession.objects.filter(pk__in=ids, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoke_reason=reason
    )
    # Forget the cached "alive" answers now and once more after commit (a request in between may have re-cached).
    session_cache_forget(ids)
    transaction.on_commit(lambda: session_cache_forget(ids))
    return len(ids)


@transaction.atomic
def session_revoke(*, session_id: uuid.UUID | str, user: User, reason: str = "logout") -> int:
    return _sessions_revoke(LoginSession.objects.filter(pk=session_id, user=user), reason=reason)


@transaction.atomic
def user_sessions_revoke_all(*, user: User, reason: str = "logout_all") -> int:
    """Every login of the user, on every device: refresh and access tokens stop working at once."""
    return _sessions_revoke(LoginSession.objects.filter(user=user), reason=reason)
