"""What every payment gateway takes and gives back, its errors, and `get_gateway()`.

The interface is described for its callers in `payments/providers/__init__.py`.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from django.conf import settings

from tunee import money, providers

logger = logging.getLogger("payments.providers")

Provider = Literal["wechat", "alipay"]
Device = Literal["miniprogram", "app", "web"]
PaymentState = Literal["paid", "pending", "closed", "refunded", "not_found"]

PROVIDERS: tuple[str, ...] = ("wechat", "alipay")
DEVICES: tuple[str, ...] = ("miniprogram", "app", "web")


# --- Errors -----------------------------------------------------------------------------------------------------


class ProviderError(providers.ProviderError):
    """A payment provider call did not succeed (`tunee.providers.ProviderError`).

    `retryable` says whether trying the same call again later may succeed (timeouts, connection failures, 5xx);
    `message` is the technical text (the base's `detail`); `code` is a provider-neutral reason (see the constants
    below), `provider_code` the provider's own code (`ORDERPAID`, `ACQ.TRADE_NOT_EXIST`, …) when it gave one.
    """

    retryable = False

    # provider-neutral codes
    TRANSPORT = "transport"  # no answer, timeout, HTTP error
    BAD_RESPONSE = "bad_response"  # an answer that is not the provider's protocol
    BAD_SIGNATURE = "bad_signature"  # an answer whose signature does not verify: not trusted
    NOT_CONFIGURED = "not_configured"
    OPENID_REQUIRED = "openid_required"
    ALREADY_PAID = "already_paid"
    NOT_FOUND = "not_found"
    REJECTED = "rejected"

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        provider_code: str = "",
        retryable: bool | None = None,
        raw: Any = None,
    ):
        super().__init__(message, retryable=retryable)
        self.code = code or self.REJECTED
        self.provider_code = provider_code
        self.raw = raw

    @property
    def message(self) -> str:
        return self.detail

    def __str__(self) -> str:
        extra = f" [{self.provider_code}]" if self.provider_code else ""
        return f"{self.detail}{extra}"


class ProviderUnavailable(ProviderError):
    """The provider could not be reached or gave an answer we cannot trust (transport, 5xx, bad signature)."""

    retryable = True


class ProviderRejected(ProviderError):
    """The provider answered and refused (a business error: order already paid, bad parameters, …)."""

    retryable = False


class OpenIdRequired(ProviderRejected):
    """WeChat JSAPI (mini program) payments need the payer's openid: the user must log in with WeChat first."""

    def __init__(self, message: str = "WeChat mini program payment needs the user's openid (log in with WeChat)"):
        super().__init__(message, code=ProviderError.OPENID_REQUIRED)


# --- Values -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PayRequest:
    """One payment to place with a provider. Money in integer fen."""

    order_no: str
    amount_fen: int
    subject: str
    device: Device
    notify_url: str
    client_ip: str = "127.0.0.1"
    openid: str = ""
    expire_at: datetime | None = None  # aware; the provider refuses payment after it
    return_url: str = ""  # Alipay page/wap pay: where the browser goes back to after paying (optional)
    mobile_web: bool = False  # device "web" in a phone's browser: Alipay wap pay instead of page pay

    def __post_init__(self):
        if not isinstance(self.amount_fen, int) or isinstance(self.amount_fen, bool) or self.amount_fen <= 0:
            raise ValueError("amount_fen must be a positive integer")
        if self.device not in DEVICES:
            raise ValueError(f"device must be one of {DEVICES}")


@dataclass(frozen=True)
class ProviderPayment:
    """What the provider says about one order (`query`)."""

    state: PaymentState
    transaction_id: str = ""
    amount_fen: int | None = None
    paid_at: datetime | None = None
    app_id: str = ""
    merchant_id: str = ""
    raw: dict = field(default_factory=dict)

    @property
    def paid(self) -> bool:
        return self.state == "paid"


@dataclass(frozen=True)
class ProviderRefund:
    """A refund the provider accepted."""

    refund_no: str
    refund_id: str
    amount_fen: int
    raw: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Notification:
    """A parsed payment notification (webhook body).

    `verified` is True only when the signature checks with the configured key AND the notification is addressed
    to the configured app and merchant; otherwise `reason` says why not. `paid` is True when the notification
    reports a successful payment. Comparing `order_no`/`amount_fen` with the order is the caller's job.
    """

    verified: bool
    reason: str = ""
    order_no: str = ""
    transaction_id: str = ""
    amount_fen: int | None = None
    app_id: str = ""
    merchant_id: str = ""
    paid: bool = False
    paid_at: datetime | None = None
    raw: dict = field(default_factory=dict)


