"""Who may open a sandbox pay page (and so complete a payment): whoever holds the link the API returned.

The pay page is opened in a browser that has no JWT (scanned from a QR code, followed from Alipay's payUrl), so the
link carries the proof: `token`, an HMAC of the provider and the order number (django.core.signing, its own salt,
the SECRET_KEY and its fallbacks). It is the same wherever the link is built (payParams.sandboxPayUrl, WeChat's
code_url, the Alipay cashier's redirect) and cannot be made for another order without the secret. It works until
the trade's expiry plus GRACE (time to see the result and send the notification again); a trade without an expiry
keeps its link. Without a valid token, the order's owner logged in to this site (a staff session) may still open it.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.utils import timezone
from django.utils.crypto import constant_time_compare

SALT = "payments.sandbox.pay-page"
GRACE = timedelta(hours=1)


def _value(provider: str, out_trade_no: str) -> str:
    return f"{provider}:{out_trade_no}"


def pay_page_token(provider: str, out_trade_no: str) -> str:
    return signing.Signer(salt=SALT).signature(_value(provider, out_trade_no))


def pay_page_token_valid(token: str, *, provider: str, out_trade_no: str, expire_at=None) -> bool:
    if not token or (expire_at is not None and timezone.now() > expire_at + GRACE):
        return False
    value = _value(provider, out_trade_no)
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return any(constant_time_compare(token, signing.Signer(key=key, salt=SALT).signature(value)) for key in keys)
