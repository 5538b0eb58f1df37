"""WeChat Pay v2 through wechatpy (`WeChatPay`): unified order (JSAPI / APP / NATIVE), query, close, refund,
payment notifications.

- Orders are signed with MD5 (wechatpy's default, and the only algorithm its notification check knows).
- Every call has an explicit timeout (PAYMENT_TIMEOUT_SECONDS); wechatpy's default is none.
- wechatpy does not check the signature of API answers: `_call` does (`pay.check_signature`).
- `parse_notification` never raises: a DTD/entity body (XXE, billion laughs) makes xmltodict raise a ValueError
  that wechatpy does not convert; it, and every other failure, becomes `Notification(verified=False, reason=…)`.
- In sandbox mode the API base is this service's `/sandbox/wechatpay/` and the client's `requests.Session`
  answers it in-process (`payments_sandbox.transport.InProcessAdapter`; the sandbox app, imported only then).
"""

from __future__ import annotations

import hmac
import logging
from datetime import datetime
from zoneinfo import ZoneInfo

import requests
import xmltodict
from django.conf import settings
from wechatpy.exceptions import InvalidSignatureException, WeChatPayException
from wechatpy.pay import WeChatPay
from wechatpy.pay.utils import calculate_signature, dict_to_xml

from .base import (
    Notification,
    OpenIdRequired,
    PayRequest,
    ProviderError,
    ProviderPayment,
    ProviderRefund,
    ProviderRejected,
    ProviderUnavailable,
    built_gateway,
)

logger = logging.getLogger("payments.providers.wechat")

BEIJING = ZoneInfo("Asia/Shanghai")
TRADE_TYPES = {"miniprogram": "JSAPI", "app": "APP", "web": "NATIVE"}
SANDBOX_API_PATH = "/sandbox/wechatpay/"

# WeChat's error codes (err_code) mapped to the provider-neutral codes of ProviderError
_ERR_CODES = {
    "ORDERPAID": ProviderError.ALREADY_PAID,
    "ORDERNOTEXIST": ProviderError.NOT_FOUND,
}
_RETRYABLE_ERR_CODES = {"SYSTEMERROR", "BIZERR_NEED_RETRY", "FREQUENCY_LIMITED", "USERPAYING"}
_TRADE_STATES = {
    "SUCCESS": "paid",
    "REFUND": "refunded",
    "NOTPAY": "pending",
    "USERPAYING": "pending",
    "PAYERROR": "pending",
    "CLOSED": "closed",
    "REVOKED": "closed",
}


def _beijing_time(value: str | None) -> datetime | None:
    """WeChat's yyyyMMddHHmmss (Beijing time) as an aware datetime."""
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=BEIJING)
    except ValueError:
        return None


def _truncate_bytes(text: str, limit: int) -> str:
    """WeChat limits `body` in bytes (128), not characters."""
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore")


