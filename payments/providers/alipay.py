"""Alipay (RSA2) through python-alipay-sdk: app / page / wap pay, trade query, close, refund, notifications.

- `import alipay` runs `logging.config.dictConfig` (alipay/loggers.py), which shuts down every logging handler
  configured before it (Django's) and attaches a DEBUG console handler of its own. `_alipay()` imports the
  library once with dictConfig turned into a no-op for the duration of the import, so Django's logging stays as
  configured and the library's logger simply propagates to it. Never `import alipay` at module level.
- The library fetches with `urllib.request.urlopen` in `verified_sync_response()` (its only HTTP call).
  `_client_class()` subclasses `AliPay` and overrides that one method to fetch through a `requests.Session`
  instead (same GET of gateway + "?" + signed parameters, same answer verification) so that timeouts and
  transport errors are requests' and, in sandbox mode, the in-process transport can answer the sandbox gateway.
- Amounts go out as str yuan made from integer fen, and come back to fen through Decimal, never float.
- Business failures (`code != "10000"`) are returned by the library, not raised: `_call` turns them into errors.
"""

from __future__ import annotations

import functools
import logging
import logging.config
import sys
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import requests
from django.conf import settings

from .base import (
    Notification,
    PayRequest,
    ProviderError,
    ProviderPayment,
    ProviderRefund,
    ProviderRejected,
    ProviderUnavailable,
    built_gateway,
    fen_to_yuan_str,
    yuan_str_to_fen,
)

logger = logging.getLogger("payments.providers.alipay")

BEIJING = ZoneInfo("Asia/Shanghai")
SANDBOX_GATEWAY_PATH = "/sandbox/alipay/gateway.do"
PAID_STATUSES = {"TRADE_SUCCESS", "TRADE_FINISHED"}
_TRADE_STATES = {
    "WAIT_BUYER_PAY": "pending",
    "TRADE_SUCCESS": "paid",
    "TRADE_FINISHED": "paid",
    "TRADE_CLOSED": "closed",  # also what a fully refunded trade becomes
}
_RETRYABLE_SUB_CODES = {"ACQ.SYSTEM_ERROR", "ACQ.TRADE_HAS_CLOSE_RETRY", "aop.ACQ.SYSTEM_ERROR"}
_import_lock = threading.Lock()


def _alipay():
    """The `alipay` module, imported without letting it reconfigure logging (see the module docstring)."""
    module = sys.modules.get("alipay")
    if module is not None:
        return module
    with _import_lock:
        original = logging.config.dictConfig
        logging.config.dictConfig = lambda config: None
        try:
            import alipay
        finally:
            logging.config.dictConfig = original
    return alipay


@functools.cache
def _client_class():
    alipay = _alipay()

    class TuneeAliPay(alipay.AliPay):
        """AliPay fetching through a requests.Session (with its timeout) instead of urllib."""

        http: requests.Session

        def verified_sync_response(self, data, response_type):
            url = self._gateway + "?" + self.sign_data(data)
            response = self.http.get(url, timeout=self._config.timeout, allow_redirects=False)
            response.raise_for_status()
            return self._verify_and_return_sync_response(response.content.decode("utf-8"), response_type)

    return TuneeAliPay


def pem(value: str, kind: str) -> str:
    """A key from the environment as PEM: "\\n" escapes become line breaks; the bare base64 that Alipay's console
    shows is wrapped (the library only loads PEM)."""
    text = value.strip().replace("\\n", "\n")
    if "-----BEGIN" in text:
        return text
    body = "".join(text.split())
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    label = "PRIVATE KEY" if kind == "private" else "PUBLIC KEY"
    return f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----\n"


def _beijing_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
    except ValueError:
        return None


