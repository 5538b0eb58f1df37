"""Writes of payments: placing orders, settling payments exactly once, closing, expiring, reconciling, refunding,
and handling the providers' notifications.

The one rule everything here follows: only a verified notification or our own query to the provider moves an
order to paid, and it does so through `order_settle`, which locks the order row, checks the payment against the
order, and grants the membership or the points in the same transaction. The one-to-one key from `OrderGrant` to
`Order` makes a second grant impossible in the database, whatever the number of duplicate notifications.

Calls to the providers happen outside our transactions (a network call must not hold row locks, and in sandbox
mode the provider is answered in-process on the same database connection): the order row is committed first,
then the provider is called, then the outcome is written in a short transaction of its own. One exception: a
refund calls the provider under its locks (`_order_refund_locked` says why).
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from membership.models import Plan, PointPackage, PointsEntry
from membership.services import (
    membership_extend,
    membership_revoke,
    points_balance_for_update,
    points_credit,
    points_spend,
)
from tunee.api.errors import ApiError, Code
from tunee.api.i18n import T

from . import selectors
from .models import Order, OrderEvent, OrderGrant, PaymentNotification
from .providers import (
    Notification,
    OpenIdRequired,
    PayRequest,
    ProviderError,
    ProviderPayment,
    ProviderRejected,
    get_gateway,
)

logger = logging.getLogger("payments")

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
WECHAT_LOGIN_NEEDED = T(
    "微信小程序支付需要先使用微信登录", "WeChat mini program payment needs a WeChat login: log in with WeChat first"
)


def notify_url(provider: str) -> str:
    """Where the provider posts its notifications: our public origin + the notify path (the sandbox delivers
    in-process to exactly this URL)."""
    return settings.PUBLIC_BASE_URL.rstrip("/") + NOTIFY_PATHS[provider]


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
    if plan is not None and (plan.is_free or not plan.is_active):
        raise ApiError(Code.PURCHASE_FAILED, details={"type": ["this plan cannot be bought"]})
    if package is not None and not package.is_active:
        raise ApiError(Code.PURCHASE_FAILED, details={"packageId": ["this package cannot be bought"]})
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


# --- settling a payment -------------------------------------------------------------------------------------------


class Settle(StrEnum):
    SETTLED = "settled"  # this call marked the order paid and granted what it bought
    SETTLED_LATE = "settled_late"  # the same, for an order that was closed: flagged for staff
    DUPLICATE = "duplicate"  # already paid by this very transaction: nothing to do
    REFUSED = "refused"  # the payment does not match the order (or there is no such order)


@dataclass(frozen=True)
class PaymentProof:
    """A payment as a verified notification or our own provider query reports it."""

    provider: str
    order_no: str
    transaction_id: str
    amount_fen: int | None
    app_id: str = ""
    merchant_id: str = ""
    paid_at: datetime | None = None
    source: str = "notify"  # notify / query / reconcile / expiry / admin

    @classmethod
    def from_query(cls, provider: str, order_no: str, payment: ProviderPayment, source: str) -> PaymentProof:
        return cls(
            provider=provider,
            order_no=order_no,
            transaction_id=payment.transaction_id,
            amount_fen=payment.amount_fen,
            app_id=payment.app_id,
            merchant_id=payment.merchant_id,
            paid_at=payment.paid_at,
            source=source,
        )


@dataclass
class SettleResult:
    outcome: Settle
    order: Order | None = None
    reason: str = ""
    extra: dict = field(default_factory=dict)


def _mismatch(order: Order, proof: PaymentProof) -> str:
    """Why this payment cannot settle this order ("" when it can)."""
    if proof.provider != order.payment_method:
        return f"channel {proof.provider} does not match the order's {order.payment_method}"
    if proof.amount_fen != order.amount_fen:
        return f"amount {proof.amount_fen} fen does not match the order's {order.amount_fen} fen"
    if not proof.transaction_id:
        return "no transaction id"
    try:
        gateway = get_gateway(proof.provider)
    except ProviderError as exc:
        return f"provider not configured: {exc}"
    if gateway.app_id and proof.app_id and proof.app_id != gateway.app_id:
        return f"app id {proof.app_id} is not ours"
    if gateway.app_id and not proof.app_id:
        return "no app id"
    if gateway.merchant_id and proof.merchant_id != gateway.merchant_id:
        return f"merchant id {proof.merchant_id!r} is not ours"
    return ""


@transaction.atomic
def order_settle(*, proof: PaymentProof) -> SettleResult:
    """Settle one payment exactly once: lock the order, check channel, amount, app and merchant, then mark it paid
    and grant the membership or points in this same transaction. Already paid by the same transaction: no-op.
    A payment for a closed order is still settled (the money was taken) and flagged `paid_after_close`."""
    order = Order.objects.select_for_update().filter(order_no=proof.order_no).first()
    if order is None:
        logger.warning("payment for unknown order %r from %s", proof.order_no, proof.source)
        return SettleResult(Settle.REFUSED, None, "unknown order")
    if order.status in (Order.Status.PAID, Order.Status.REFUNDED):
        if order.transaction_id == proof.transaction_id and proof.provider == order.payment_method:
            return SettleResult(Settle.DUPLICATE, order)
        reason = f"the order is already {order.status} by transaction {order.transaction_id}"
        _event(order, OrderEvent.Kind.SETTLE_REFUSED, source=proof.source, reason=reason, **_proof_data(proof))
        logger.error("order %s: a second payment %s: %s", order.order_no, proof.transaction_id, reason)
        return SettleResult(Settle.REFUSED, order, reason)
    reason = _mismatch(order, proof)
    if reason:
        _event(order, OrderEvent.Kind.SETTLE_REFUSED, source=proof.source, reason=reason, **_proof_data(proof))
        logger.error("order %s: payment refused: %s", order.order_no, reason)
        return SettleResult(Settle.REFUSED, order, reason)

    late = order.status == Order.Status.CLOSED
    order.status = Order.Status.PAID
    order.transaction_id = proof.transaction_id
    order.paid_at = proof.paid_at or timezone.now()
    order.paid_after_close = late
    try:
        with transaction.atomic():
            order.save(update_fields=["status", "transaction_id", "paid_at", "paid_after_close"])
    except IntegrityError:  # this transaction id already paid another order
        reason = f"transaction {proof.transaction_id} already paid another order"
        order.refresh_from_db()
        _event(order, OrderEvent.Kind.SETTLE_REFUSED, source=proof.source, reason=reason, **_proof_data(proof))
        return SettleResult(Settle.REFUSED, order, reason)
    _grant(order)
    kind = OrderEvent.Kind.PAID_AFTER_CLOSE if late else OrderEvent.Kind.PAID
    _event(order, kind, source=proof.source, **_proof_data(proof))
    if late:
        logger.warning("order %s was paid after it was closed: settled and flagged", order.order_no)
    return SettleResult(Settle.SETTLED_LATE if late else Settle.SETTLED, order)


def _proof_data(proof: PaymentProof) -> dict:
    return {
        "transactionId": proof.transaction_id,
        "amountFen": proof.amount_fen,
        "provider": proof.provider,
        "appId": proof.app_id,
        "merchantId": proof.merchant_id,
    }


def _grant(order: Order) -> OrderGrant:
    """Give what the order bought. Runs inside order_settle's transaction; a second grant breaks the one-to-one."""
    source = f"order:{order.order_no}"
    if order.kind == Order.Kind.MEMBERSHIP:
        event = membership_extend(user=order.user, plan=order.plan, source=source)
        return OrderGrant.objects.create(order=order, user_id=order.user_id, days=event.days, membership_event=event)
    entry = points_credit(user=order.user, amount=order.points, reason=PointsEntry.Reason.PURCHASE, reference=source)
    return OrderGrant.objects.create(order=order, user_id=order.user_id, points=order.points, points_entry=entry)


