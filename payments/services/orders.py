"""Placing an order (the row committed first, then the provider called), closing it and expiring it."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from membership.models import Plan, PointPackage
from membership.selectors import ensure_on_sale
from tunee import metrics
from tunee.api.errors import ApiError, Code

from .. import selectors
from ..models import Order, OrderEvent
from ..providers import OpenIdRequired, PayRequest, ProviderError
from ._common import _event, _gateway, _state_conflict, logger, provider_api_error
from .settlement import order_sync

NOTIFY_PATHS = {"wechat": "/api/payment/wechat/notify", "alipay": "/api/payment/alipay/notify"}
TRADE_TYPES = {
    ("wechat", "miniprogram"): "JSAPI",
    ("wechat", "app"): "APP",
    ("wechat", "web"): "NATIVE",
    ("alipay", "miniprogram"): "alipay.trade.wap.pay",
    ("alipay", "app"): "alipay.trade.app.pay",
    ("alipay", "web"): "alipay.trade.page.pay",
}
# Alipay in a phone's browser (device "web", mobile_web): wap pay, which opens the Alipay app, not page pay
MOBILE_WEB_TRADE_TYPES = {"alipay": "alipay.trade.wap.pay"}
ORDER_NO_ATTEMPTS = 20


def notify_url(provider: str) -> str:
    """Where the provider posts its notifications: our public origin + the notify path (the sandbox delivers
    in-process to exactly this URL)."""
    return settings.PUBLIC_BASE_URL.rstrip("/") + NOTIFY_PATHS[provider]


# --- placing an order -----------------------------------------------------------------------------------------------


def _new_order_no(now: datetime) -> str:
    """`TN` + YYYYMMDDHHmm (business time zone) + 4 random digits."""
    return f"TN{timezone.localtime(now):%Y%m%d%H%M}{secrets.randbelow(10_000):04d}"


@transaction.atomic
def _order_insert(**fields) -> Order:
    """Insert a pending order under a fresh order number, drawing again when the number is taken."""
    now = timezone.now()
    for _ in range(ORDER_NO_ATTEMPTS):
        order_no = _new_order_no(now)
        try:
            with transaction.atomic():
                order = Order.objects.create(
                    order_no=order_no,
                    created_at=now,
                    expire_at=now + timedelta(minutes=settings.PAYMENT_ORDER_TTL_MINUTES),
                    **fields,
                )
        except IntegrityError:
            if Order.objects.filter(order_no=order_no).exists():
                continue  # the number is taken: draw another
            raise
        _event(order, OrderEvent.Kind.CREATED, source="api", amount_fen=order.amount_fen, order_no=order_no)
        metrics.order_created(order)
        return order
    raise ApiError(Code.INTERNAL, details={"orderNo": ["no free order number this minute"]})


def order_create(
    *,
    user,
    payment_method: str,
    device: str,
    plan: Plan | None = None,
    package: PointPackage | None = None,
    client_ip: str | None = None,
    mobile_web: bool = False,
) -> Order:
    """Place an order for a plan or a point package and get the provider's payment parameters.

    `mobile_web`: device "web" in a phone's browser (Alipay then gets wap pay instead of page pay).

    Not one transaction on purpose: the order row is committed first, then the provider is called, then the
    parameters are stored. When the provider fails the order is closed with the reason (never left pending without
    parameters) and the error is 50000 (unreachable, bad answer) or 40001 (the provider refused).
    """
    if (plan is None) == (package is None):
        raise ValueError("order exactly one plan or one package")
    ensure_on_sale(plan=plan, package=package)  # membership decides what can be bought
    gateway = _gateway(payment_method)
    openid = user.wechat_openid or ""
    if payment_method == Order.Method.WECHAT and device == Order.Device.MINIPROGRAM and not openid:
        raise provider_api_error(OpenIdRequired())

    order = _order_insert(
        user=user,
        kind=Order.Kind.MEMBERSHIP if plan is not None else Order.Kind.POINTS,
        plan=plan,
        package=package,
        points=package.points if package is not None else 0,
        subject=(plan or package).name,
        amount_fen=(plan or package).price_fen,
        payment_method=payment_method,
        device=device,
        trade_type=(MOBILE_WEB_TRADE_TYPES.get(payment_method) if mobile_web and device == Order.Device.WEB else None)
        or TRADE_TYPES[(payment_method, device)],
        client_ip=client_ip,
    )
    request = PayRequest(
        order_no=order.order_no,
        amount_fen=order.amount_fen,
        subject=order.subject,
        device=device,
        notify_url=notify_url(payment_method),
        client_ip=client_ip or "127.0.0.1",
        openid=openid,
        expire_at=order.expire_at,
        mobile_web=mobile_web and device == Order.Device.WEB,
    )
    try:
        params = gateway.create_payment(request)
    except Exception as exc:
        _order_fail(order=order, exc=exc)
        if isinstance(exc, ProviderError):
            raise provider_api_error(exc, placing=True) from exc
        raise
    return _order_store_params(order=order, params=params)


@transaction.atomic
def _order_fail(*, order: Order, exc: Exception) -> None:
    """The provider could not place the order: close it with the reason, so that nothing is left half-made."""
    now = timezone.now()
    message = str(exc)[:200] or type(exc).__name__
    Order.objects.filter(pk=order.pk, status=Order.Status.PENDING).update(
        status=Order.Status.CLOSED, closed_at=now, close_reason=f"provider failed: {message}"
    )
    code = exc.code if isinstance(exc, ProviderError) else "error"
    _event(order, OrderEvent.Kind.PROVIDER_FAILED, source="api", error=message, code=code)
    logger.warning("order %s: the provider failed: %s", order.order_no, message)


@transaction.atomic
def _order_store_params(*, order: Order, params: dict) -> Order:
    Order.objects.filter(pk=order.pk).update(pay_params=params)
    order.pay_params = params
    _event(order, OrderEvent.Kind.PAY_PARAMS, source="api", keys=sorted(params))
    return order


# --- closing and expiring -----------------------------------------------------------------------------------------


def order_close(*, order: Order, reason: str, source: str, actor=None) -> Order:
    """Close a pending order, at the provider first (so it can no longer be paid), then here.

    When the provider says it is already paid, the payment is settled instead (the order ends paid). 40005 when
    the order is not pending; 50000 when the provider cannot be reached (the order stays pending).
    """
    if order.status != Order.Status.PENDING:
        raise _state_conflict(order)
    gateway = _gateway(order.payment_method)
    try:
        gateway.close(order.order_no)
    except ProviderError as exc:
        if exc.code == ProviderError.ALREADY_PAID:
            return order_sync(order=order, source=source)
        with transaction.atomic():
            _event(order, OrderEvent.Kind.CLOSE_FAILED, source=source, actor=actor, error=str(exc)[:200])
        raise provider_api_error(exc) from exc
    return _order_close_here(order=order, reason=reason, source=source, actor=actor)


@transaction.atomic
def _order_close_here(*, order: Order, reason: str, source: str, actor=None) -> Order:
    locked = Order.objects.select_for_update().get(pk=order.pk)
    if locked.status != Order.Status.PENDING:
        raise _state_conflict(locked)
    locked.status = Order.Status.CLOSED
    locked.closed_at = timezone.now()
    locked.close_reason = reason
    locked.save(update_fields=["status", "closed_at", "close_reason"])
    _event(locked, OrderEvent.Kind.CLOSED, source=source, actor=actor, reason=reason)
    return locked


@dataclass
class ExpiryReport:
    closed: list[str] = field(default_factory=list)
    settled: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    would_close: list[str] = field(default_factory=list)


def orders_close_expired(*, dry_run: bool = False, now: datetime | None = None) -> ExpiryReport:
    """Close every pending order past its expireAt (at the provider too). A provider that cannot be reached leaves
    the order pending for the next run; one that reports the order paid gets it settled instead."""
    report = ExpiryReport()
    for order in selectors.orders_expired(now=now or timezone.now()).iterator():
        if dry_run:
            report.would_close.append(order.order_no)
            continue
        try:
            result = order_close(order=order, reason="expired", source="expiry")
        except ApiError as exc:
            if exc.code == Code.ORDER_STATE_CONFLICT:
                continue  # paid or closed meanwhile
            report.failed.append(order.order_no)
            continue
        (report.settled if result.status == Order.Status.PAID else report.closed).append(order.order_no)
    return report