class AlipayGateway:
    provider = "alipay"

    def __init__(
        self,
        *,
        app_id: str,
        app_private_key: str,
        alipay_public_key: str,
        gateway: str,
        timeout: float,
        seller_id: str = "",
        sandbox: bool = False,
    ):
        alipay = _alipay()
        self.app_id = app_id
        self.merchant_id = seller_id
        self.sandbox = sandbox
        self.gateway_url = gateway
        self.client = _client_class()(
            appid=app_id,
            app_notify_url=None,
            app_private_key_string=pem(app_private_key, "private"),
            alipay_public_key_string=pem(alipay_public_key, "public"),
            sign_type="RSA2",
            config=alipay.AliPayConfig(timeout=timeout),
        )
        self.client._gateway = gateway  # the library's (private) gateway attribute
        self.client.http = requests.Session()
        if sandbox:
            from payments_sandbox.transport import session_for_own_origin

            session_for_own_origin(self.client.http)

    @classmethod
    def from_settings(cls, *, sandbox: bool) -> AlipayGateway:
        if sandbox:
            from payments_sandbox.keys import alipay_keys
            from payments_sandbox.transport import own_origin

            keys = alipay_keys()
            return built_gateway(
                cls,
                app_id=keys.app_id,
                app_private_key=keys.app_private_key,
                alipay_public_key=keys.platform_public_key,
                gateway=own_origin() + SANDBOX_GATEWAY_PATH,
                timeout=settings.PAYMENT_TIMEOUT_SECONDS,
                seller_id=keys.seller_id,
                sandbox=True,
            )
        return built_gateway(
            cls,
            app_id=settings.ALIPAY_APP_ID,
            app_private_key=settings.ALIPAY_APP_PRIVATE_KEY,
            alipay_public_key=settings.ALIPAY_PUBLIC_KEY,
            gateway=settings.ALIPAY_GATEWAY,
            timeout=settings.PAYMENT_TIMEOUT_SECONDS,
            seller_id=settings.ALIPAY_SELLER_ID,
        )

    # --- calls ------------------------------------------------------------------------------------------------

    def _call(self, what: str, fn, **kwargs) -> dict:
        """Run one server API call; return the verified `<method>_response` object (any `code`)."""
        alipay = _alipay()
        try:
            result = fn(**kwargs)
        except requests.Timeout as exc:
            raise ProviderUnavailable(f"Alipay {what}: timed out", code=ProviderError.TRANSPORT) from exc
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else None
            raise ProviderUnavailable(
                f"Alipay {what}: HTTP {status}",
                code=ProviderError.TRANSPORT,
                retryable=status is None or status >= 500 or status == 429,
            ) from exc
        except requests.RequestException as exc:
            raise ProviderUnavailable(f"Alipay {what}: {exc}", code=ProviderError.TRANSPORT) from exc
        except alipay.AliPayValidationError as exc:
            logger.warning("Alipay %s: answer signature does not verify", what)
            raise ProviderUnavailable(
                f"Alipay {what}: answer signature does not verify", code=ProviderError.BAD_SIGNATURE, retryable=False
            ) from exc
        except alipay.AliPayException as exc:  # an unsigned error answer (error_response: bad app id, signature…)
            raise ProviderRejected(f"Alipay {what}: {exc}") from exc
        except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as exc:  # not JSON, …
            raise ProviderUnavailable(
                f"Alipay {what}: unreadable answer", code=ProviderError.BAD_RESPONSE, retryable=False
            ) from exc
        if not isinstance(result, dict):
            raise ProviderUnavailable(
                f"Alipay {what}: unreadable answer", code=ProviderError.BAD_RESPONSE, retryable=False
            )
        return result

    def _refusal(self, what: str, result: dict) -> ProviderError:
        sub_code = result.get("sub_code") or ""
        message = f"Alipay {what}: {result.get('sub_msg') or result.get('msg') or result.get('code')}"
        if result.get("code") == "20000" or sub_code in _RETRYABLE_SUB_CODES:
            return ProviderUnavailable(message, code=ProviderError.REJECTED, provider_code=sub_code, raw=result)
        code = ProviderError.NOT_FOUND if sub_code == "ACQ.TRADE_NOT_EXIST" else ProviderError.REJECTED
        return ProviderRejected(message, code=code, provider_code=sub_code or str(result.get("code")), raw=result)

    def create_payment(self, req: PayRequest) -> dict:
        """app → {"orderString"}; web → page-pay {"payUrl"}; miniprogram or mobile web (`mobile_web`) → wap-pay
        {"payUrl"}. No HTTP call, except in sandbox mode, where the signed order is handed to the sandbox gateway
        (as the user's browser would) so that it holds the trade before anyone pays."""
        amount = fen_to_yuan_str(req.amount_fen)
        extra = {}
        if req.expire_at is not None:
            extra["time_expire"] = req.expire_at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
        common = {"subject": req.subject[:256], "out_trade_no": req.order_no, "total_amount": amount}
        if req.device == "app":
            order_string = self.client.api_alipay_trade_app_pay(notify_url=req.notify_url, **common, **extra)
            params = {"orderString": order_string}
        else:
            page = req.device == "web" and not req.mobile_web
            build = self.client.api_alipay_trade_page_pay if page else self.client.api_alipay_trade_wap_pay
            order_string = build(notify_url=req.notify_url, return_url=req.return_url or None, **common, **extra)
            params = {"payUrl": f"{self.gateway_url}?{order_string}"}
        if self.sandbox:
            from payments_sandbox.transport import sandbox_pay_url

            self._sandbox_register(order_string)
            params["sandboxPayUrl"] = sandbox_pay_url("alipay", req.order_no)
        return params

    def _sandbox_register(self, order_string: str) -> None:
        try:
            response = self.client.http.get(f"{self.gateway_url}?{order_string}", allow_redirects=False)
        except requests.RequestException as exc:
            raise ProviderUnavailable(f"Alipay sandbox: {exc}", code=ProviderError.TRANSPORT) from exc
        if response.status_code != 302:
            raise ProviderRejected(f"Alipay sandbox refused the order: {response.text[:200]}")

    def query(self, order_no: str) -> ProviderPayment:
        result = self._call("trade query", self.client.api_alipay_trade_query, out_trade_no=order_no)
        if result.get("code") != "10000":
            error = self._refusal("trade query", result)
            if error.code == ProviderError.NOT_FOUND:
                return ProviderPayment(state="not_found", raw=result)
            raise error
        trade_status = result.get("trade_status", "")
        state = _TRADE_STATES.get(trade_status)
        if state is None:
            raise ProviderUnavailable(
                f"Alipay trade query: unknown trade_status {trade_status!r}",
                code=ProviderError.BAD_RESPONSE,
                retryable=False,
            )
        return ProviderPayment(
            state=state,
            transaction_id=result.get("trade_no") or "",
            amount_fen=yuan_str_to_fen(result.get("total_amount", "")),
            paid_at=_beijing_time(result.get("send_pay_date")) if state == "paid" else None,
            app_id=self.app_id,
            merchant_id=self.merchant_id,
            raw=result,
        )

    def close(self, order_no: str) -> None:
        """Close an unpaid trade. Already closed or never opened by the payer: done. Paid:
        ProviderRejected(code="already_paid")."""
        result = self._call("trade close", self.client.api_alipay_trade_close, out_trade_no=order_no)
        if result.get("code") == "10000":
            return
        error = self._refusal("trade close", result)
        if error.code == ProviderError.NOT_FOUND:
            return
        if error.provider_code == "ACQ.TRADE_STATUS_ERROR":  # paid, or already closed: ask which
            payment = self.query(order_no)
            if payment.state in ("closed", "not_found"):
                return
            raise ProviderRejected(
                "Alipay trade close: the trade is paid",
                code=ProviderError.ALREADY_PAID,
                provider_code=error.provider_code,
                raw=result,
            )
        raise error

    def refund(self, order_no: str, refund_no: str, total_fen: int, refund_fen: int) -> ProviderRefund:
        result = self._call(
            "trade refund",
            self.client.api_alipay_trade_refund,
            refund_amount=fen_to_yuan_str(refund_fen),
            out_trade_no=order_no,
            out_request_no=refund_no,
        )
        if result.get("code") != "10000":
            raise self._refusal("trade refund", result)
        return ProviderRefund(
            refund_no=refund_no, refund_id=result.get("trade_no") or "", amount_fen=refund_fen, raw=result
        )

    # --- notifications ----------------------------------------------------------------------------------------

    def parse_notification(self, form: dict[str, str]) -> Notification:
        """Parse and verify an asynchronous notification (the form fields as a plain dict of str, e.g.
        `request.POST.dict()`). Never raises."""
        try:
            data = {str(k): str(v) for k, v in dict(form).items()}
        except Exception as exc:
            return Notification(verified=False, reason=f"unreadable form: {type(exc).__name__}")
        raw = dict(data)

        def refused(reason: str) -> Notification:
            return Notification(
                verified=False,
                reason=reason,
                order_no=data.get("out_trade_no", ""),
                transaction_id=data.get("trade_no", ""),
                app_id=data.get("app_id", ""),
                merchant_id=data.get("seller_id", ""),
                raw=raw,
            )

        # Alipay signs every field except sign and sign_type, and (as its own SDKs do) skips empty values.
        sign = data.pop("sign", "")
        sign_type = data.pop("sign_type", "")
        if not sign:
            return refused("no sign")
        if sign_type and sign_type != "RSA2":
            return refused(f"unsupported sign_type {sign_type!r}")
        unsigned = {k: v for k, v in data.items() if v != ""}
        try:
            genuine = self.client.verify(unsigned, sign)
        except Exception as exc:  # e.g. a sign that is not base64
            logger.info("Alipay notification: verify raised %s", type(exc).__name__)
            genuine = False
        if not genuine:
            return refused("signature does not verify")
        if data.get("app_id") != self.app_id:
            return refused(f"app_id {data.get('app_id')!r} is not this app ({self.app_id})")
        if self.merchant_id and data.get("seller_id") != self.merchant_id:
            return refused(f"seller_id {data.get('seller_id')!r} is not this seller ({self.merchant_id})")
        if not data.get("out_trade_no"):
            return refused("no out_trade_no")
        amount = yuan_str_to_fen(data.get("total_amount", ""))
        if amount is None:
            return refused(f"total_amount {data.get('total_amount')!r} is not an amount")
        trade_status = data.get("trade_status", "")
        paid = trade_status in PAID_STATUSES
        if paid and not data.get("trade_no"):
            return refused("a successful payment without trade_no")
        return Notification(
            verified=True,
            reason="" if paid else f"trade_status {trade_status!r}",
            order_no=data["out_trade_no"],
            transaction_id=data.get("trade_no", ""),
            amount_fen=amount,
            app_id=data["app_id"],
            merchant_id=data.get("seller_id", ""),
            paid=paid,
            paid_at=_beijing_time(data.get("gmt_payment")),
            raw=raw,
        )

    def reply(self, ok: bool) -> tuple[bytes, str]:
        """The answer Alipay expects: `success` (anything else and it retries, for about 25 hours)."""
        return (b"success" if ok else b"failure"), "text/plain; charset=utf-8"