# --- asking the provider ------------------------------------------------------------------------------------------


def order_sync(*, order: Order, source: str = "query") -> Order:
    """Ask the provider about a pending or closed order and settle it when it reports the payment.

    Paid and refunded orders are answered from the database. Provider failures are 50000.
    """
    if order.status not in (Order.Status.PENDING, Order.Status.CLOSED):
        return order
    gateway = _gateway(order.payment_method)
    try:
        payment = gateway.query(order.order_no)
    except ProviderError as exc:
        raise provider_api_error(exc) from exc
    if payment.paid:
        result = order_settle(proof=PaymentProof.from_query(order.payment_method, order.order_no, payment, source))
        if result.outcome == Settle.REFUSED:
            logger.error("order %s: the provider reports a payment we refused: %s", order.order_no, result.reason)
    order.refresh_from_db()
    return order


@dataclass
class ReconcileReport:
    checked: list[str] = field(default_factory=list)
    settled: list[str] = field(default_factory=list)
    would_settle: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def payments_reconcile(*, since_hours: float = 24, dry_run: bool = False) -> ReconcileReport:
    """Ask the provider about every pending or closed, unpaid order of the last `since_hours` hours and settle
    those it reports paid (a notification that never arrived). With dry_run nothing is written."""
    report = ReconcileReport()
    since = timezone.now() - timedelta(hours=since_hours)
    for order in selectors.orders_to_reconcile(since=since).iterator():
        report.checked.append(order.order_no)
        try:
            gateway = get_gateway(order.payment_method)
            payment = gateway.query(order.order_no)
        except ProviderError as exc:
            logger.warning("reconcile %s: %s", order.order_no, exc)
            report.failed.append(order.order_no)
            continue
        if not payment.paid:
            continue
        if dry_run:
            report.would_settle.append(order.order_no)
            continue
        proof = PaymentProof.from_query(order.payment_method, order.order_no, payment, "reconcile")
        result = order_settle(proof=proof)
        if result.outcome in (Settle.SETTLED, Settle.SETTLED_LATE):
            report.settled.append(order.order_no)
        elif result.outcome == Settle.REFUSED:
            report.failed.append(order.order_no)
    return report


