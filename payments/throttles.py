"""The notify endpoints' throttle: THROTTLE_NOTIFY_IP_RATE requests per client IP (DRF rate syntax, read on each
request; empty turns it off). An O(1) counter in the cache (tunee.api.throttles), so with Redis it holds across
every process. The client IP follows
the project's one rule (`tunee.api.client.client_ip`, NUM_PROXIES)."""

from django.conf import settings

from tunee.api.client import client_ip
from tunee.api.throttles import RateThrottle


class NotifyIPThrottle(RateThrottle):
    scope = "notify_ip"

    def get_rate(self):
        return settings.THROTTLE_NOTIFY_IP_RATE or None

    def get_cache_key(self, request, view):
        return client_ip(request) or "unknown"
