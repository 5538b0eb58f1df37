"""The sandbox's Alipay open-platform gateway (`gateway.do`), as openapi.alipay.com speaks it.

Requests arrive as parameters (query string or form): app_id, method, charset, sign_type, timestamp, version,
biz_content (JSON), notify_url, return_url, sign. The signature (RSA2 with the app private key) covers every
non-empty parameter except `sign`; the sandbox checks it with the app public key.

- `alipay.trade.app.pay` / `alipay.trade.page.pay` / `alipay.trade.wap.pay`: what the payer's app or browser
  brings to Alipay; the sandbox opens the trade and redirects to its pay page (Alipay's cashier).
- `alipay.trade.query` / `alipay.trade.close` / `alipay.trade.refund`: JSON
  `{"<method>_response": {...}, "sign": "..."}`, the sign made with the platform private key over the exact text
  of the response object. Gateway-level failures (bad signature, unknown app or method) answer an unsigned
  `error_response`, as Alipay does.
"""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from django.http import HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from payments.providers.base import fen_to_yuan_str, yuan_str_to_fen

from . import keys, signing
from .models import SandboxTrade
from .services import SandboxRefusal, sandbox_trade_close, sandbox_trade_open, sandbox_trade_refund
from .transport import sandbox_pay_url

BEIJING = ZoneInfo("Asia/Shanghai")
PAY_METHODS = {
    "alipay.trade.app.pay": "QUICK_MSECURITY_PAY",
    "alipay.trade.page.pay": "FAST_INSTANT_TRADE_PAY",
    "alipay.trade.wap.pay": "QUICK_WAP_PAY",
}
_TRADE_STATUSES = {
    SandboxTrade.Status.PENDING: "WAIT_BUYER_PAY",
    SandboxTrade.Status.PAID: "TRADE_SUCCESS",
    SandboxTrade.Status.CLOSED: "TRADE_CLOSED",
    SandboxTrade.Status.REFUNDED: "TRADE_CLOSED",  # Alipay closes a fully refunded trade
}
_REFUSALS = {
    SandboxRefusal.PAID: ("ACQ.TRADE_STATUS_ERROR", "交易状态不合法"),
    SandboxRefusal.CLOSED: ("ACQ.TRADE_STATUS_ERROR", "交易状态不合法"),
    SandboxRefusal.REFUNDED: ("ACQ.TRADE_STATUS_ERROR", "交易状态不合法"),
    SandboxRefusal.NOT_PAID: ("ACQ.TRADE_STATUS_ERROR", "交易状态不合法"),
    SandboxRefusal.EXPIRED: ("ACQ.TRADE_HAS_CLOSE", "交易已经关闭"),
    SandboxRefusal.DUPLICATE: ("ACQ.TRADE_HAS_CHANGED", "交易信息被篡改"),
    SandboxRefusal.AMOUNT: ("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限"),
}


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _gateway_error(method: str, sub_code: str, sub_msg: str, code: str = "40002") -> HttpResponse:
    """Unsigned, as Alipay answers requests it could not authenticate."""
    body = {"error_response": {"code": code, "msg": "Invalid Arguments", "sub_code": sub_code, "sub_msg": sub_msg}}
    return HttpResponse(_json(body), content_type="application/json; charset=utf-8", status=200)


def _signed(method: str, content: dict) -> HttpResponse:
    response_type = method.replace(".", "_") + "_response"
    inner = _json(content)
    sign = signing.rsa2_sign(keys.alipay_keys().platform_private_key, inner)
    body = f'{{"{response_type}":{inner},"sign":"{sign}"}}'
    return HttpResponse(body, content_type="application/json; charset=utf-8")


def _success(method: str, **fields) -> HttpResponse:
    return _signed(method, {"code": "10000", "msg": "Success", **fields})


def _business_fail(method: str, sub_code: str, sub_msg: str) -> HttpResponse:
    return _signed(method, {"code": "40004", "msg": "Business Failed", "sub_code": sub_code, "sub_msg": sub_msg})


def _browser_error(message: str) -> HttpResponse:
    return HttpResponse(f"支付宝沙箱 Alipay sandbox: {message}", content_type="text/plain; charset=utf-8", status=400)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def gateway(request) -> HttpResponse:
    params = {**request.GET.dict(), **request.POST.dict()}
    method = params.get("method", "")
    for_browser = method in PAY_METHODS
    k = keys.alipay_keys()
    sign = params.pop("sign", "")
    if params.get("app_id") != k.app_id:
        return (
            _browser_error("无效的AppID")
            if for_browser
            else _gateway_error(method, "isv.invalid-app-id", "无效的AppID参数")
        )
    if params.get("sign_type") != "RSA2" or not sign:
        return (
            _browser_error("验签出错") if for_browser else _gateway_error(method, "isv.invalid-signature", "验签出错")
        )
    content = signing.alipay_sign_content(params, exclude=("sign",))
    if not signing.rsa2_verify(k.app_public_key, content, sign):
        return (
            _browser_error("验签出错") if for_browser else _gateway_error(method, "isv.invalid-signature", "验签出错")
        )
    try:
        biz = json.loads(params.get("biz_content") or "{}")
        if not isinstance(biz, dict):
            raise ValueError
    except ValueError:
        return (
            _browser_error("biz_content")
            if for_browser
            else _gateway_error(method, "isv.invalid-parameter", "biz_content")
        )
    if for_browser:
        return _pay(params, biz)
    if method == "alipay.trade.query":
        return _query(method, biz)
    if method == "alipay.trade.close":
        return _close(method, biz)
    if method == "alipay.trade.refund":
        return _refund(method, biz)
    return _gateway_error(method, "isv.invalid-method", "不存在的方法名", code="40004")