# --- closing and expiring -----------------------------------------------------------------------------------------


def _state_conflict(order: Order) -> ApiError:
    return ApiError(Code.ORDER_STATE_CONFLICT, details={"orderNo": order.order_no, "status": order.status})


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


# --- refunds ------------------------------------------------------------------------------------------------------


def order_refund(*, order: Order, actor, reason: str = "", take_back_available_points: bool = False) -> Order:
    """Refund a paid order in full (staff, behind the `payments.refund` permission): in one transaction, under the
    locks of the order, its grant and the user's points account, the rule below is checked, the provider refunds
    the money, the order becomes refunded and what it granted is taken back with a ledger entry.

    Membership: the days bought are taken off the expiry (never before now). Points: when the user has already
    spent some, the refund is refused with 40000 (details: balance and points bought) so that staff decide; with
    `take_back_available_points` the money is refunded anyway and only the points left are taken back, the
    shortfall recorded in the order's event. Not paid → 40005. Provider failure → 50000 (or 40001 when it refused),
    recorded as an event; the order stays paid.
    """
    if order.status != Order.Status.PAID:
        raise _state_conflict(order)
    gateway = _gateway(order.payment_method)
    try:
        return _order_refund_locked(
            order=order,
            gateway=gateway,
            actor=actor,
            reason=reason,
            take_back_available_points=take_back_available_points,
        )
    except ProviderError as exc:
        with transaction.atomic():
            _event(order, OrderEvent.Kind.REFUND_FAILED, source="admin", actor=actor, error=str(exc)[:200])
        raise provider_api_error(exc, placing=True) from exc


