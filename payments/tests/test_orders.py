"""Placing orders: POST /membership/order and /points/purchase, through the sandbox providers."""

from decimal import Decimal

import pytest

from membership.models import PointPackage
from payments.models import Order, OrderEvent
from payments.tests.helpers import PACKAGE_60, place_membership_order, place_points_order

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("method", "device", "keys"),
    [
        ("wechat", "app", {"appid", "partnerid", "prepayid", "package", "noncestr", "timestamp", "sign"}),
        ("wechat", "web", {"codeUrl"}),
        ("alipay", "app", {"orderString"}),
        ("alipay", "web", {"payUrl"}),
        ("alipay", "miniprogram", {"payUrl"}),
    ],
)
def test_membership_order_returns_the_payment_parameters(auth_api, method, device, keys):
    data = place_membership_order(auth_api, "monthly", method, device)

    assert data["amount"] == 19.9
    assert data["type"] == "monthly"
    assert data["paymentMethod"] == method
    assert data["status"] == "pending"
    assert set(data["payParams"]) == keys | {"sandboxPayUrl"}
    order = Order.objects.get(order_no=data["orderNo"])
    assert str(order.id) == data["orderId"]
    assert order.user == auth_api.user
    assert order.amount_fen == 1990
    assert order.pay_params == data["payParams"]
    assert (order.expire_at - order.created_at).total_seconds() == 30 * 60
    assert data["expireAt"].endswith("Z")
    assert order.order_no.startswith("TN") and len(order.order_no) == 18 and order.order_no[2:].isdigit()
    assert list(order.events.values_list("kind", flat=True)) == ["created", "pay_params"]


def test_points_purchase_returns_the_order_with_package_and_points(auth_api):
    data = place_points_order(auth_api, method="wechat", amount=6, device="app")

    assert data["type"] == "points"
    assert data["packageId"] == PACKAGE_60
    assert data["points"] == 60
    assert data["amount"] == 6.0
    order = Order.objects.get(order_no=data["orderNo"])
    assert (order.kind, order.points, order.amount_fen, order.trade_type) == ("points", 60, 600, "APP")


def test_points_purchase_accepts_the_price_written_as_a_string_with_decimals(auth_api):
    data = place_points_order(auth_api, method="alipay", amount="6.00")
    assert data["amount"] == 6.0


def test_device_defaults_to_app(auth_api):
    response = auth_api.post("/api/membership/order", {"type": "yearly", "paymentMethod": "wechat"}, format="json")

    assert response.status_code == 200
    assert response.json()["data"]["device"] == "app"
    assert Order.objects.get().trade_type == "APP"


