"""Who is calling: the client's address, read once by one rule everywhere (throttles, SMS caps, sessions,
payments, plays).

The rule is DRF's `BaseThrottle.get_ident`: `X-Forwarded-For` is believed only through the `NUM_PROXIES` proxies of
ours that sit in front (0 by default: the connection's own address, and a made-up header changes nothing). With
`NUM_PROXIES=1` behind one reverse proxy, the address is the one that proxy saw, not the proxy's own.
"""

from functools import lru_cache
from ipaddress import ip_address

from rest_framework.settings import api_settings


def _ident(request) -> str | None:
    """`BaseThrottle.get_ident(request)`, reading the forwarded header from `request.META` (as `request.headers`
    would give it) instead of building `request.headers` from every header of the request for one value."""
    xff = request.META.get("HTTP_X_FORWARDED_FOR")
    remote_addr = request.META.get("REMOTE_ADDR")
    num_proxies = api_settings.NUM_PROXIES
    if num_proxies is not None:
        if num_proxies == 0 or xff is None:
            return remote_addr
        addrs = xff.split(",")
        return addrs[-min(num_proxies, len(addrs))].strip()
    return "".join(xff.split()) if xff else remote_addr


@lru_cache(maxsize=4096)  # a client sends the same address request after request; parsing one is slow
def _normalized(ident: str) -> str | None:
    try:
        return str(ip_address(ident.strip()))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """The client's IP address as a string, or None when the request carries none that parses as an address
    (a garbled forwarded header is not stored as an IP)."""
    ident = _ident(request)
    if not ident:
        return None
    return _normalized(ident)