class Gateway(Protocol):
    """What `get_gateway()` returns: `WeChatPayGateway` or `AlipayGateway`."""

    provider: str
    sandbox: bool
    app_id: str
    merchant_id: str

    def create_payment(self, req: PayRequest) -> dict: ...

    def query(self, order_no: str) -> ProviderPayment: ...

    def close(self, order_no: str) -> None: ...

    def refund(self, order_no: str, refund_no: str, total_fen: int, refund_fen: int) -> ProviderRefund: ...

    def reply(self, ok: bool) -> tuple[bytes, str]: ...


# --- Money ------------------------------------------------------------------------------------------------------


def fen_to_yuan_str(fen: int) -> str:
    """1990 -> "19.90", the gateways' amount format (`tunee.money.fen_to_yuan`: exact, never through float)."""
    return str(money.fen_to_yuan(fen))


def yuan_str_to_fen(value: str) -> int | None:
    """ "19.90" -> 1990 (`tunee.money.yuan_to_fen`); None when a gateway's text is not an amount with at most 2
    decimals."""
    try:
        return money.yuan_to_fen(str(value))
    except ValueError:
        return None


# --- Configuration ----------------------------------------------------------------------------------------------

_CREDENTIALS = {
    "wechat": ("WECHAT_PAY_MCH_ID", "WECHAT_PAY_API_KEY"),
    "alipay": ("ALIPAY_APP_ID", "ALIPAY_APP_PRIVATE_KEY", "ALIPAY_PUBLIC_KEY"),
}


def _check_provider(provider: str) -> None:
    if provider not in PROVIDERS:
        raise ValueError(f"unknown payment provider {provider!r}")


def credentials_configured(provider: str) -> bool:
    """True when any of the provider's merchant credentials is set (all of them must then be set)."""
    _check_provider(provider)
    return any(getattr(settings, name, "") for name in _CREDENTIALS[provider])


def missing_credentials(provider: str) -> list[str]:
    _check_provider(provider)
    return [name for name in _CREDENTIALS[provider] if not getattr(settings, name, "")]


def sandbox_enabled() -> bool:
    """PAYMENT_SANDBOX is on and the sandbox app (`payments_sandbox`, installed by the settings only then) is there."""
    from django.apps import apps

    return bool(settings.PAYMENT_SANDBOX) and apps.is_installed("payments_sandbox")


def sandbox_active(provider: str) -> bool:
    """The sandbox stands in for `provider` when none of its credentials is set and PAYMENT_SANDBOX allows it."""
    return not credentials_configured(provider) and sandbox_enabled()


_built = threading.local()


def built_gateway(cls, **config):
    """`cls(**config)`, built once per configuration and thread. Building a gateway costs more than checking a
    notification's signature (wechatpy inspects its API classes for every client, a requests session is set up,
    Alipay parses its RSA keys), and the notify endpoint needs one up to three times. A gateway holds nothing but
    its configuration and that session; a changed setting is a new configuration, so a new gateway. Kept per
    thread because a requests session is not meant to be shared between threads."""
    gateways = getattr(_built, "gateways", None)
    if gateways is None:
        gateways = _built.gateways = {}
    key = (cls, tuple(sorted(config.items())))
    gateway = gateways.get(key)
    if gateway is None:
        if len(gateways) >= 8:  # settings changed often (tests): drop the old ones
            gateways.clear()
        gateway = gateways[key] = cls(**config)
    return gateway


def get_gateway(provider: str) -> Gateway:
    """The gateway for "wechat" or "alipay", configured from settings (real credentials or the sandbox).

    Raises ProviderUnavailable(code="not_configured", retryable=False) when the provider can be used neither
    for real (credentials missing or incomplete) nor through the sandbox (PAYMENT_SANDBOX off).
    """
    _check_provider(provider)
    if credentials_configured(provider):
        missing = missing_credentials(provider)
        if missing:
            logger.error("payment provider %s is partly configured: %s missing", provider, ", ".join(missing))
            raise ProviderUnavailable(
                f"{provider} payments are partly configured: {', '.join(missing)} missing",
                code=ProviderError.NOT_CONFIGURED,
                retryable=False,
            )
        sandbox = False
    elif sandbox_enabled():
        sandbox = True
    else:
        raise ProviderUnavailable(
            f"{provider} payments are not configured", code=ProviderError.NOT_CONFIGURED, retryable=False
        )
    if provider == "wechat":
        from .wechatpay import WeChatPayGateway

        return WeChatPayGateway.from_settings(sandbox=sandbox)
    from .alipay import AlipayGateway

    return AlipayGateway.from_settings(sandbox=sandbox)
