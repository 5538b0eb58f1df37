"""Prometheus counters of the notifications (exported on /metrics by the process that counts them)."""

from prometheus_client import Counter

DELIVERIES = Counter(
    "tunee_notifications_total",
    "Song-finished notifications by channel and final status (sent, skipped, rejected, failed)",
    ["channel", "status"],
)
ENQUEUE_ERRORS = Counter(
    "tunee_notifications_enqueue_errors_total", "Song-finished notifications that could not be enqueued"
)
