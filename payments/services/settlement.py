"""Settling a payment exactly once (`order_settle`), and asking the provider about orders we have not heard of."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
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
    return _proof_mismatch(proof)


def _proof_mismatch(proof: PaymentProof) -> str:
    """Why this payment cannot settle any of our orders ("" when it may): the checks that need no order."""
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


# One round trip settles the usual case, a pending (or closed) order paid with its own amount on its own channel:
# the conditional UPDATE takes the row lock as `select_for_update` would (a racing duplicate waits for it, then
# sees the order paid and is answered by `_settle_locked`), its WHERE is the channel and amount checks, and the
# same statement writes the order's paid event. The late flag is set from the status before the change (the SET
# reads the old row). Written in SQL because the ORM has no UPDATE … RETURNING; the tables are the models'.
# Anything else (no such order, already paid, a mismatch) changes no row and goes the locked way, which explains
# and records the refusal as before.
_MARK_PAID_SQL = f"""
WITH paid AS (
    UPDATE {Order._meta.db_table}
    SET status = %(paid)s, transaction_id = %(transaction_id)s, paid_at = %(paid_at)s,
        paid_after_close = (status = %(closed)s)
    WHERE order_no = %(order_no)s AND status IN (%(pending)s, %(closed)s)
        AND payment_method = %(provider)s AND amount_fen = %(amount_fen)s
    RETURNING *
), event AS (
    INSERT INTO {OrderEvent._meta.db_table} (order_id, kind, source, data, actor_id, created_at)
    SELECT id, CASE WHEN paid_after_close THEN %(late_kind)s ELSE %(paid_kind)s END, %(source)s, %(data)s::jsonb,
        NULL, %(now)s
    FROM paid
)
SELECT * FROM paid
"""  # noqa: S608  # nosec B608


class _TransactionIdTaken(Exception):
    """The conditional UPDATE broke the (provider, transaction id) key: what it ran in is rolled back."""


def order_settle(*, proof: PaymentProof, on_result: Callable[[SettleResult], None] | None = None) -> SettleResult:
    """Settle one payment exactly once: lock the order, check channel, amount, app and merchant, then mark it paid
    and grant the membership or points in this same transaction. Already paid by the same transaction: no-op.
    A payment for a closed order is still settled (the money was taken) and flagged `paid_after_close`.

    `on_result` is called with the result inside that transaction, before it commits (the notify endpoint stores
    its record there: one transaction, and no settlement without its record)."""
    # the one-statement way is PostgreSQL's (a data-modifying WITH); other databases take the locked way
    fast = connection.vendor == "postgresql" and not _proof_mismatch(proof)
    try:
        with transaction.atomic():
            order = _mark_paid(proof) if fast else None
            result = _settled(order, proof, event=False) if order is not None else _settle_locked(proof)
            if on_result is not None:
                on_result(result)
    except _TransactionIdTaken:  # rolled back: the locked way refuses it and records why
        with transaction.atomic():
            result = _settle_locked(proof)
            if on_result is not None:
                on_result(result)
    return result


def _mark_paid(proof: PaymentProof) -> Order | None:
    """The order marked paid by this payment, its event written (see _MARK_PAID_SQL); None when that did not
    apply."""
    now = timezone.now()
    params = {
        "paid": Order.Status.PAID,
        "pending": Order.Status.PENDING,
        "closed": Order.Status.CLOSED,
        "transaction_id": proof.transaction_id,
        "paid_at": proof.paid_at or now,
        "order_no": proof.order_no,
        "provider": proof.provider,
        "amount_fen": proof.amount_fen,
        "paid_kind": OrderEvent.Kind.PAID,
        "late_kind": OrderEvent.Kind.PAID_AFTER_CLOSE,
        "source": proof.source,
        "data": json.dumps(_proof_data(proof)),
        "now": now,
    }
    try:
        orders = list(Order.objects.raw(_MARK_PAID_SQL, params))
    except IntegrityError as exc:  # this transaction id already paid another order
        raise _TransactionIdTaken from exc
    return orders[0] if orders else None


def _settle_locked(proof: PaymentProof) -> SettleResult:
    """`order_settle` the general way: the order locked and read, every check explained (and recorded)."""
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

    order.paid_after_close = order.status == Order.Status.CLOSED
    order.status = Order.Status.PAID
    order.transaction_id = proof.transaction_id
    order.paid_at = proof.paid_at or timezone.now()
    try:
        with transaction.atomic():
            order.save(update_fields=["status", "transaction_id", "paid_at", "paid_after_close"])
    except IntegrityError:  # this transaction id already paid another order
        reason = f"transaction {proof.transaction_id} already paid another order"
        order.refresh_from_db()
        _event(order, OrderEvent.Kind.SETTLE_REFUSED, source=proof.source, reason=reason, **_proof_data(proof))
        return SettleResult(Settle.REFUSED, order, reason)
    return _settled(order, proof)


def _settled(order: Order, proof: PaymentProof, *, event: bool = True) -> SettleResult:
    """The order was just marked paid by this payment: grant what it bought, record the event (unless the caller
    did), count it."""
    late = order.paid_after_close
    _grant(order)
    if event:
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
    # The grant's rows only need the user's key: a bare instance saves reading the user's row.
    user = get_user_model()(pk=order.user_id)
    if order.kind == Order.Kind.MEMBERSHIP:
        event = membership_extend(user=user, plan=order.plan, source=source)
        return OrderGrant.objects.create(order=order, user_id=order.user_id, days=event.days, membership_event=event)
    entry = points_credit(user=user, amount=order.points, reason=PointsEntry.Reason.PURCHASE, reference=source)
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
