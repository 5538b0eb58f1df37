"""Settling a payment exactly once (`order_settle`), and asking the provider about orders we have not heard of."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from django.db import IntegrityError, transaction
from django.utils import timezone

from membership.models import PointsEntry
from membership.services import membership_extend, points_credit
from tunee import metrics

from .. import selectors
from ..models import Order, OrderEvent, OrderGrant
from ..providers import ProviderError, ProviderPayment, get_gateway
from ._common import _event, _gateway, logger, provider_api_error

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
    metrics.order_paid(order)
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
