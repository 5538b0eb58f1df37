"""Access tokens (simplejwt, HS256) carrying the login-session id, and the cached "is this session alive" check.

An access token's claims: `sub` (user id), `sid` (LoginSession id), `exp`, `iat`, `jti`, `token_type`. Its
lifetime is `SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"]` (the `expiresIn` of the login answers), read on every issue so
that settings overrides apply.
"""

import datetime
import uuid

from django.conf import settings
from django.core.cache import cache
from rest_framework_simplejwt.exceptions import ExpiredTokenError, TokenError
from rest_framework_simplejwt.tokens import AccessToken

from tunee.api.errors import ApiError, Code

SESSION_CLAIM = "sid"
_ALIVE = "1"
_REVOKED = "0"


def access_lifetime() -> datetime.timedelta:
    return settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"]


def access_token_issue(
    *,
    user_id: uuid.UUID,
    session_id: uuid.UUID,
    lifetime: datetime.timedelta | None = None,
    issued_at: datetime.datetime | None = None,
) -> str:
    """A signed access token for this login session. `lifetime`/`issued_at` exist for tests that travel in time."""
    token = AccessToken()
    if issued_at is not None:
        token.set_iat(at_time=issued_at)
    token.set_exp(from_time=issued_at or token.current_time, lifetime=lifetime or access_lifetime())
    token["sub"] = str(user_id)
    token[SESSION_CLAIM] = str(session_id)
    return str(token)


def access_token_decode(raw: str) -> AccessToken:
    """Verify signature and expiry: expired → 2002; anything else wrong → 2001."""
    try:
        token = AccessToken(raw)
    except ExpiredTokenError:
        raise ApiError(Code.TOKEN_EXPIRED) from None
    except TokenError:
        raise ApiError(Code.TOKEN_INVALID) from None
    if SESSION_CLAIM not in token or "sub" not in token:
        raise ApiError(Code.TOKEN_INVALID)
    return token


def _session_key(session_id) -> str:
    return f"accounts:session-alive:{session_id}"


def session_is_alive(session_id: str, user_id: str) -> bool:
    """Whether the login session exists, belongs to the user and is not revoked; cached, cleared on revoke."""
    from .models import LoginSession

    key = _session_key(session_id)
    cached = cache.get(key)
    if cached is not None:
        return cached == f"{_ALIVE}:{user_id}"
    try:
        sid = uuid.UUID(str(session_id))
    except ValueError:
        return False
    row = LoginSession.objects.filter(id=sid).values_list("user_id", "revoked_at").first()
    if row is None or row[1] is not None:
        cache.set(key, _REVOKED, settings.SESSION_CHECK_CACHE_SECONDS)
        return False
    cache.set(key, f"{_ALIVE}:{row[0]}", settings.SESSION_CHECK_CACHE_SECONDS)
    return str(row[0]) == str(user_id)


def session_cache_forget(session_ids) -> None:
    cache.delete_many([_session_key(sid) for sid in session_ids])