@transaction.atomic
def _order_refund_locked(*, order: Order, gateway, actor, reason: str, take_back_available_points: bool) -> Order:
    """The exception to "no provider call inside our transactions", on purpose: the points check is only true
    while the points account stays locked, and it must still be true when the money goes back. Checking first
    and refunding later let a spend slip in between (the refund then took back less than it bought without staff
    agreeing); taking the points first and giving them back when the provider fails would write ledger entries for
    refunds that never happened. Holding the locks for one provider call (PAYMENT_TIMEOUT_SECONDS at most) only
    makes that user's concurrent spends wait; refunds are rare staff actions. The lock order (order, grant, points
    account) is the one settlement uses, so the two cannot deadlock. In sandbox mode the provider answers
    in-process on this same connection, so its trade book commits or rolls back with us."""
    locked = Order.objects.select_for_update().get(pk=order.pk)
    if locked.status == Order.Status.REFUNDED:
        return locked
    if locked.status != Order.Status.PAID:
        raise _state_conflict(locked)
    grant = OrderGrant.objects.select_for_update().get(order=locked)
    balance = 0
    if grant.points:
        balance = points_balance_for_update(user=locked.user)
        if balance < grant.points and not take_back_available_points:
            raise ApiError(Code.INSUFFICIENT_POINTS, details={"points": balance, "required": grant.points})
    refund_no = f"RF{locked.order_no}"  # one refund per order: the same number again does not refund twice
    refund = gateway.refund(locked.order_no, refund_no, locked.amount_fen, locked.amount_fen)
    source = f"order:{locked.order_no}"
    note = reason or "order refunded"
    data: dict = {"refundNo": refund_no, "refundId": refund.refund_id, "amountFen": locked.amount_fen, "reason": reason}
    if grant.days:
        membership_revoke(user=locked.user, days=grant.days, source=source, actor=actor, reason=note)
        data["days"] = grant.days
    else:
        take = min(grant.points, balance)
        if take:
            points_spend(
                user=locked.user,
                amount=take,
                reason=PointsEntry.Reason.ORDER_REFUND,
                reference=source,
                actor=actor,
                note=note,
            )
        grant.revoked_points = take
        data.update(points=take, shortfall=grant.points - take)
    grant.revoked_at = timezone.now()
    grant.save(update_fields=["revoked_at", "revoked_points"])
    locked.status = Order.Status.REFUNDED
    locked.refunded_at = grant.revoked_at
    locked.refund_no = refund_no
    locked.save(update_fields=["status", "refunded_at", "refund_no"])
    _event(locked, OrderEvent.Kind.REFUNDED, source="admin", actor=actor, **data)
    return locked


# --- notifications ------------------------------------------------------------------------------------------------

_KEPT_HEADERS = ("CONTENT_TYPE", "CONTENT_LENGTH")
_DROPPED_HEADERS = ("HTTP_AUTHORIZATION", "HTTP_COOKIE")
BODY_LIMIT = 64 * 1024


def _text(value) -> str:
    """A string PostgreSQL can store: NUL characters (refused in text and JSON columns) become U+FFFD."""
    return str(value).replace("\x00", "\ufffd")


def notification_headers(meta: dict) -> dict:
    """The request headers worth keeping with a notification (credentials and cookies dropped)."""
    return {
        _text(key): _text(value)[:1000]
        for key, value in meta.items()
        if (key.startswith("HTTP_") and key not in _DROPPED_HEADERS) or key in _KEPT_HEADERS
    }


