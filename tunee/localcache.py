"""A process-local layer over the shared cache for small values that every request reads and that change rarely
(the plan and package catalog, the IP rules): each process asks the shared cache for them at most once every
`LOCAL_CACHE_SECONDS` (default 5) instead of once a request.

A change made through the services (`forget`) is seen at once by the process that made it and within
`LOCAL_CACHE_SECONDS` by the others; nothing that guards money, quota or logins (sessions, revocations, throttles)
is kept here.
"""

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache

_store: dict[str, tuple[float, Any]] = {}


def cached(key: str, load: Callable[[], Any], *, ttl: int) -> Any:
    """The value under `key`: from this process's copy while it is fresh, else from the shared cache, else `load()`
    (stored in the shared cache for `ttl` seconds)."""
    now = time.monotonic()
    hit = _store.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    value = cache.get(key)
    if value is None:
        value = load()
        cache.set(key, value, ttl)
    _store[key] = (now + settings.LOCAL_CACHE_SECONDS, value)
    return value


def forget(*keys: str) -> None:
    cache.delete_many(keys)
    for key in keys:
        _store.pop(key, None)


def clear() -> None:
    """Drop this process's copies (tests, after clearing the shared cache)."""
    _store.clear()
