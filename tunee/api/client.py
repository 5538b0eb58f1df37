"""Who is calling: the client's address, read once by one rule everywhere (throttles, SMS caps, sessions,
payments, plays).

The rule is DRF's `BaseThrottle.get_ident`: `X-Forwarded-For` is believed only through the `NUM_PROXIES` proxies of
ours that sit in front (0 by default: the connection's own address, and a made-up header changes nothing). With
`NUM_PROXIES=1` behind one reverse proxy, the address is the one that proxy saw, not the proxy's own.
"""

from ipaddress import ip_address

from rest_framework.throttling import BaseThrottle

_IDENT = BaseThrottle()


def client_ip(request) -> str | None:
    """The client's IP address as a string, or None when the request carries none that parses as an address
    (a garbled forwarded header is not stored as an IP)."""
    ident = _IDENT.get_ident(request)
    if not ident:
        return None
    try:
        return str(ip_address(ident.strip()))
    except ValueError:
        return None
