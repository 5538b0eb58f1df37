"""Access tokens (simplejwt, HS256) carrying the login-session id, and the cached "is this session alive" check.

An access token's claims: `sub` (user id), `sid` (LoginSession id), `exp`, `iat`, `jti`, `token_type`. Its
lifetime is `SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"]` (the `expiresIn` of the login answers), read on every issue so
that settings overrides apply.
"""

import datetime
import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from rest_framework_simplejwt.exceptions import ExpiredTokenError, TokenError
from rest_framework_simplejwt.tokens import AccessToken

from tunee.api.errors import ApiError, Code
from tunee.api.throttles import read_and_hit

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


# Tokens this process has verified, by their text: the same string under the same key verifies the same way, so a
# client's next request skips the signature and claim checks and only has its expiry compared again. Revocation is
# not here (it is the session's cached state, read on every request). Bounded: emptied when full.
_verified: dict[str, tuple[float, AccessToken]] = {}
VERIFIED_TOKENS_KEPT = 10_000


def forget_verified_tokens() -> None:
    """Drop this process's verified tokens (tests that change the signing key or travel in time)."""
    _verified.clear()


def access_token_decode(raw: str) -> AccessToken:
    """Verify signature and expiry: expired → 2002; anything else wrong → 2001."""
    hit = _verified.get(raw)
    if hit is not None:
        if hit[0] > time.time():
            return hit[1]
        del _verified[raw]  # expired since: decoded again below, which answers 2002
    token = _access_token_verify(raw)
    if len(_verified) >= VERIFIED_TOKENS_KEPT:
        _verified.clear()
    leeway = token.get_token_backend().get_leeway().total_seconds()
    _verified[raw] = (token["exp"] + leeway, token)
    return token


def _access_token_verify(raw: str) -> AccessToken:
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


def _user_key(user_id) -> str:
    return f"accounts:user-auth:{user_id}"


# What authenticating a request needs to know of the account, kept beside the session's state in the cache.
AUTH_FIELDS = ("id", "status", "language", "is_active")


@dataclass(frozen=True)
class AuthState:
    """An access token's account, as far as authentication needs it (no user row is loaded for it)."""

    user_id: str
    status: str
    language: str
    is_active: bool


def session_auth_state(
    session_id: str, user_id: str, *, counts: list[tuple[str, int, int]] = ()
) -> tuple[AuthState | None, dict | None]:
    """The account of a live login session, or None when the session is unknown, revoked or not `user_id`'s; and,
    with `counts` = [(rate key, limit, period), …], the request counted against those rates in the same round trip
    when the session is cached as alive ({key: wait, 0 when allowed}), else None (not counted: the throttles count
    it themselves).

    One cache round trip (the session's and the account's entries, read together) on a hit; on a miss one query
    (the session joined with its user), whose answer is cached for SESSION_CHECK_CACHE_SECONDS. Revoking a session
    (`session_cache_forget`) and changing an account's status or language (`user_auth_forget`) clear the entries
    at once, so a revoked login or a disabled account is refused on the next request.
    """
    from .models import LoginSession

    session_key, user_key, alive_value = _session_key(session_id), _user_key(user_id), f"{_ALIVE}:{user_id}"
    if not counts:
        cached = cache.get_many([session_key, user_key])
        (alive, account), waits = (cached.get(session_key), cached.get(user_key)), None
    else:
        (alive, account), waits = read_and_hit([session_key, user_key], counted_if=alive_value, counts=list(counts))
    if alive is not None and account is not None:
        return (AuthState(str(user_id), *account) if alive == alive_value else None), waits
    try:
        sid = uuid.UUID(str(session_id))
    except ValueError:
        return None, None
    row = (
        LoginSession.objects.filter(id=sid)
        .values_list("user_id", "revoked_at", "user__status", "user__language", "user__is_active")
        .first()
    )
    ttl = settings.SESSION_CHECK_CACHE_SECONDS
    if row is None or row[1] is not None:
        cache.set(session_key, _REVOKED, ttl)
        return None, None
    owner, _, status, language, is_active = row
    cache.set_many({session_key: f"{_ALIVE}:{owner}", _user_key(owner): (status, language, is_active)}, ttl)
    if str(owner) != str(user_id):
        return None, None
    return AuthState(str(owner), status, language, is_active), None


def session_cache_forget(session_ids) -> None:
    cache.delete_many([_session_key(sid) for sid in session_ids])


def user_auth_forget(user_id) -> None:
    """The account's status or language changed: the next request reads them again."""
    cache.delete(_user_key(user_id))
