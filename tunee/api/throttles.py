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

from tunee import cache as shared_cache

from .client import client_ip

logger = logging.getLogger(__name__)

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# Seconds a caller's clock may be behind the latest one before its counter is taken for a clock that went back.
CLOCK_SLACK = 5.0

# The algorithm, as a Lua function: key, now (s), interval (period / limit, s), burst (period, s), clock slack (s).
# Returns the seconds to wait, '0' when the request is allowed (and counted).
_GCRA_FUNCTION = """
local function gcra(key, now, interval, burst, slack)
  local tat = tonumber(redis.call('GET', key) or '0')
  -- more than a burst (and some slack: racing callers read the clock in any order) ahead: a clock that went back
  if tat < now or tat > now + burst + slack then tat = now end
  local new_tat = tat + interval
  local allow_at = new_tat - burst
  if allow_at > now then
    return tostring(allow_at - now)
  end
  redis.call('SET', key, tostring(new_tat), 'PX', math.ceil((new_tat - now) * 1000) + 1)
  return '0'
end
"""
# KEYS[1]: the client's key. ARGV: now, interval, burst, clock slack.
_GCRA = (
    _GCRA_FUNCTION
    + """
return gcra(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]))
"""
)
# KEYS: the n = ARGV[1] values read, then the clients' keys. ARGV[2]: what KEYS[1] must hold (and every other key
# read be set) for the request to be counted; ARGV[3], ARGV[4]: now, clock slack; then interval and burst of each
# client's key. Returns the values read, then each key's wait, or '-' for each when the request was not counted.
_READ_AND_GCRA = (
    _GCRA_FUNCTION
    + """
local n = tonumber(ARGV[1])
local values = redis.call('MGET', unpack(KEYS, 1, n))
local counted = values[1] == ARGV[2]
for i = 2, n do counted = counted and values[i] ~= false end
local now, slack = tonumber(ARGV[3]), tonumber(ARGV[4])
for i = n + 1, #KEYS do
  local at = 5 + (i - n - 1) * 2
  values[i] = counted and gcra(KEYS[i], now, tonumber(ARGV[at]), tonumber(ARGV[at + 1]), slack) or '-'
end
return values
"""
)
_local_lock = threading.Lock()


def parse_rate(rate: str | None) -> tuple[int, int] | None:
    """`"30/min"` → (30, 60): requests and seconds (DRF's syntax: the period's first letter s, m, h or d)."""
    if not rate:
        return None
    count, _, period = str(rate).partition("/")
    return int(count), PERIODS[period.strip()[0]]


def _hit_redis(client, key: str, now: float, interval: float, burst: float) -> float:
    args = [repr(now), repr(interval), repr(burst), repr(CLOCK_SLACK)]
    return float(shared_cache.lua_script(client, _GCRA)(keys=[key], args=args, client=client))


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
    client = shared_cache.redis_client()
    if client is None:
        return _hit_local(cache_key, now, interval, burst)
    try:
        return _hit_redis(client, cache_key, now, interval, burst)
    except Exception:  # Redis down or refusing: let the request through rather than fail it
        logger.warning("rate limit %s not checked: the cache is unavailable", key, exc_info=True)
        return 0.0


def read_and_hit(keys: list[str], *, counted_if, counts: list[tuple[str, int, int]]) -> tuple[list, dict | None]:
    """`cache.get_many(keys)` as a list (None for a missing key) and `rate_hit(key, limit=..., period=...)` for each
    of `counts` in one round trip to Redis, the request counted only when `keys[0]` holds `counted_if` and every
    other key is set: (values, {key: its wait, 0 when allowed}, or None when the request was not counted). A cache
    error is raised, as `get_many` raises it."""
    client = shared_cache.redis_client()
    if client is None or any(limit <= 0 for _, limit, _ in counts):
        found = cache.get_many(keys)
        values = [found.get(each) for each in keys]
        if values[0] != counted_if or any(value is None for value in values[1:]):
            return values, None
        return values, {key: rate_hit(key, limit=limit, period=period) for key, limit, period in counts}
    serializer = cache._cache._serializer
    raw_keys = [cache.make_and_validate_key(each) for each in keys]
    args = [len(keys), serializer.dumps(counted_if), repr(time.time()), repr(CLOCK_SLACK)]
    for key, limit, period in counts:
        raw_keys.append(cache.make_and_validate_key(f"rate:{key}"))
        args += [repr(period / limit), repr(float(period))]
    answer = shared_cache.lua_script(client, _READ_AND_GCRA)(keys=raw_keys, args=args, client=client)
    values = [None if value is None else serializer.loads(value) for value in answer[: len(keys)]]
    waits = answer[len(keys) :]
    if not counts or waits[0] == b"-":
        return values, None
    return values, {key: float(wait) for (key, _, _), wait in zip(counts, waits, strict=True)}


# On a DRF request: {key: wait} of the rates the request was already counted against (see `user_counts`).
PRECOUNTED = "_rate_precounted"


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
        key = f"{self.scope}:{ident}"
        precounted = getattr(request, PRECOUNTED, None)
        if precounted and key in precounted:  # counted by the authentication's cache read: once
            self._wait = precounted.pop(key)
        else:
            self._wait = rate_hit(key, limit=parsed[0], period=parsed[1])
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


def user_counts(view, user_pk) -> list[tuple[str, int, int]]:
    """(key, limit, period) of each per-user rate `view` counts an authenticated `user_pk`'s request against (its
    UserRateThrottle and subclasses that count by user: the generation and upload rates): the authentication counts
    them in its own cache round trip (`read_and_hit`) and leaves the waits under PRECOUNTED on the request, where
    `allow_request` takes them instead of counting again."""
    get_throttles = getattr(view, "get_throttles", None)
    if get_throttles is None:
        return []
    counts = []
    for throttle in get_throttles():
        if isinstance(throttle, UserRateThrottle) and type(throttle).get_cache_key is UserRateThrottle.get_cache_key:
            parsed = parse_rate(throttle.get_rate())
            if parsed is not None:
                counts.append((f"{throttle.scope}:u:{user_pk}", *parsed))
    return counts
