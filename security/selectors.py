"""Reads of API security state, cached: the app key a signed request names, and the decision of the IP rules.

Both are read on every `/api` request, so both come from the cache (one round trip) and are cleared by the services
that change them. The cache holds a key's encrypted secret, never the plaintext.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache

from django.core.cache import cache
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone

from tunee import localcache
from tunee.crypto import decrypt

from .models import AppKey, IpRule

IP_RULES_CACHE_KEY = "security:ip-rules:v1"
IP_RULES_TTL = 300
APP_KEY_TTL = 300
_MISSING = "-"


@dataclass(frozen=True)
class ActiveKey:
    key_id: str
    app: str
    secret: str


def _app_key_cache_key(key_id: str) -> str:
    return f"security:app-key:{key_id}"


def app_key_forget(key_id: str) -> None:
    cache.delete(_app_key_cache_key(key_id))


def app_key_active(*, key_id: str) -> ActiveKey | None:
    """The active key with this public id, with its secret; None for an unknown or disabled one."""
    if not key_id or len(key_id) > 40:
        return None
    cache_key = _app_key_cache_key(key_id)
    cached = cache.get(cache_key)
    if cached is None:
        # The stored token, not the plaintext (a Cast to plain text skips the field's decryption).
        row = (
            AppKey.objects.filter(key_id=key_id, is_active=True)
            .values_list("app", Cast("secret", output_field=TextField()))
            .first()
        )
        cached = tuple(row) if row else _MISSING
        cache.set(cache_key, cached, APP_KEY_TTL)
    if cached == _MISSING:
        return None
    app, token = cached
    return ActiveKey(key_id=key_id, app=app, secret=decrypt(token))


def ip_rules_changed() -> None:
    localcache.forget(IP_RULES_CACHE_KEY)


def _rules() -> tuple[tuple[str, str, float | None], ...]:
    return localcache.cached(IP_RULES_CACHE_KEY, _load_rules, ttl=IP_RULES_TTL)


def _load_rules() -> tuple[tuple[str, str, float | None], ...]:
    return tuple(
        (network, action, expires_at.timestamp() if expires_at else None)
        for network, action, expires_at in IpRule.objects.values_list("network", "action", "expires_at")
    )


@lru_cache(maxsize=64)
def _parsed(rules: tuple) -> tuple:
    return tuple((ipaddress.ip_network(network, strict=False), action, expires) for network, action, expires in rules)


def ip_decision(address: str | None) -> str | None:
    """`block`, `allow` or None for a client address (a block wins over an allow; expired rules count for nothing)."""
    if not address:
        return None
    rules = _rules()
    if not rules:
        return None
    ip = ipaddress.ip_address(address)
    now = timezone.now().timestamp()
    decision = None
    for network, action, expires in _parsed(rules):
        if expires is not None and expires <= now:
            continue
        if ip.version == network.version and ip in network:
            if action == IpRule.Action.BLOCK:
                return IpRule.Action.BLOCK
            decision = IpRule.Action.ALLOW
    return decision