class WeChatPayGateway:
    provider = "wechat"

    def __init__(
        self,
        *,
        app_id: str,
        mch_id: str,
        api_key: str,
        api_base: str,
        timeout: float,
        cert_path: str = "",
        key_path: str = "",
        sandbox: bool = False,
    ):
        self.app_id = app_id
        self.merchant_id = mch_id
        self.sandbox = sandbox
        # wechatpy's own `sandbox=True` is WeChat's acceptance-test system, not ours: never set it.
        self.pay = WeChatPay(
            appid=app_id,
            api_key=api_key,
            mch_id=mch_id,
            mch_cert=cert_path or None,
            mch_key=key_path or None,
            timeout=timeout,
        )
        self.pay.API_BASE_URL = api_base if api_base.endswith("/") else api_base + "/"
        if sandbox:
            from payments_sandbox.transport import session_for_own_origin

            session_for_own_origin(self.pay._http)

    @classmethod
    def from_settings(cls, *, sandbox: bool) -> WeChatPayGateway:
        if sandbox:
            from payments_sandbox.keys import wechat_keys
            from payments_sandbox.transport import own_origin

            keys = wechat_keys()
            return built_gateway(
                cls,
                app_id=keys.app_id,
                mch_id=keys.mch_id,
                api_key=keys.api_key,
                api_base=own_origin() + SANDBOX_API_PATH,
                timeout=settings.PAYMENT_TIMEOUT_SECONDS,
                sandbox=True,
            )
        return built_gateway(
            cls,
            app_id=settings.WECHAT_PAY_APP_ID,
            mch_id=settings.WECHAT_PAY_MCH_ID,
            api_key=settings.WECHAT_PAY_API_KEY,
            api_base=settings.WECHAT_PAY_API_BASE,
            timeout=settings.PAYMENT_TIMEOUT_SECONDS,
            cert_path=settings.WECHAT_PAY_CERT_PATH,
            key_path=settings.WECHAT_PAY_KEY_PATH,
        )

    # --- calls ------------------------------------------------------------------------------------------------

    def _call(self, what: str, fn, *args, **kwargs) -> dict:
        """Run one wechatpy call; return its verified answer or raise a ProviderError."""
        try:
            result = fn(*args, **kwargs)
        except WeChatPayException as exc:
            raise self._error(what, exc) from exc
        except requests.Timeout as exc:
            raise ProviderUnavailable(f"WeChat Pay {what}: timed out", code=ProviderError.TRANSPORT) from exc
        except requests.RequestException as exc:
            raise ProviderUnavailable(f"WeChat Pay {what}: {exc}", code=ProviderError.TRANSPORT) from exc
        except (ValueError, KeyError, TypeError) as exc:  # XML with a DTD, an answer without return_code, …
            raise ProviderUnavailable(
                f"WeChat Pay {what}: unreadable answer", code=ProviderError.BAD_RESPONSE, retryable=False
            ) from exc
        if not isinstance(result, dict):  # wechatpy returns the text when it is not XML
            raise ProviderUnavailable(
                f"WeChat Pay {what}: unreadable answer", code=ProviderError.BAD_RESPONSE, retryable=False
            )
        if not self.pay.check_signature(dict(result)):
            logger.warning("WeChat Pay %s: answer signature does not verify", what)
            raise ProviderUnavailable(
                f"WeChat Pay {what}: answer signature does not verify",
                code=ProviderError.BAD_SIGNATURE,
                retryable=False,
                raw=dict(result),
            )
        return dict(result)

    def _error(self, what: str, exc: WeChatPayException) -> ProviderError:
        response = getattr(exc, "response", None)
        if exc.return_code is None:  # HTTP status error
            status = getattr(response, "status_code", None)
            return ProviderUnavailable(
                f"WeChat Pay {what}: HTTP {status}",
                code=ProviderError.TRANSPORT,
                retryable=status is None or status >= 500 or status == 429,
            )
        if exc.return_code != "SUCCESS":  # communication-level refusal: signature, appid/mch_id, parameters
            return ProviderRejected(
                f"WeChat Pay {what}: {exc.return_msg or exc.return_code}", provider_code=exc.return_code or ""
            )
        err_code = exc.errcode or ""
        message = f"WeChat Pay {what}: {exc.errmsg or err_code}"
        if err_code in _RETRYABLE_ERR_CODES:
            return ProviderUnavailable(message, code=ProviderError.REJECTED, provider_code=err_code)
        return ProviderRejected(message, code=_ERR_CODES.get(err_code, ProviderError.REJECTED), provider_code=err_code)

    def create_payment(self, req: PayRequest) -> dict:
        """Place a unified order; return the parameters the client needs to pay (see the package docstring)."""
        trade_type = TRADE_TYPES[req.device]
        if trade_type == "JSAPI" and not req.openid:
            raise OpenIdRequired()
        now = datetime.now(BEIJING)
        kwargs = {
            "trade_type": trade_type,
            "body": _truncate_bytes(req.subject, 128),
            "total_fee": req.amount_fen,
            "notify_url": req.notify_url,
            "client_ip": req.client_ip or "127.0.0.1",  # never None: wechatpy would look up its own IP over DNS
            "user_id": req.openid or None,
            "out_trade_no": req.order_no,
            "product_id": req.order_no if trade_type == "NATIVE" else None,
            "time_start": now,
        }
        if req.expire_at is not None:
            kwargs["time_expire"] = req.expire_at.astimezone(BEIJING)
        result = self._call("unified order", self.pay.order.create, **kwargs)
        if trade_type == "NATIVE":
            if not result.get("code_url"):
                raise ProviderUnavailable("WeChat Pay unified order: no code_url", code=ProviderError.BAD_RESPONSE)
            params = {"codeUrl": result["code_url"]}
        else:
            prepay_id = result.get("prepay_id")
            if not prepay_id:
                raise ProviderUnavailable("WeChat Pay unified order: no prepay_id", code=ProviderError.BAD_RESPONSE)
            if trade_type == "JSAPI":
                params = self.pay.jsapi.get_jsapi_params(prepay_id)
            else:
                params = self.pay.order.get_appapi_params(prepay_id)
        params = dict(params)
        if self.sandbox:
            from payments_sandbox.transport import sandbox_pay_url

            params["sandboxPayUrl"] = sandbox_pay_url("wechat", req.order_no)
        return params

    def query(self, order_no: str) -> ProviderPayment:
        try:
            result = self._call("order query", self.pay.order.query, out_trade_no=order_no)
        except ProviderRejected as exc:
            if exc.code == ProviderError.NOT_FOUND:
                return ProviderPayment(state="not_found", raw=exc.raw or {})
            raise
        trade_state = result.get("trade_state", "")
        state = _TRADE_STATES.get(trade_state)
        if state is None:
            raise ProviderUnavailable(
                f"WeChat Pay order query: unknown trade_state {trade_state!r}",
                code=ProviderError.BAD_RESPONSE,
                retryable=False,
            )
        try:
            amount = int(result["total_fee"]) if result.get("total_fee") is not None else None
        except (TypeError, ValueError):
            amount = None
        return ProviderPayment(
            state=state,
            transaction_id=result.get("transaction_id") or "",
            amount_fen=amount,
            paid_at=_beijing_time(result.get("time_end")),
            app_id=result.get("appid") or "",
            merchant_id=result.get("mch_id") or "",
            raw=result,
        )

    def close(self, order_no: str) -> None:
        """Close an unpaid order. Already closed or unknown: done. Paid: ProviderRejected(code="already_paid")."""
        try:
            self._call("close order", self.pay.order.close, out_trade_no=order_no)
        except ProviderRejected as exc:
            if exc.provider_code in ("ORDERCLOSED", "ORDERNOTEXIST"):
                return
            raise

    def refund(self, order_no: str, refund_no: str, total_fen: int, refund_fen: int) -> ProviderRefund:
        if not self.sandbox and not (self.pay.mch_cert and self.pay.mch_key):
            raise ProviderRejected(
                "WeChat Pay refunds need WECHAT_PAY_CERT_PATH and WECHAT_PAY_KEY_PATH",
                code=ProviderError.NOT_CONFIGURED,
            )
        result = self._call(
            "refund",
            self.pay.refund.apply,
            total_fee=total_fen,
            refund_fee=refund_fen,
            out_refund_no=refund_no,
            out_trade_no=order_no,
        )
        return ProviderRefund(
            refund_no=result.get("out_refund_no") or refund_no,
            refund_id=result.get("refund_id") or "",
            amount_fen=int(result.get("refund_fee") or refund_fen),
            raw=result,
        )

    # --- notifications ----------------------------------------------------------------------------------------

    def parse_notification(self, body: bytes) -> Notification:
        """Parse and verify a payment notification body (XML). Never raises."""
        try:
            parsed = xmltodict.parse(body)
        except ValueError as exc:  # xmltodict refuses DTDs and entity declarations (XXE, billion laughs)
            return Notification(verified=False, reason=f"XML refused: {exc}")
        except Exception as exc:  # any malformed body
            return Notification(verified=False, reason=f"malformed XML: {type(exc).__name__}")
        if not isinstance(parsed, dict) or not isinstance(parsed.get("xml"), dict):
            return Notification(verified=False, reason="no <xml> root element")
        data = dict(parsed["xml"])
        raw = {k: v for k, v in data.items() if isinstance(v, str | type(None))}

        def refused(reason: str) -> Notification:
            return Notification(
                verified=False,
                reason=reason,
                order_no=str(data.get("out_trade_no") or ""),
                transaction_id=str(data.get("transaction_id") or ""),
                app_id=str(data.get("appid") or ""),
                merchant_id=str(data.get("mch_id") or ""),
                raw=raw,
            )

        if len(raw) != len(data):
            return refused("nested elements in the notification")
        if data.get("return_code") != "SUCCESS":
            return refused(f"return_code is {data.get('return_code')!r}: {data.get('return_msg') or ''}".strip())
        if (data.get("sign_type") or "MD5") != "MD5":
            return refused(f"unsupported sign_type {data.get('sign_type')!r}")
        try:
            result = self._payment_result(data)
        except InvalidSignatureException:
            return refused("signature does not verify")
        except Exception as exc:  # e.g. a non-integer total_fee
            return refused(f"unreadable notification: {type(exc).__name__}")
        if result.get("appid") != self.app_id:
            return refused(f"appid {result.get('appid')!r} is not this app ({self.app_id})")
        if result.get("mch_id") != self.merchant_id:
            return refused(f"mch_id {result.get('mch_id')!r} is not this merchant ({self.merchant_id})")
        if not result.get("out_trade_no"):
            return refused("no out_trade_no")
        paid = result.get("result_code") == "SUCCESS"
        amount = result.get("total_fee")
        if paid and (not isinstance(amount, int) or not result.get("transaction_id")):
            return refused("a successful payment without total_fee or transaction_id")
        return Notification(
            verified=True,
            reason="" if paid else f"result_code {result.get('result_code')!r}: {result.get('err_code_des') or ''}",
            order_no=result["out_trade_no"],
            transaction_id=result.get("transaction_id") or "",
            amount_fen=amount if isinstance(amount, int) else None,
            app_id=result["appid"],
            merchant_id=result["mch_id"],
            paid=paid,
            paid_at=_beijing_time(result.get("time_end")),
            raw=raw,
        )

    def _payment_result(self, data: dict) -> dict:
        """wechatpy's `parse_payment_result` on the body `parse_notification` has already parsed (it would parse it
        a second time): the MD5 signature over every field but `sign`, then the amounts as integers."""
        result = dict(data)
        sign = result.pop("sign", None)
        if not isinstance(sign, str) or not hmac.compare_digest(sign, calculate_signature(result, self.pay.api_key)):
            raise InvalidSignatureException()
        for key in ("total_fee", "settlement_total_fee", "cash_fee", "coupon_fee", "coupon_count"):
            if key in result:
                result[key] = int(result[key])
        result["sign"] = sign
        return result

    def reply(self, ok: bool) -> tuple[bytes, str]:
        """The answer WeChat expects from the notify endpoint. Anything but SUCCESS makes it retry (about a day)."""
        body = dict_to_xml({"return_code": "SUCCESS" if ok else "FAIL", "return_msg": "OK" if ok else "FAIL"})
        return body.encode("utf-8"), "text/xml; charset=utf-8"