def _pay(params: dict, biz: dict) -> HttpResponse:
    method = params["method"]
    amount = yuan_str_to_fen(biz.get("total_amount", ""))
    if not biz.get("out_trade_no") or not biz.get("subject") or not amount:
        return _browser_error("缺少必选参数 (out_trade_no, subject, total_amount)")
    if biz.get("product_code", PAY_METHODS[method]) != PAY_METHODS[method]:
        return _browser_error("product_code 不正确")
    if not params.get("notify_url"):
        return _browser_error("缺少 notify_url")
    expire_at = None
    if biz.get("time_expire"):
        try:
            expire_at = datetime.strptime(biz["time_expire"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
        except ValueError:
            return _browser_error("time_expire 格式错误")
    try:
        trade = sandbox_trade_open(
            provider="alipay",
            out_trade_no=biz["out_trade_no"],
            amount_fen=amount,
            subject=biz["subject"],
            trade_type=method,
            notify_url=params["notify_url"],
            app_id=params["app_id"],
            merchant_id=keys.alipay_keys().seller_id,
            expire_at=expire_at,
        )
    except SandboxRefusal as refusal:
        if refusal.reason != SandboxRefusal.PAID:
            return _browser_error(refusal.message)
        trade = SandboxTrade.objects.get(provider="alipay", out_trade_no=biz["out_trade_no"])
    return HttpResponseRedirect(sandbox_pay_url("alipay", trade.out_trade_no))


def _find(biz: dict) -> SandboxTrade | None:
    if biz.get("trade_no"):
        return SandboxTrade.objects.filter(provider="alipay", transaction_id=biz["trade_no"]).first()
    if biz.get("out_trade_no"):
        return SandboxTrade.objects.filter(provider="alipay", out_trade_no=biz["out_trade_no"]).first()
    return None


def _beijing(dt) -> str:
    return dt.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def _query(method: str, biz: dict) -> HttpResponse:
    trade = _find(biz)
    if trade is None:
        return _business_fail(method, "ACQ.TRADE_NOT_EXIST", "交易不存在")
    fields = {
        "trade_no": trade.transaction_id,
        "out_trade_no": trade.out_trade_no,
        "buyer_logon_id": "san***@sandbox.com",
        "trade_status": _TRADE_STATUSES[trade.status],
        "total_amount": fen_to_yuan_str(trade.amount_fen),
    }
    if trade.paid_at:
        fields.update(
            buyer_pay_amount=fen_to_yuan_str(trade.amount_fen),
            receipt_amount=fen_to_yuan_str(trade.amount_fen),
            send_pay_date=_beijing(trade.paid_at),
            buyer_user_id="208800001111111",
        )
    return _success(method, **fields)


def _close(method: str, biz: dict) -> HttpResponse:
    trade = _find(biz)
    if trade is None:
        return _business_fail(method, "ACQ.TRADE_NOT_EXIST", "交易不存在")
    try:
        sandbox_trade_close(provider="alipay", out_trade_no=trade.out_trade_no)
    except SandboxRefusal as refusal:
        return _business_fail(method, *_REFUSALS[refusal.reason])
    return _success(method, trade_no=trade.transaction_id, out_trade_no=trade.out_trade_no)


def _refund(method: str, biz: dict) -> HttpResponse:
    trade = _find(biz)
    if trade is None:
        return _business_fail(method, "ACQ.TRADE_NOT_EXIST", "交易不存在")
    amount = yuan_str_to_fen(biz.get("refund_amount", ""))
    if not amount:
        return _business_fail(method, "ACQ.INVALID_PARAMETER", "参数无效 refund_amount")
    refund_no = biz.get("out_request_no") or trade.out_trade_no  # Alipay: without it, the whole-trade refund
    try:
        trade, _refund = sandbox_trade_refund(
            provider="alipay", out_trade_no=trade.out_trade_no, refund_no=refund_no, refund_fen=amount
        )
    except SandboxRefusal as refusal:
        return _business_fail(method, *_REFUSALS[refusal.reason])
    return _success(
        method,
        trade_no=trade.transaction_id,
        out_trade_no=trade.out_trade_no,
        buyer_logon_id="san***@sandbox.com",
        fund_change="Y",
        refund_fee=fen_to_yuan_str(trade.refunded_fen),
        gmt_refund_pay=_beijing(timezone.now()),
    )
