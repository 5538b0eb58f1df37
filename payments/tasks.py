"""Thin Celery entry points of payments (beat jobs); the logic is in `services.py`."""

from celery import shared_task
from django.conf import settings


@shared_task(name="payments.close_expired_orders", ignore_result=True)
def close_expired_orders() -> dict:
    """Beat: close pending orders past their expireAt, at the provider too (paid ones are settled instead)."""
    from .services import orders_close_expired

    report = orders_close_expired()
    return {"closed": len(report.closed), "settled": len(report.settled), "failed": len(report.failed)}


@shared_task(name="payments.reconcile", ignore_result=True)
def reconcile() -> dict:
    """Beat: ask the providers about unpaid orders of the last PAYMENT_RECONCILE_HOURS and settle the paid ones."""
    from .services import payments_reconcile

    report = payments_reconcile(since_hours=settings.PAYMENT_RECONCILE_HOURS)
    return {"checked": len(report.checked), "settled": len(report.settled), "failed": len(report.failed)}
