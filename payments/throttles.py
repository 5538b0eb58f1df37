"""The notify endpoints' throttle: THROTTLE_NOTIFY_IP_RATE requests per client IP (DRF rate syntax, read on each
request; empty turns it off). Cache-backed, so with Redis it holds across every process. The client IP follows
the project's one rule (`tunee.api.client.client_ip`, NUM_PROXIES)."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from tunee.api.client import client_ip


class NotifyIPThrottle(SimpleRateThrottle):
    scope = "notify_ip"

    def get_rate(self):
        return settings.THROTTLE_NOTIFY_IP_RATE or None

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request) or "unknown"}
