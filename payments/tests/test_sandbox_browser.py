"""From order to upgraded membership (and credited points) in a real browser: the sandbox pay page on a live server,
its button, the signed notification through the real notify endpoint."""

import pytest

from accounts.tests.clients import client_for
from accounts.tests.factories import UserFactory
from payments.models import Order, PaymentNotification
from payments.tests.helpers import place_membership_order, place_points_order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.mark.parametrize(("method", "device"), [("wechat", "web"), ("alipay", "web")])
def test_buying_a_plan_in_the_sandbox_upgrades_the_membership(page, live_server, method, device):
    api = client_for(UserFactory())
    assert api.get("/api/membership/info").json()["data"]["currentLevel"] == "free"
    data = place_membership_order(api, "yearly", method, device)
    assert data["payParams"]["sandboxPayUrl"].startswith(live_server.url)

    page.goto(data["payParams"]["sandboxPayUrl"])
    assert page.get_by_test_id("order-no").inner_text() == data["orderNo"]
    assert page.get_by_test_id("amount").inner_text() == "¥199.00"
    page.get_by_test_id("pay").click()

    page.get_by_test_id("notify-result").wait_for()
    assert "acknowledged" in page.get_by_test_id("notify-result").inner_text()
    assert "not acknowledged" not in page.get_by_test_id("notify-result").inner_text()
    info = api.get("/api/membership/info").json()["data"]
    assert (info["currentLevel"], info["isValid"]) == ("yearly", True)
    order = api.get(f"/api/membership/order/{data['orderNo']}").json()["data"]
    assert order["status"] == "paid"
    assert PaymentNotification.objects.get().outcome == "settled"


def test_buying_points_in_the_sandbox_credits_them(page):
    api = client_for(UserFactory())
    data = place_points_order(api, method="wechat", device="app")

    page.goto(data["payParams"]["sandboxPayUrl"])
    page.get_by_test_id("pay").click()
    page.get_by_test_id("notify-result").wait_for()

    history = api.get("/api/points/history").json()["data"]["list"]
    assert [(entry["amount"], entry["reason"]) for entry in history] == [(60, "purchase")]
    assert Order.objects.get().status == "paid"
