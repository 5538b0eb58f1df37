"""The sandbox's trade book: open, pay, close, refund a SandboxTrade, and send the signed payment notification.

Protocol details (XML, JSON, signatures) are in `wechat_gateway.py` and `alipay_gateway.py`; this module holds what
both share. Refusals are `SandboxRefusal` with a provider-neutral reason that each gateway turns into its
provider's error code.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import string
import uuid
from datetime import datetime
from urllib.parse import urlencode

import requests
import xmltodict
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from payments.providers.base import fen_to_yuan_str

from . import keys, signing
from .models import SandboxTrade
from .transport import session_for_own_origin

logger = logging.getLogger("payments.sandbox")


class SandboxRefusal(Exception):
    PAID = "paid"
    CLOSED = "closed"
    REFUNDED = "refunded"
    NOT_PAID = "not_paid"
    EXPIRED = "expired"
    DUPLICATE = "duplicate"  # the order number was used with other parameters
    AMOUNT = "amount"

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


def _digits(n: int) -> str:
    return "".join(secrets.choice(string.digits) for _ in range(n))


def fingerprint(*parts) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()


def _refuse_unless_pending(trade: SandboxTrade) -> None:
    if trade.status == SandboxTrade.Status.PAID:
        raise SandboxRefusal(SandboxRefusal.PAID, "该订单已支付 the trade is paid")
    if trade.status == SandboxTrade.Status.CLOSED:
        raise SandboxRefusal(SandboxRefusal.CLOSED, "该订单已关闭 the trade is closed")
    if trade.status == SandboxTrade.Status.REFUNDED:
        raise SandboxRefusal(SandboxRefusal.REFUNDED, "该订单已退款 the trade is refunded")


@transaction.atomic
def sandbox_trade_open(
    *,
    provider: str,
    out_trade_no: str,
    amount_fen: int,
    subject: str,
    trade_type: str,
    notify_url: str,
    app_id: str,
    merchant_id: str,
    openid: str = "",
    expire_at: datetime | None = None,
) -> SandboxTrade:
    """Open a pending trade, or return the same pending trade when the same order is placed again."""
    if amount_fen <= 0:
        raise SandboxRefusal(SandboxRefusal.AMOUNT, "金额必须大于 0 the amount must be positive")
    print_ = fingerprint(amount_fen, subject, trade_type, notify_url, openid)
    trade = SandboxTrade.objects.select_for_update().filter(provider=provider, out_trade_no=out_trade_no).first()
    if trade is None:
        try:
            with transaction.atomic():
                return SandboxTrade.objects.create(
                    provider=provider,
                    out_trade_no=out_trade_no,
                    amount_fen=amount_fen,
                    subject=subject,
                    trade_type=trade_type,
                    notify_url=notify_url,
                    app_id=app_id,
                    merchant_id=merchant_id,
                    openid=openid,
                    expire_at=expire_at,
                    request_fingerprint=print_,
                    prepay_id=f"wx{timezone.now():%Y%m%d%H%M%S}{secrets.token_hex(8)}" if provider == "wechat" else "",
                    transaction_id=f"{timezone.localdate():%Y%m%d}22001{_digits(15)}" if provider == "alipay" else "",
                )
        except IntegrityError:  # placed twice at the same moment: the other one won
            trade = SandboxTrade.objects.select_for_update().get(provider=provider, out_trade_no=out_trade_no)
    _refuse_unless_pending(trade)
    if trade.request_fingerprint != print_:
        raise SandboxRefusal(SandboxRefusal.DUPLICATE, "商户订单号重复 order number reused with other parameters")
    return trade


def _expired(trade: SandboxTrade) -> bool:
    return trade.expire_at is not None and timezone.now() >= trade.expire_at


@transaction.atomic
def sandbox_trade_pay(*, provider: str, out_trade_no: str) -> SandboxTrade:
    """The payer pays: pending → paid (a second click changes nothing). Closed or expired trades cannot be paid."""
    trade = SandboxTrade.objects.select_for_update().get(provider=provider, out_trade_no=out_trade_no)
    if trade.status == SandboxTrade.Status.PAID:
        return trade
    _refuse_unless_pending(trade)
    if _expired(trade):
        raise SandboxRefusal(SandboxRefusal.EXPIRED, "订单已过期 the trade has expired")
    trade.status = SandboxTrade.Status.PAID
    trade.paid_at = timezone.now()
    if not trade.transaction_id:
        trade.transaction_id = f"42000{_digits(23)}"
    trade.save(update_fields=["status", "paid_at", "transaction_id"])
    return trade


@transaction.atomic
def sandbox_trade_close(*, provider: str, out_trade_no: str) -> SandboxTrade:
    """pending → closed. Raises SandboxRefusal(PAID/CLOSED/REFUNDED) otherwise; SandboxTrade.DoesNotExist."""
    trade = SandboxTrade.objects.select_for_update().get(provider=provider, out_trade_no=out_trade_no)
    _refuse_unless_pending(trade)
    trade.status = SandboxTrade.Status.CLOSED
    trade.closed_at = timezone.now()
    trade.save(update_fields=["status", "closed_at"])
    return trade


@transaction.atomic
def sandbox_trade_refund(
    *, provider: str, out_trade_no: str, refund_no: str, refund_fen: int, total_fen: int | None = None
) -> tuple[SandboxTrade, dict]:
    """Refund part or all of a paid trade; the same refund number again returns the first refund."""
    trade = SandboxTrade.objects.select_for_update().get(provider=provider, out_trade_no=out_trade_no)
    for refund in trade.refunds:
        if refund["refund_no"] == refund_no:
            return trade, refund
    if trade.status not in (SandboxTrade.Status.PAID, SandboxTrade.Status.REFUNDED):
        raise SandboxRefusal(SandboxRefusal.NOT_PAID, "订单未支付 the trade is not paid")
    if total_fen is not None and total_fen != trade.amount_fen:
        raise SandboxRefusal(SandboxRefusal.AMOUNT, "订单金额不符 total does not match the trade")
    if refund_fen <= 0 or trade.refunded_fen + refund_fen > trade.amount_fen:
        raise SandboxRefusal(SandboxRefusal.AMOUNT, "退款金额超限 refund exceeds what was paid")
    refund = {
        "refund_no": refund_no,
        "refund_id": f"50300{_digits(23)}",
        "amount_fen": refund_fen,
        "at": timezone.now().isoformat(),
    }
    trade.refunds = [*trade.refunds, refund]
    trade.refunded_fen += refund_fen
    if trade.refunded_fen == trade.amount_fen:
        trade.status = SandboxTrade.Status.REFUNDED
    trade.save(update_fields=["refunds", "refunded_fen", "status"])
    return trade, refund


# --- notifications ----------------------------------------------------------------------------------------------


def _beijing(dt: datetime, fmt: str) -> str:
    from zoneinfo import ZoneInfo

    return dt.astimezone(ZoneInfo("Asia/Shanghai")).strftime(fmt)


def wechat_notification(trade: SandboxTrade) -> tuple[bytes, str]:
    """The payment notification WeChat Pay v2 posts (XML, MD5-signed with the API key)."""
    params = {
        "appid": trade.app_id,
        "bank_type": "OTHERS",
        "cash_fee": str(trade.amount_fen),
        "fee_type": "CNY",
        "is_subscribe": "N",
        "mch_id": trade.merchant_id,
        "nonce_str": secrets.token_hex(16),
        "openid": trade.openid or "o_sandbox_payer",
        "out_trade_no": trade.out_trade_no,
        "result_code": "SUCCESS",
        "return_code": "SUCCESS",
        "time_end": _beijing(trade.paid_at, "%Y%m%d%H%M%S"),
        "total_fee": str(trade.amount_fen),
        "trade_type": trade.trade_type,
        "transaction_id": trade.transaction_id,
    }
    params["sign"] = signing.wechat_sign(params, keys.wechat_keys().api_key)
    return signing.wechat_xml(params).encode("utf-8"), "text/xml; charset=utf-8"


def alipay_notification_fields(trade: SandboxTrade) -> dict[str, str]:
    """The fields of Alipay's asynchronous notification, signed (RSA2) with the platform private key."""
    amount = fen_to_yuan_str(trade.amount_fen)
    now = timezone.now()
    params = {
        "notify_time": _beijing(now, "%Y-%m-%d %H:%M:%S"),
        "notify_type": "trade_status_sync",
        "notify_id": uuid.uuid4().hex,
        "charset": "utf-8",
        "version": "1.0",
        "auth_app_id": trade.app_id,
        "app_id": trade.app_id,
        "seller_id": trade.merchant_id,
        "buyer_id": "2088" + "0" * 4 + "1" * 8,
        "buyer_logon_id": "san***@sandbox.com",
        "trade_no": trade.transaction_id,
        "out_trade_no": trade.out_trade_no,
        "trade_status": "TRADE_SUCCESS",
        "subject": trade.subject,
        "total_amount": amount,
        "receipt_amount": amount,
        "buyer_pay_amount": amount,
        "invoice_amount": amount,
        "point_amount": "0.00",
        "fund_bill_list": f'[{{"amount":"{amount}","fundChannel":"ALIPAYACCOUNT"}}]',
        "gmt_create": _beijing(trade.created_at, "%Y-%m-%d %H:%M:%S"),
        "gmt_payment": _beijing(trade.paid_at, "%Y-%m-%d %H:%M:%S"),
    }
    content = signing.alipay_sign_content(params, exclude=("sign", "sign_type"))
    params["sign"] = signing.rsa2_sign(keys.alipay_keys().platform_private_key, content)
    params["sign_type"] = "RSA2"
    return params


