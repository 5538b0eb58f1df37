"""What the payment services share: the contract's answer for a provider failure, the gateway lookup that gives
it, the order event log and the answer for an order in the wrong state."""

from __future__ import annotations

import logging

from tunee.api.errors import ApiError, Code
from tunee.api.i18n import T

from ..models import Order, OrderEvent
from ..providers import OpenIdRequired, ProviderError, ProviderRejected, get_gateway

logger = logging.getLogger("payments")

WECHAT_LOGIN_NEEDED = T(
    "微信小程序支付需要先使用微信登录", "WeChat mini program payment needs a WeChat login: log in with WeChat first"
)


def provider_api_error(exc: ProviderError, *, placing: bool = False) -> ApiError:
    """The contract's answer for a provider failure: 40001 when the provider refused a new order (or WeChat needs
    the openid), otherwise 50000."""
    if isinstance(exc, OpenIdRequired):
        return ApiError(Code.PURCHASE_FAILED, details={"openid": [str(WECHAT_LOGIN_NEEDED)], "login": "wechat"})
    if placing and isinstance(exc, ProviderRejected) and exc.code != ProviderError.NOT_CONFIGURED:
        return ApiError(Code.PURCHASE_FAILED, details={"provider": exc.provider_code or exc.code})
    return ApiError(Code.UPSTREAM_FAILED, details={"provider": exc.code, "retryable": exc.retryable})


def _gateway(provider: str):
    try:
        return get_gateway(provider)
    except ProviderError as exc:
        raise provider_api_error(exc) from exc


def _event(order: Order, kind: str, *, source: str = "", actor=None, **data) -> OrderEvent:
    return OrderEvent.objects.create(order=order, kind=kind, source=source, actor=actor, data=data)


def _state_conflict(order: Order) -> ApiError:
    return ApiError(Code.ORDER_STATE_CONFLICT, details={"orderNo": order.order_no, "status": order.status})
