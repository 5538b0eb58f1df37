"""Refunding a paid order in full, taking back what it granted."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.roles import require_permission
from membership.models import PointsEntry
from membership.services import membership_revoke, points_balance_for_update, points_spend
from tunee.api.errors import ApiError, Code

from ..models import Order, OrderEvent, OrderGrant
from ..providers import ProviderError
from ._common import _event, _gateway, _state_conflict, provider_api_error

# --- refunds ------------------------------------------------------------------------------------------------------


def order_refund(*, order: Order, actor, reason: str = "", take_back_available_points: bool = False) -> Order:
    """Refund a paid order in full (staff, behind the `payments.refund` permission): in one transaction, under the
    locks of the order, its grant and the user's points account, the rule below is checked, the provider refunds
    the money, the order becomes refunded and what it granted is taken back with a ledger entry.

    Membership: the days bought are taken off the expiry (never before now). Points: when the user has already
    spent some, the refund is refused with 40000 (details: balance and points bought) so that staff decide; with
    `take_back_available_points` the money is refunded anyway and only the points left are taken back, the
    shortfall recorded in the order's event. Not paid → 40005. Provider failure → 50000 (or 40001 when it refused),
    recorded as an event; the order stays paid. An `actor` without `payments.refund` → 403 (None: the system).
    """
    require_permission(actor, "payments.refund")
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
