"""Rate limits as O(1) counters in the cache: one round trip per throttle and request, whatever the rate.

DRF's own throttles keep a list of every request's timestamp per client and rewrite it on each request (a read, a
pickled list that grows with the rate, a write). These keep one number per client instead — the "theoretical
arrival time" of the generic cell rate algorithm (GCRA) — read and moved in one atomic Lua call on Redis:

- a rate of N per period lets N requests through at once (the burst), then one every period / N;
- a refused request changes nothing, and says how long to wait (`Retry-After`) until one more is allowed.

So "10/min" allows ten quick requests, then one every six seconds; a client that waits a minute has all ten again.
Without Redis (the embedded defaults, tests without REDIS_URL) the same algorithm runs on the process's own cache
under a lock. When Redis cannot be reached, requests are let through (logged): a throttle must not take the API
down with it.

Subclasses say what they count (`get_cache_key`: None counts nothing) and at what rate (`get_rate`, by default the
`DEFAULT_THROTTLE_RATES` entry of their `scope`, read on each request so that settings overrides apply).
"""

from __future__ import annotations

import logging
import threading
import time

from django.core.cache import cache
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from .client import client_ip

logger = logging.getLogger(__name__)

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# Seconds a caller's clock may be behind the latest one before its counter is taken for a clock that went back.
CLOCK_SLACK = 5.0

# KEYS[1]: the client's key. ARGV: now (s), interval (period / limit, s), burst (period, s), clock slack (s).
_GCRA = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
-- more than a burst (and some slack: racing callers read the clock in any order) ahead: a clock that went back
if tat < now or tat > now + burst + tonumber(ARGV[4]) then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - burst
if allow_at > now then
  return tostring(allow_at - now)
end
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil((new_tat - now) * 1000) + 1)
return '0'
"""
_script = None
_local_lock = threading.Lock()


def parse_rate(rate: str | None) -> tuple[int, int] | None:
    """`"30/min"` → (30, 60): requests and seconds (DRF's syntax: the period's first letter s, m, h or d)."""
    if not rate:
        return None
    count, _, period = str(rate).partition("/")
    return int(count), PERIODS[period.strip()[0]]


def _redis_client():
    raw = getattr(cache, "_cache", None)
    get_client = getattr(raw, "get_client", None)
    return get_client(write=True) if get_client is not None else None


def _hit_redis(client, key: str, now: float, interval: float, burst: float) -> float:
    global _script
    if _script is None:
        _script = client.register_script(_GCRA)
    return float(_script(keys=[key], args=[repr(now), repr(interval), repr(burst), repr(CLOCK_SLACK)], client=client))


def _hit_local(key: str, now: float, interval: float, burst: float) -> float:
    with _local_lock:
        tat = float(cache.get(key) or 0.0)
        if tat < now or tat > now + burst + CLOCK_SLACK:  # more than a burst ahead: a clock that went back
            tat = now
        new_tat = tat + interval
        if new_tat - burst > now:
            return new_tat - burst - now
        cache.set(key, new_tat, timeout=int(new_tat - now) + 1)
        return 0.0


def rate_hit(key: str, *, limit: int, period: int) -> float:
    """Count one request against `limit` per `period` seconds for `key`: 0 when it is allowed, else the seconds to
    wait before one more would be (the request is then not counted)."""
    if limit <= 0:
        return float(period)
    now = time.time()
    interval, burst = period / limit, float(period)
    cache_key = cache.make_and_validate_key(f"rate:{key}")
    client = _redis_client()
    if client is None:
        return _hit_local(cache_key, now, interval, burst)
    try:
        return _hit_redis(client, cache_key, now, interval, burst)
    except Exception:  # Redis down or refusing: let the request through rather than fail it
        logger.warning("rate limit %s not checked: the cache is unavailable", key, exc_info=True)
        return 0.0


class RateThrottle(BaseThrottle):
    """A DRF throttle on `rate_hit`. Set `scope` (and `rate`, or a `DEFAULT_THROTTLE_RATES` entry for the scope),
    and say what is counted in `get_cache_key`."""

    scope = ""
    rate: str | None = None

    def __init__(self):
        self._wait: float | None = None

    def get_rate(self) -> str | None:
        if self.rate is not None:
            return self.rate
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view) -> str | None:
        raise NotImplementedError

    def allow_request(self, request, view) -> bool:
        parsed = parse_rate(self.get_rate())
        if parsed is None:
            return True
        ident = self.get_cache_key(request, view)
        if ident is None:
            return True
        self._wait = rate_hit(f"{self.scope}:{ident}", limit=parsed[0], period=parsed[1])
        return self._wait == 0

    def wait(self) -> float | None:
        return self._wait


def _user_pk(request):
    user = getattr(request, "user", None)
    return user.pk if user is not None and user.is_authenticated else None


def _allowlisted(request) -> bool:
    """An address on the allow list (set on the request by security.middleware.IpFilterMiddleware)."""
    return bool(getattr(request, "ip_allowlisted", False))


class AnonRateThrottle(RateThrottle):
    """Anonymous requests per client address (`THROTTLE_ANON_RATE`); allow-listed addresses are not counted."""

    scope = "anon"

    def get_cache_key(self, request, view):
        if _user_pk(request) is not None or _allowlisted(request):
            return None
        return client_ip(request) or "unknown"


class UserRateThrottle(RateThrottle):
    """Requests per user (`THROTTLE_USER_RATE`); anonymous ones per client address, except allow-listed ones."""

    scope = "user"

    def get_cache_key(self, request, view):
        pk = _user_pk(request)
        if pk is None and _allowlisted(request):
            return None
        return f"u:{pk}" if pk is not None else f"ip:{client_ip(request) or 'unknown'}"
