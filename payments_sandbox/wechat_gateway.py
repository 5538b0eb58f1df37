"""The sandbox's WeChat Pay v2 API: pay/unifiedorder, pay/orderquery, pay/closeorder, secapi/pay/refund.

XML in, XML out, as api.mch.weixin.qq.com speaks it: requests are checked (app id, merchant id, MD5 or
HMAC-SHA256 signature with the sandbox API key); communication failures answer return_code FAIL without a
signature; business answers carry result_code SUCCESS/FAIL (err_code) and are signed with MD5.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

import xmltodict
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import keys, signing
from .models import SandboxTrade
from .services import SandboxRefusal, sandbox_trade_close, sandbox_trade_open, sandbox_trade_refund
from .transport import sandbox_pay_url

BEIJING = ZoneInfo("Asia/Shanghai")
TRADE_TYPES = ("JSAPI", "NATIVE", "APP", "MWEB")
_REFUSAL_CODES = {
    SandboxRefusal.PAID: ("ORDERPAID", "该订单已支付"),
    SandboxRefusal.CLOSED: ("ORDERCLOSED", "订单已关闭"),
    SandboxRefusal.REFUNDED: ("ORDERPAID", "该订单已支付"),
    SandboxRefusal.NOT_PAID: ("TRADE_STATE_ERROR", "订单状态错误"),
    SandboxRefusal.EXPIRED: ("ORDERCLOSED", "订单已关闭"),
    SandboxRefusal.DUPLICATE: ("INVALID_REQUEST", "201 商户订单号重复"),
    SandboxRefusal.AMOUNT: ("INVALID_REQUEST", "参数错误"),
}
_TRADE_STATES = {
    SandboxTrade.Status.PENDING: ("NOTPAY", "订单未支付"),
    SandboxTrade.Status.PAID: ("SUCCESS", "支付成功"),
    SandboxTrade.Status.CLOSED: ("CLOSED", "订单已关闭"),
    SandboxTrade.Status.REFUNDED: ("REFUND", "订单发生过退款"),
}


def _xml_response(params: dict) -> HttpResponse:
    return HttpResponse(signing.wechat_xml(params), content_type="text/xml; charset=utf-8")


def _communication_fail(message: str) -> HttpResponse:
    return _xml_response({"return_code": "FAIL", "return_msg": message})


def _signed(params: dict) -> HttpResponse:
    k = keys.wechat_keys()
    answer = {
        "return_code": "SUCCESS",
        "return_msg": "OK",
        "appid": k.app_id,
        "mch_id": k.mch_id,
        "nonce_str": secrets.token_hex(16),
        **params,
    }
    answer["sign"] = signing.wechat_sign(answer, k.api_key)
    return _xml_response(answer)


def _business_fail(err_code: str, message: str) -> HttpResponse:
    return _signed({"result_code": "FAIL", "err_code": err_code, "err_code_des": message})


def _refusal(refusal: SandboxRefusal) -> HttpResponse:
    err_code, message = _REFUSAL_CODES[refusal.reason]
    return _business_fail(err_code, message)


def _wechat_api(view):
    """Parse the XML body and check app id, merchant id and signature before the endpoint sees the parameters."""

    @csrf_exempt
    @require_POST
    def wrapped(request):
        try:
            parsed = xmltodict.parse(request.body)
            params = dict(parsed["xml"])
        except Exception:  # malformed, DTD/entities, no <xml> root
            return _communication_fail("XML格式错误")
        if any(not isinstance(v, str | type(None)) for v in params.values()):
            return _communication_fail("XML格式错误")
        k = keys.wechat_keys()
        if params.get("appid") != k.app_id or params.get("mch_id") != k.mch_id:
            return _communication_fail("appid和mch_id不匹配")
        if not params.get("nonce_str"):
            return _communication_fail("缺少参数nonce_str")
        if not signing.wechat_sign_valid(params, k.api_key):
            return _communication_fail("签名错误")
        return view(request, {key: value or "" for key, value in params.items()})

    return wrapped


def _beijing(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=BEIJING)
    except ValueError:
        return None


def _trade(params: dict) -> SandboxTrade | None:
    lookup = {"provider": "wechat"}
    if params.get("transaction_id"):
        lookup["transaction_id"] = params["transaction_id"]
    elif params.get("out_trade_no"):
        lookup["out_trade_no"] = params["out_trade_no"]
    else:
        return None
    return SandboxTrade.objects.filter(**lookup).first()


@_wechat_api
def unified_order(request, params: dict) -> HttpResponse:
    for name in ("body", "out_trade_no", "total_fee", "spbill_create_ip", "notify_url", "trade_type"):
        if not params.get(name):
            return _communication_fail(f"缺少参数{name}")
    trade_type = params["trade_type"]
    if trade_type not in TRADE_TYPES:
        return _communication_fail("trade_type参数错误")
    if not params["total_fee"].isdigit() or int(params["total_fee"]) <= 0:
        return _business_fail("PARAM_ERROR", "total_fee参数错误")
    if trade_type == "JSAPI" and not params.get("openid"):
        return _business_fail("PARAM_ERROR", "JSAPI支付必须传openid")
    if trade_type == "NATIVE" and not params.get("product_id"):
        return _business_fail("PARAM_ERROR", "NATIVE支付必须传product_id")
    expire_at = _beijing(params["time_expire"]) if params.get("time_expire") else None
    try:
        trade = sandbox_trade_open(
            provider="wechat",
            out_trade_no=params["out_trade_no"],
            amount_fen=int(params["total_fee"]),
            subject=params["body"],
            trade_type=trade_type,
            notify_url=params["notify_url"],
            app_id=params["appid"],
            merchant_id=params["mch_id"],
            openid=params.get("openid", ""),
            expire_at=expire_at,
        )
    except SandboxRefusal as refusal:
        return _refusal(refusal)
    answer = {"result_code": "SUCCESS", "trade_type": trade_type, "prepay_id": trade.prepay_id}
    if trade_type == "NATIVE":
        # a real code_url is weixin://wxpay/bizpayurl?pr=…; the sandbox's opens its pay page when scanned
        answer["code_url"] = sandbox_pay_url("wechat", trade.out_trade_no)
    if trade_type == "MWEB":
        answer["mweb_url"] = sandbox_pay_url("wechat", trade.out_trade_no)
    return _signed(answer)


@_wechat_api
def order_query(request, params: dict) -> HttpResponse:
    trade = _trade(params)
    if trade is None:
        return _business_fail("ORDERNOTEXIST", "订单不存在")
    trade_state, description = _TRADE_STATES[trade.status]
    answer = {
        "result_code": "SUCCESS",
        "out_trade_no": trade.out_trade_no,
        "trade_state": trade_state,
        "trade_state_desc": description,
        "total_fee": str(trade.amount_fen),
        "fee_type": "CNY",
        "trade_type": trade.trade_type,
        "openid": trade.openid,
    }
    if trade.paid_at:
        answer.update(
            transaction_id=trade.transaction_id,
            time_end=trade.paid_at.astimezone(BEIJING).strftime("%Y%m%d%H%M%S"),
            cash_fee=str(trade.amount_fen),
            bank_type="OTHERS",
            is_subscribe="N",
        )
    return _signed(answer)


@_wechat_api
def close_order(request, params: dict) -> HttpResponse:
    if not params.get("out_trade_no"):
        return _communication_fail("缺少参数out_trade_no")
    try:
        sandbox_trade_close(provider="wechat", out_trade_no=params["out_trade_no"])
    except SandboxTrade.DoesNotExist:
        return _business_fail("ORDERNOTEXIST", "订单不存在")
    except SandboxRefusal as refusal:
        return _refusal(refusal)
    return _signed({"result_code": "SUCCESS"})


@_wechat_api
def refund(request, params: dict) -> HttpResponse:
    for name in ("out_refund_no", "total_fee", "refund_fee"):
        if not params.get(name):
            return _communication_fail(f"缺少参数{name}")
    if not (params["total_fee"].isdigit() and params["refund_fee"].isdigit()):
        return _business_fail("PARAM_ERROR", "金额参数错误")
    trade = _trade(params)
    if trade is None:
        return _business_fail("ORDERNOTEXIST", "订单不存在")
    try:
        trade, done = sandbox_trade_refund(
            provider="wechat",
            out_trade_no=trade.out_trade_no,
            refund_no=params["out_refund_no"],
            refund_fen=int(params["refund_fee"]),
            total_fen=int(params["total_fee"]),
        )
    except SandboxRefusal as refusal:
        return _refusal(refusal)
    return _signed(
        {
            "result_code": "SUCCESS",
            "transaction_id": trade.transaction_id,
            "out_trade_no": trade.out_trade_no,
            "out_refund_no": done["refund_no"],
            "refund_id": done["refund_id"],
            "refund_fee": str(done["amount_fen"]),
            "total_fee": str(trade.amount_fen),
            "cash_fee": str(trade.amount_fen),
        }
    )
