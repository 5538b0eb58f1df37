"""Login throttles (O(1) counters in the cache, tunee.api.throttles: with Redis they hold across every process).
Rates read from settings on each request: THROTTLE_LOGIN_IP_RATE (attempts per client IP) and
THROTTLE_LOGIN_ACCOUNT_RATE (attempts per email or phone, whatever the IP)."""

from django.conf import settings

from tunee.api.client import client_ip
from tunee.api.throttles import RateThrottle


class LoginIPThrottle(RateThrottle):
    scope = "login_ip"

    def get_rate(self):
        return settings.THROTTLE_LOGIN_IP_RATE

    def get_cache_key(self, request, view):
        return client_ip(request) or "unknown"


class LoginAccountThrottle(RateThrottle):
    scope = "login_account"
    fields = ("email", "phone")

    def get_rate(self):
        return settings.THROTTLE_LOGIN_ACCOUNT_RATE

    def get_cache_key(self, request, view):
        try:
            data = request.data
        except Exception:  # a malformed body: the view answers 400 anyway
            return None
        for field in self.fields:
            value = data.get(field) if hasattr(data, "get") else None
            if isinstance(value, str) and value.strip():
                return f"{field}:{self.account(field, value)}"
        return None

    @staticmethod
    def account(field: str, value: str) -> str:
        """The account a login names, however it is spelled: `+86 138-0013-8000` and `13800138000` are one phone
        (else each spelling would get its own allowance); emails ignore case, as the login does."""
        if field == "phone":
            from .services import phone_normalize

            return phone_normalize(value) or value.strip()
        return value.strip().lower()
