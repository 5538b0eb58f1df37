"""Reading orders: GET /membership/order/:orderNo, /membership/orders, /payment/order/:orderNo/query."""

import pytest

from accounts.tests.clients import client_for
from accounts.tests.factories import UserFactory
from membership.selectors import membership_state
from payments.models import Order
from payments.tests.helpers import pay_in_sandbox, place_membership_order, place_points_order
from payments_sandbox.services import sandbox_trade_pay

pytestmark = pytest.mark.django_db


def test_order_detail_for_its_owner(auth_api, client):
    data = place_membership_order(auth_api)
    pay_in_sandbox(client, data)

    response = auth_api.get(f"/api/membership/order/{data['orderNo']}")

    assert response.status_code == 200
    body = response.json()["data"]
    assert body["orderNo"] == data["orderNo"]
    assert body["status"] == "paid"
    assert body["amount"] == 19.9
    assert body["type"] == "monthly"
    assert body["paymentMethod"] == "alipay"
    assert body["paidAt"].endswith("Z")
    assert body["createdAt"].endswith("Z")
    assert body["packageId"] is None


def test_someone_elses_or_an_unknown_order_is_404(auth_api):
    other = client_for(UserFactory())
    data = place_membership_order(other)

    for path in (
        f"/api/membership/order/{data['orderNo']}",
        "/api/membership/order/TN2024010112001234",
        "/api/membership/order/whatever",
        "/api/membership/order/TN%00",
        "/api/payment/order/TN%00/query",
        f"/api/membership/order/{'9' * 40}",
        f"/api/payment/order/{data['orderNo']}/query",
        "/api/payment/order/TN2024010112001234/query",
    ):
        response = auth_api.get(path)
        assert response.status_code == 404, path
        assert response.json()["code"] == 404


def test_reading_orders_needs_a_login(api, auth_api):
    data = place_membership_order(auth_api)
    for path in (
        f"/api/membership/order/{data['orderNo']}",
        "/api/membership/orders",
        f"/api/payment/order/{data['orderNo']}/query",
    ):
        response = api.get(path)
        assert response.status_code == 401
        assert response.json()["code"] == 401


def test_order_list_pages_filters_and_shows_only_mine(auth_api, client, django_assert_max_num_queries):
    place_membership_order(client_for(UserFactory()))
    paid = place_membership_order(auth_api, "yearly", "wechat", "app")
    pay_in_sandbox(client, paid)
    for _ in range(2):
        place_points_order(auth_api)
    place_membership_order(auth_api)

    with django_assert_max_num_queries(6):
        response = auth_api.get("/api/membership/orders", {"page": 1, "pageSize": 3})
    body = response.json()["data"]
    assert response.status_code == 200
    assert body["pagination"] == {"page": 1, "pageSize": 3, "total": 4, "totalPages": 2}
    assert [o["type"] for o in body["list"]] == ["monthly", "points", "points"]

    response = auth_api.get("/api/membership/orders", {"status": "paid"})
    assert [o["orderNo"] for o in response.json()["data"]["list"]] == [paid["orderNo"]]
    assert response.json()["data"]["list"][0]["type"] == "yearly"

    response = auth_api.get("/api/membership/orders", {"status": "closed"})
    assert response.json()["data"]["list"] == []


@pytest.mark.parametrize("query", [{"status": "done"}, {"page": 0}, {"pageSize": "x"}])
def test_order_list_refuses_bad_parameters(auth_api, query):
    response = auth_api.get("/api/membership/orders", query)
    assert response.status_code == 400
    assert response.json()["code"] == 400


def test_query_of_an_unpaid_order_asks_the_provider_and_stays_pending(auth_api, monkeypatch):
    from payments.providers.wechatpay import WeChatPayGateway

    data = place_membership_order(auth_api, "monthly", "wechat", "web")
    asked = []
    query = WeChatPayGateway.query

    def spy(gateway, order_no):
        answer = query(gateway, order_no)
        asked.append((order_no, answer))
        return answer

    monkeypatch.setattr(WeChatPayGateway, "query", spy)

    response = auth_api.get(f"/api/payment/order/{data['orderNo']}/query")

    assert response.status_code == 200
    assert response.json()["data"] == {"orderNo": data["orderNo"], "status": "pending", "paidAt": None}
    assert [order_no for order_no, _ in asked] == [data["orderNo"]]  # the provider was asked, about this order
    assert not asked[0][1].paid  # and answered "not paid": nothing changes
    assert Order.objects.get(order_no=data["orderNo"]).status == "pending"


@pytest.mark.parametrize("method", ["wechat", "alipay"])
def test_query_settles_a_payment_whose_notification_never_came(auth_api, method):
    data = place_membership_order(auth_api, "monthly", method, "app")
    sandbox_trade_pay(provider=method, out_trade_no=data["orderNo"])  # paid at the provider, no notification

    response = auth_api.get(f"/api/payment/order/{data['orderNo']}/query")

    body = response.json()["data"]
    assert body["status"] == "paid"
    assert body["paidAt"] is not None
    order = Order.objects.get(order_no=data["orderNo"])
    assert order.grant.days == 30
    assert membership_state(user=auth_api.user).level == "monthly"
    assert order.events.filter(kind="paid", source="query").count() == 1

    auth_api.get(f"/api/payment/order/{data['orderNo']}/query")  # asking again grants nothing more
    assert order.events.filter(kind="paid").count() == 1