def notification_handle(
    *,
    provider: str,
    body: bytes,
    form: dict | None = None,
    headers: dict | None = None,
    remote_addr: str | None = None,
    unreadable: str = "",
) -> tuple[PaymentNotification, bool]:
    """Verify a notification, store it raw with the verification result (committed before it settles anything),
    then settle it. Never raises.

    Every verified notification is stored. Unverified ones (bad signature, not ours, unreadable) are stored up to
    PAYMENT_UNVERIFIED_NOTIFICATIONS_PER_HOUR per client IP and clock hour; beyond that they are answered "try
    again" and only logged with their count, so that a flood of junk cannot fill the table (the record returned
    then has no primary key).

    Returns the record and whether to acknowledge it to the provider: yes when it was settled, was a duplicate,
    or reported no payment; no when it did not verify, did not match an order, or handling failed (the provider
    then tries again later, and the record is there for staff).
    """
    if form is not None:
        # NUL characters cannot be stored or looked up in PostgreSQL; no genuine notification has them, and the
        # signature of one that did no longer verifies after this.
        form = {_text(k): _text(v) for k, v in form.items()}
    note, failure = None, unreadable
    if not unreadable:
        try:  # checking the signature is computation only: nothing is written before the record
            note = get_gateway(provider).parse_notification(body if provider == "wechat" else (form or {}))
        except Exception as exc:
            logger.exception("%s notification: verification failed", provider)
            failure = _text(f"{type(exc).__name__}: {exc}")[:1000]
    if not (note and note.verified):
        stored, count = _unverified_count(remote_addr)
        if not stored:
            logger.warning(
                "%s notification from %s not stored: unverified (%s), %s unverified this hour, the cap is %s",
                provider,
                remote_addr,
                (note.reason if note else failure)[:200],
                count,
                settings.PAYMENT_UNVERIFIED_NOTIFICATIONS_PER_HOUR,
            )
            return PaymentNotification(
                provider=provider, outcome=PaymentNotification.Outcome.REFUSED, reason="not stored: over the cap"
            ), False
    try:
        record = PaymentNotification.objects.create(
            provider=provider,
            body=_text(body[:BODY_LIMIT].decode("utf-8", errors="replace")),
            body_size=len(body),
            headers={_text(k): _text(v) for k, v in (headers or {}).items()},
            remote_addr=remote_addr or None,
        )
    except Exception:  # the database is down: nothing is trusted unstored, the provider will try again
        logger.exception("%s notification could not be stored", provider)
        return PaymentNotification(provider=provider, outcome=PaymentNotification.Outcome.ERROR), False
    ok = False
    try:
        if unreadable:
            record.outcome, record.reason = PaymentNotification.Outcome.REFUSED, unreadable
        elif note is None:
            record.outcome, record.reason = PaymentNotification.Outcome.ERROR, failure
        else:
            ok = _notification_process(record, provider=provider, note=note)
    except Exception as exc:  # never a 500 to a provider: record it, answer "try again"
        logger.exception("%s notification %s: handling failed", provider, record.pk)
        record.outcome = PaymentNotification.Outcome.ERROR
        record.reason = _text(f"{type(exc).__name__}: {exc}")[:1000]
        ok = False
    record.processed_at = timezone.now()
    try:
        record.save(
            update_fields=["verified", "reason", "order_no", "transaction_id", "order", "outcome", "processed_at"]
        )
    except Exception:
        logger.exception("%s notification %s: could not record the outcome", provider, record.pk)
        return record, False
    return record, ok


def _unverified_count(remote_addr: str | None) -> tuple[bool, int]:
    """Count one more unverified notification from this client IP in this clock hour (cache.add + cache.incr:
    atomic, and shared by every process with Redis). Returns whether it may still be stored, and the count.
    The cache unreachable: stored, as before the cap existed (losing a record is worse than a full table)."""
    limit = settings.PAYMENT_UNVERIFIED_NOTIFICATIONS_PER_HOUR
    key = f"payments:unverified-notifications:{remote_addr or 'unknown'}:{int(time.time()) // 3600}"
    try:
        cache.add(key, 0, timeout=3600 + 60)
        try:
            count = cache.incr(key)
        except ValueError:  # evicted between add and incr
            cache.add(key, 1, timeout=3600 + 60)
            count = 1
    except Exception:
        logger.exception("unverified notification counter unavailable: storing the notification")
        return True, 0
    return count <= limit, count


def _notification_process(record: PaymentNotification, *, provider: str, note: Notification) -> bool:
    record.verified = note.verified
    record.order_no = _text(note.order_no or "")[:64]
    record.transaction_id = _text(note.transaction_id or "")[:64]
    record.reason = _text(note.reason)
    if not note.verified:
        record.outcome = PaymentNotification.Outcome.REFUSED
        logger.warning("%s notification %s refused: %s", provider, record.pk, note.reason)
        return False
    record.order = Order.objects.filter(order_no=note.order_no).first()
    if not note.paid:
        record.outcome = PaymentNotification.Outcome.NOT_PAID
        return True
    result = order_settle(
        proof=PaymentProof(
            provider=provider,
            order_no=note.order_no,
            transaction_id=note.transaction_id,
            amount_fen=note.amount_fen,
            app_id=note.app_id,
            merchant_id=note.merchant_id,
            paid_at=note.paid_at,
            source="notify",
        )
    )
    record.order = result.order
    record.outcome = {
        Settle.SETTLED: PaymentNotification.Outcome.SETTLED,
        Settle.SETTLED_LATE: PaymentNotification.Outcome.SETTLED_LATE,
        Settle.DUPLICATE: PaymentNotification.Outcome.DUPLICATE,
        Settle.REFUSED: PaymentNotification.Outcome.REFUSED,
    }[result.outcome]
    if result.reason:
        record.reason = result.reason
    return result.outcome != Settle.REFUSED
