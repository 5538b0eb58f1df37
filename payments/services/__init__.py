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

The package, by subject: `orders` (placing, closing, expiring), `settlement` (settling a payment exactly once,
asking the provider, reconciling), `refunds`, `staff` (staff's sync and close, behind their permission),
`notifications` (the providers' notifications); `_common` holds what they share (the provider error mapping, the
order event log). Import from `payments.services`.
"""

from ._common import WECHAT_LOGIN_NEEDED, provider_api_error
from .notifications import BODY_LIMIT, notification_handle, notification_headers
from .orders import (
    MOBILE_WEB_TRADE_TYPES,
    NOTIFY_PATHS,
    ORDER_NO_ATTEMPTS,
    TRADE_TYPES,
    ExpiryReport,
    notify_url,
    order_close,
    order_create,
    orders_close_expired,
)
from .refunds import order_refund
from .settlement import (
    PaymentProof,
    ReconcileReport,
    Settle,
    SettleResult,
    order_settle,
    order_sync,
    payments_reconcile,
)
from .staff import order_close_by_staff, order_sync_by_staff

__all__ = [
    "BODY_LIMIT",
    "MOBILE_WEB_TRADE_TYPES",
    "NOTIFY_PATHS",
    "ORDER_NO_ATTEMPTS",
    "TRADE_TYPES",
    "WECHAT_LOGIN_NEEDED",
    "ExpiryReport",
    "PaymentProof",
    "ReconcileReport",
    "Settle",
    "SettleResult",
    "notification_handle",
    "notification_headers",
    "notify_url",
    "order_close",
    "order_close_by_staff",
    "order_create",
    "order_refund",
    "order_settle",
    "order_sync",
    "order_sync_by_staff",
    "orders_close_expired",
    "payments_reconcile",
    "provider_api_error",
]