def _acknowledged(provider: str, response: requests.Response) -> bool:
    if response.status_code != 200:
        return False
    if provider == "alipay":
        return response.text.strip() == "success"
    try:
        return xmltodict.parse(response.content)["xml"]["return_code"] == "SUCCESS"
    except Exception:  # any other answer is a refusal
        return False


def sandbox_trade_notify(*, provider: str, out_trade_no: str) -> SandboxTrade:
    """Post the signed payment notification of a paid trade to its notify_url and record what came back.

    The post goes through the in-process transport: to this service's own notify endpoint it runs in the same
    thread (the real endpoint and code path, no socket); to any other address it goes over the network.
    Not atomic on purpose: the notify endpoint's own transactions must commit on their own.
    """
    trade = SandboxTrade.objects.get(provider=provider, out_trade_no=out_trade_no)
    if trade.status not in (SandboxTrade.Status.PAID, SandboxTrade.Status.REFUNDED):
        raise SandboxRefusal(SandboxRefusal.NOT_PAID, "订单未支付 the trade is not paid")
    if provider == "wechat":
        body, content_type = wechat_notification(trade)
    else:
        body, content_type = urlencode(alipay_notification_fields(trade)), "application/x-www-form-urlencoded"
        body = body.encode("utf-8")
    session = session_for_own_origin()
    try:
        response = session.post(
            trade.notify_url,
            data=body,
            headers={"Content-Type": content_type, "User-Agent": f"tunee-payment-sandbox/{provider}"},
            timeout=settings.PAYMENT_TIMEOUT_SECONDS,
            allow_redirects=False,
        )
        acknowledged = _acknowledged(provider, response)
        result = f"HTTP {response.status_code}: {response.text[:1000]}"
    except requests.RequestException as exc:
        acknowledged = False
        result = f"not delivered: {type(exc).__name__}: {exc}"[:1000]
    finally:
        session.close()
    logger.info("sandbox %s notification for %s: %s", provider, out_trade_no, result[:200])
    SandboxTrade.objects.filter(pk=trade.pk).update(
        notify_count=F("notify_count") + 1,
        last_notified_at=timezone.now(),
        last_notify_result=result,
        notify_acknowledged=acknowledged,
    )
    trade.refresh_from_db()
    return trade