def test_wechat_miniprogram_needs_a_wechat_login(auth_api):
    response = auth_api.post(
        "/api/membership/order", {"type": "monthly", "paymentMethod": "wechat", "device": "miniprogram"}, format="json"
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == 40001
    assert body["details"]["login"] == "wechat"
    assert "openid" in body["details"]
    assert not Order.objects.exists()


def test_wechat_miniprogram_with_an_openid_gets_jsapi_parameters(auth_api):
    auth_api.user.wechat_openid = "o_user_1"
    auth_api.user.save(update_fields=["wechat_openid"])

    data = place_membership_order(auth_api, "monthly", "wechat", "miniprogram")

    assert set(data["payParams"]) == {
        "appId",
        "timeStamp",
        "nonceStr",
        "package",
        "signType",
        "paySign",
        "sandboxPayUrl",
    }
    assert data["payParams"]["signType"] == "MD5"
    assert data["payParams"]["package"].startswith("prepay_id=")


@pytest.mark.parametrize(
    "body",
    [
        {"type": "free", "paymentMethod": "wechat"},
        {"type": "weekly", "paymentMethod": "wechat"},
        {"type": "monthly", "paymentMethod": "paypal"},
        {"type": "monthly", "paymentMethod": "alipay", "device": "tv"},
        {"paymentMethod": "alipay"},
        {"type": "monthly"},
    ],
)
def test_membership_order_refuses_invalid_parameters(auth_api, body):
    response = auth_api.post("/api/membership/order", body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == 400
    assert not Order.objects.exists()


@pytest.mark.parametrize("amount", [5.99, 60, "6.01", 0])
def test_points_purchase_with_another_amount_is_40001(auth_api, amount):
    response = auth_api.post(
        "/api/points/purchase",
        {"packageId": PACKAGE_60, "payment": {"method": "wechat", "amount": amount}},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == 40001
    assert response.json()["details"]["price"] == 6.0
    assert not Order.objects.exists()


def test_points_purchase_of_an_unknown_or_withdrawn_package_is_40001(auth_api):
    PointPackage.objects.filter(pk=PACKAGE_60).update(is_active=False)
    for package in (PACKAGE_60, "00000000-0000-0000-0000-000000000000"):
        response = auth_api.post(
            "/api/points/purchase", {"packageId": package, "payment": {"method": "alipay", "amount": 6}}, format="json"
        )
        assert response.status_code == 400
        assert response.json()["code"] == 40001
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"packageId": "not-a-uuid", "payment": {"method": "alipay", "amount": 6}},
        {"packageId": PACKAGE_60},
        {"packageId": PACKAGE_60, "payment": {"method": "cash", "amount": 6}},
        {"packageId": PACKAGE_60, "payment": {"method": "alipay", "amount": "six"}},
        {"packageId": PACKAGE_60, "payment": {"method": "alipay", "amount": 6, "device": "tv"}},
    ],
)
def test_points_purchase_refuses_invalid_parameters(auth_api, body):
    response = auth_api.post("/api/points/purchase", body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == 400
    assert not Order.objects.exists()


def test_placing_orders_needs_a_login(api):
    assert (
        api.post("/api/membership/order", {"type": "monthly", "paymentMethod": "alipay"}, format="json").json()["code"]
        == 401
    )
    response = api.post(
        "/api/points/purchase", {"packageId": PACKAGE_60, "payment": {"method": "alipay", "amount": 6}}, format="json"
    )
    assert response.status_code == 401
    assert not Order.objects.exists()


def test_order_numbers_are_unique_and_drawn_again_on_collision(auth_api, monkeypatch):
    from payments.services import orders

    first = place_membership_order(auth_api)
    draws = iter([first["orderNo"], first["orderNo"], "TN2099010100000001"])
    monkeypatch.setattr(orders, "_new_order_no", lambda now: next(draws))

    second = place_membership_order(auth_api)

    assert second["orderNo"] == "TN2099010100000001"
    assert Order.objects.count() == 2
    assert OrderEvent.objects.filter(kind="created").count() == 2


def test_price_is_fixed_when_ordering(auth_api):
    from membership.models import Plan

    data = place_membership_order(auth_api)
    Plan.objects.filter(type="monthly").update(price_fen=2990)

    order = Order.objects.get(order_no=data["orderNo"])
    assert order.amount_fen == 1990
    assert order.amount_yuan == Decimal("19.90")


IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"
DESKTOP = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"


@pytest.mark.parametrize(
    ("method", "user_agent", "trade_type"),
    [
        ("alipay", IPHONE, "alipay.trade.wap.pay"),
        ("alipay", DESKTOP, "alipay.trade.page.pay"),
        ("alipay", "", "alipay.trade.page.pay"),
        ("wechat", IPHONE, "NATIVE"),
    ],
)
def test_web_in_a_phones_browser_gets_alipay_wap_pay(auth_api, method, user_agent, trade_type):
    for path, body in (
        ("/api/membership/order", {"type": "monthly", "paymentMethod": method, "device": "web"}),
        (
            "/api/points/purchase",
            {"packageId": PACKAGE_60, "payment": {"method": method, "amount": 6, "device": "web"}},
        ),
    ):
        response = auth_api.post(path, body, format="json", HTTP_USER_AGENT=user_agent)

        assert response.status_code == 200, response.content
        data = response.json()["data"]
        assert data["device"] == "web"
        assert Order.objects.get(order_no=data["orderNo"]).trade_type == trade_type
        if method == "alipay":
            assert f"method={trade_type}" in data["payParams"]["payUrl"]
        else:
            assert set(data["payParams"]) == {"codeUrl", "sandboxPayUrl"}
