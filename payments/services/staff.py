"""What finance staff do to an order besides refunding it (refunds.py): ask the provider and settle; close.

Each takes the acting staff member and refuses with 403 one without `payments.change_order` (accounts/roles.py);
the services they call are the ones the API, the beat jobs and the notifications use.
"""

from __future__ import annotations

from accounts.roles import require_permission

from ..models import Order
from .orders import order_close
from .settlement import order_sync

STAFF_PERMISSION = "payments.change_order"


def order_sync_by_staff(*, order: Order, actor) -> Order:
    """Ask the provider about a pending or closed order and settle it when it reports the payment."""
    require_permission(actor, STAFF_PERMISSION)
    return order_sync(order=order, source="admin")


def order_close_by_staff(*, order: Order, actor, reason: str = "") -> Order:
    """Close a pending order, at the provider too."""
    require_permission(actor, STAFF_PERMISSION)
    return order_close(order=order, reason=reason or f"closed by {actor or 'the system'}", source="admin", actor=actor)
