"""Helpers of the order tests: placing orders through the API and paying them through the sandbox."""

from __future__ import annotations

from urllib.parse import urlsplit

from payments.models import Order
from payments_sandbox import keys, signing
from payments_sandbox.transport import sandbox_pay_url

MONTHLY_FEN = 1990
YEARLY_FEN = 19900
PACKAGE_60 = "7d0a3c1e-0b6f-4d51-9a51-000000000060"  # 60 points for 6 yuan (seeded by membership's migration)


def place_membership_order(client, plan="monthly", method="alipay", device="web") -> dict:
    response = client.post(
        "/api/membership/order", {"type": plan, "paymentMethod": method, "device": device}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["code"] == 0
    return response.json()["data"]


def place_points_order(client, method="wechat", amount=6, device="app", package=PACKAGE_60) -> dict:
    response = client.post(
        "/api/points/purchase",
        {"packageId": package, "payment": {"method": method, "amount": amount, "device": device}},
        format="json",
    )
    assert response.status_code == 200, response.content
    return response.json()["data"]


def pay_in_sandbox(django_client, data: dict) -> None:
    """Press the sandbox pay page's button: the sandbox marks the trade paid and posts its signed notification to
    our notify endpoint, in-process."""
    url = urlsplit(data["payParams"]["sandboxPayUrl"])
    response = django_client.post(f"{url.path}?{url.query}", {"action": "pay"})
    assert response.status_code == 302, response.content


def sandbox_page(provider: str, order_no: str) -> str:
    """The path of a trade's sandbox pay page with its token, as the link the API returns has it."""
    url = urlsplit(sandbox_pay_url(provider, order_no))
    return f"{url.path}?{url.query}"


def wechat_notification(order: Order, **overrides) -> bytes:
    """A WeChat Pay v2 payment notification for `order`, MD5-signed with the sandbox's API key (or as told)."""
    wx = keys.wechat_keys()
    api_key = overrides.pop("api_key", wx.api_key)
    params = {
        "appid": wx.app_id,
        "bank_type": "OTHERS",
        "cash_fee": str(order.amount_fen),
        "fee_type": "CNY",
        "is_subscribe": "N",
        "mch_id": wx.mch_id,
        "nonce_str": "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
        "openid": "o_payer",
        "out_trade_no": order.order_no,
        "result_code": "SUCCESS",
        "return_code": "SUCCESS",
        "time_end": "20240101120500",
        "total_fee": str(order.amount_fen),
        "trade_type": order.trade_type,
        "transaction_id": "4200000000202401011234567890",
    }
    params.update({k: v for k, v in overrides.items() if v is not None})
    for k in [k for k, v in overrides.items() if v is None]:
        params.pop(k, None)
    params["sign"] = signing.wechat_sign(params, api_key)
    return signing.wechat_xml(params).encode("utf-8")


def alipay_notification(order: Order, **overrides) -> dict:
    """An Alipay asynchronous notification for `order`, RSA2-signed with the sandbox's platform key (or as told)."""
    ali = keys.alipay_keys()
    private_key = overrides.pop("private_key", ali.platform_private_key)
    amount = f"{order.amount_fen // 100}.{order.amount_fen % 100:02d}"
    fields = {
        "notify_time": "2024-01-01 12:05:00",
        "notify_type": "trade_status_sync",
        "notify_id": "ac05099524730693a8b330c5ecf72da9786",
        "charset": "utf-8",
        "version": "1.0",
        "app_id": ali.app_id,
        "seller_id": ali.seller_id,
        "trade_no": "2024010122001400001234567890",
        "out_trade_no": order.order_no,
        "trade_status": "TRADE_SUCCESS",
        "total_amount": amount,
        "subject": order.subject,
        "gmt_payment": "2024-01-01 12:05:00",
    }
    fields.update(overrides)
    fields["sign"] = signing.rsa2_sign(private_key, signing.alipay_sign_content(fields, ("sign", "sign_type")))
    fields["sign_type"] = "RSA2"
    return fields
