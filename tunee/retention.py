"""Retention: deleting what has outlived its use, for `manage.py purge_expired` and the daily beat job
`tunee.purge_expired`. Like tunee/urls.py and tunee/schedule.py this module knows every app; it holds no other rule
than how long each kind of row is kept, each read from settings (0 keeps that kind for ever):

- `sms_codes`: SMS codes expired more than SMS_CODE_RETENTION_DAYS ago (the caps on codes look back one business
  day at most), and `email_sends`, the account-mail records counted by the same kind of caps, as old;
- `refresh_tokens`: refresh tokens expired more than LOGIN_SESSION_RETENTION_DAYS ago (an expired one is refused
  before any reuse check, so nothing is lost), and `login_sessions`: sessions ended that long ago (revoked then, or
  with every refresh token expired then), once no access token of theirs can still be valid;
- `deliveries`: song-ready notifications finished (sent, skipped, rejected, failed) more than
  NOTIFICATION_RETENTION_DAYS ago, and `subscriptions`: WeChat one-time subscriptions used up as long ago;
- `payment_notifications`: the raw bodies providers posted, received more than PAYMENT_NOTIFICATION_RETENTION_DAYS
  ago (the order events stay: they are the record of the money);
- `verdicts`: the moderation verdict log past MODERATION_LOG_RETENTION_DAYS (moderation's own rule, which its hourly
  job also applies).

Rows go in batches of BATCH primary keys, each its own transaction, so that a first run over years of rows holds no
long lock.
"""

from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

BATCH = 2000


def _cutoff(now: datetime, days: int) -> datetime | None:
    return now - timedelta(days=days) if days > 0 else None


def _sms_codes(now: datetime) -> list[QuerySet]:
    from accounts.models import VerificationCode

    cutoff = _cutoff(now, settings.SMS_CODE_RETENTION_DAYS)
    return [] if cutoff is None else [VerificationCode.objects.filter(expires_at__lt=cutoff)]


def _email_sends(now: datetime) -> list[QuerySet]:
    from accounts.models import EmailSend

    cutoff = _cutoff(now, settings.SMS_CODE_RETENTION_DAYS)
    return [] if cutoff is None else [EmailSend.objects.filter(created_at__lt=cutoff)]


def _refresh_tokens(now: datetime) -> list[QuerySet]:
    from accounts.models import RefreshToken

    cutoff = _cutoff(now, settings.LOGIN_SESSION_RETENTION_DAYS)
    return [] if cutoff is None else [RefreshToken.objects.filter(expires_at__lt=cutoff)]


def _login_sessions(now: datetime) -> list[QuerySet]:
    from accounts.models import LoginSession, RefreshToken

    cutoff = _cutoff(now, settings.LOGIN_SESSION_RETENTION_DAYS)
    if cutoff is None:
        return []
    # An access token lives ACCESS_TOKEN_LIFETIME from the login or the last refresh: past that, none is left.
    access_cutoff = now - settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"]
    live_token = RefreshToken.objects.filter(session=OuterRef("pk"), expires_at__gte=cutoff)
    lapsed = (
        Q(revoked_at__isnull=True, created_at__lt=min(cutoff, access_cutoff))
        & (Q(last_refreshed_at__isnull=True) | Q(last_refreshed_at__lt=access_cutoff))
        & ~Exists(live_token)
    )
    return [LoginSession.objects.filter(Q(revoked_at__lt=cutoff) | lapsed)]


def _deliveries(now: datetime) -> list[QuerySet]:
    from notifications.models import Delivery

    cutoff = _cutoff(now, settings.NOTIFICATION_RETENTION_DAYS)
    finished = [Delivery.Status.SENT, Delivery.Status.SKIPPED, Delivery.Status.REJECTED, Delivery.Status.FAILED]
    return [] if cutoff is None else [Delivery.objects.filter(status__in=finished, created_at__lt=cutoff)]


def _subscriptions(now: datetime) -> list[QuerySet]:
    from notifications.models import Subscription

    cutoff = _cutoff(now, settings.NOTIFICATION_RETENTION_DAYS)
    return [] if cutoff is None else [Subscription.objects.filter(used_at__lt=cutoff)]


def _payment_notifications(now: datetime) -> list[QuerySet]:
    from payments.models import PaymentNotification

    cutoff = _cutoff(now, settings.PAYMENT_NOTIFICATION_RETENTION_DAYS)
    return [] if cutoff is None else [PaymentNotification.objects.filter(received_at__lt=cutoff)]


def _verdicts(now: datetime) -> list[QuerySet]:
    from moderation.services import verdicts_expired

    return list(verdicts_expired(now=now))  # the verdicts, then the decided media checks (not counted)


# The order matters: refresh tokens before the sessions they hang from (the ones left go with their session).
KINDS: dict[str, Callable[[datetime], list[QuerySet]]] = {
    "sms_codes": _sms_codes,
    "email_sends": _email_sends,
    "refresh_tokens": _refresh_tokens,
    "login_sessions": _login_sessions,
    "deliveries": _deliveries,
    "subscriptions": _subscriptions,
    "payment_notifications": _payment_notifications,
    "verdicts": _verdicts,
}


def _delete(queryset: QuerySet) -> int:
    """Delete the rows of `queryset` BATCH at a time; returns how many of its model went (cascades not counted)."""
    model, deleted = queryset.model, 0
    while True:
        with transaction.atomic():
            pks = list(queryset.order_by().values_list("pk", flat=True)[:BATCH])
            if not pks:
                return deleted
            _, per_model = model.objects.filter(pk__in=pks).delete()
            deleted += per_model.get(model._meta.label, 0)


def purge_expired(*, dry_run: bool = False, now: datetime | None = None) -> dict[str, int]:
    """Delete (with `dry_run`: count) the rows of every kind past its retention; returns the count per kind, the
    first queryset of each kind counted."""
    now = now or timezone.now()
    report: dict[str, int] = {}
    for kind, querysets in KINDS.items():
        counts = [qs.count() if dry_run else _delete(qs) for qs in querysets(now)]
        report[kind] = counts[0] if counts else 0
    return report


def summary(report: dict[str, int], *, dry_run: bool) -> str:
    """One line: `purged sms_codes=3 email_sends=0 …` (`would purge` with dry_run)."""
    counts = " ".join(f"{kind}={count}" for kind, count in report.items())
    return f"{'would purge' if dry_run else 'purged'} {counts}"
