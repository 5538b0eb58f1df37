"""The providers' notifications: verified, then stored raw with their outcome (in the settling transaction of
`order_settle` when they settle)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from tunee import cache as shared_cache
from tunee import metrics

from ..models import Order, PaymentNotification
from ..providers import Notification, get_gateway
from ._common import logger
from .settlement import PaymentProof, Settle, SettleResult, order_settle

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
    """Verify a notification, settle it, and store it raw with the verification result and the outcome: in
    `order_settle`'s transaction when it settles (nothing is settled without its record, and it is one INSERT
    instead of an INSERT before and an UPDATE after), else in one statement of its own; when handling fails the
    settlement is rolled back and the record is stored alone, with the error. Never raises.

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
            metrics.notification_refused(provider, "over_cap")
            return PaymentNotification(
                provider=provider, outcome=PaymentNotification.Outcome.REFUSED, reason="not stored: over the cap"
            ), False
    record = PaymentNotification(
        provider=provider,
        body=_text(body[:BODY_LIMIT].decode("utf-8", errors="replace")),
        body_size=len(body),
        headers={_text(k): _text(v) for k, v in (headers or {}).items()},
        remote_addr=remote_addr or None,
    )
    ok = False
    try:
        if unreadable:
            record.outcome, record.reason = PaymentNotification.Outcome.REFUSED, unreadable
            metrics.notification_refused(provider, "unreadable")
        elif note is None:
            record.outcome, record.reason = PaymentNotification.Outcome.ERROR, failure
            metrics.notification_refused(provider, "invalid")
        else:
            ok = _notification_process(record, provider=provider, note=note)
    except Exception as exc:  # never a 500 to a provider: record it, answer "try again"
        logger.exception("%s notification (order %r): handling failed", provider, record.order_no)
        if record.pk is not None:  # stored in the settling transaction, which was rolled back: store it anew
            record.pk, record._state.adding = None, True
        record.outcome = PaymentNotification.Outcome.ERROR
        record.reason = _text(f"{type(exc).__name__}: {exc}")[:1000]
        ok = False
        if record.order_id is None and record.order_no:  # the order it names, for staff (as before it settled)
            try:
                record.order = Order.objects.filter(order_no=record.order_no).first()
            except Exception:
                logger.exception("%s notification: could not look up order %r", provider, record.order_no)
    if record.pk is None:  # not stored with a settlement: stored now, with its outcome, in one statement
        record.processed_at = timezone.now()
        try:
            record.save(force_insert=True)
        except Exception:  # the database is down: nothing is trusted unstored, the provider will try again
            logger.exception("%s notification could not be stored", provider)
            return PaymentNotification(provider=provider, outcome=PaymentNotification.Outcome.ERROR), False
    return record, ok


# KEYS[1]: the counter; ARGV[1]: its lifetime (s). Counts one more and gives a new counter its lifetime, atomically
# and in one round trip (cache.add + cache.incr took three: Django's incr checks that the key exists first).
_COUNT_LUA = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


def _unverified_count(remote_addr: str | None) -> tuple[bool, int]:
    """Count one more unverified notification from this client IP in this clock hour (atomic, and shared by every
    process with Redis). Returns whether it may still be stored, and the count.
    The cache unreachable: stored, as before the cap existed (losing a record is worse than a full table)."""
    limit = settings.PAYMENT_UNVERIFIED_NOTIFICATIONS_PER_HOUR
    key = f"payments:unverified-notifications:{remote_addr or 'unknown'}:{int(time.time()) // 3600}"
    try:
        count = _count(key, timeout=3600 + 60)
    except Exception:
        logger.exception("unverified notification counter unavailable: storing the notification")
        return True, 0
    return count <= limit, count


def _count(key: str, *, timeout: int) -> int:
    """One more in the counter `key`, which lives `timeout` seconds: one Lua call on Redis; elsewhere (the process's
    own cache) cache.add + cache.incr."""
    client = shared_cache.redis_client()
    if client is not None:
        script = shared_cache.lua_script(client, _COUNT_LUA)
        return int(script(keys=[cache.make_and_validate_key(key)], args=[timeout], client=client))
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.add(key, 1, timeout=timeout)
        return 1


def _notification_process(record: PaymentNotification, *, provider: str, note: Notification) -> bool:
    record.verified = note.verified
    record.order_no = _text(note.order_no or "")[:64]
    record.transaction_id = _text(note.transaction_id or "")[:64]
    record.reason = _text(note.reason)
    if not note.verified:
        record.outcome = PaymentNotification.Outcome.REFUSED
        metrics.notification_refused(provider, "unverified")
        logger.warning("%s notification (order %r) refused: %s", provider, record.order_no, note.reason)
        return False
    if not note.paid:
        record.order = Order.objects.filter(order_no=note.order_no).first()
        record.outcome = PaymentNotification.Outcome.NOT_PAID
        return True

    def store(result: SettleResult) -> None:  # inside the settling transaction: no settlement without its record
        record.order = result.order
        record.outcome = {
            Settle.SETTLED: PaymentNotification.Outcome.SETTLED,
            Settle.SETTLED_LATE: PaymentNotification.Outcome.SETTLED_LATE,
            Settle.DUPLICATE: PaymentNotification.Outcome.DUPLICATE,
            Settle.REFUSED: PaymentNotification.Outcome.REFUSED,
        }[result.outcome]
        if result.reason:
            record.reason = result.reason
        record.processed_at = timezone.now()
        record.save(force_insert=True)

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
        ),
        on_result=store,
    )
    if result.outcome == Settle.REFUSED:
        metrics.notification_refused(provider, "mismatch" if result.order else "unknown_order")
    return result.outcome != Settle.REFUSED
