"""Who may open the sandbox pay page: the link the API returned (its token), or the order's owner logged in.
Anyone else gets 404 and nothing is paid."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.utils import timezone

from accounts.tests.clients import client_for
from accounts.tests.factories import UserFactory
from payments.models import Order, PaymentNotification
from payments.tests.helpers import place_membership_order, place_points_order
from payments_sandbox.access import pay_page_token
from payments_sandbox.models import SandboxTrade

pytestmark = pytest.mark.django_db


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def assert_nothing_paid(order_no: str):
    assert Order.objects.get(order_no=order_no).status == "pending"
    assert SandboxTrade.objects.get(out_trade_no=order_no).status == "pending"
    assert not PaymentNotification.objects.exists()


@pytest.mark.parametrize(("method", "device"), [("wechat", "app"), ("wechat", "web"), ("alipay", "web")])
def test_the_returned_pay_url_opens_the_page_and_its_button_pays(auth_api, client, method, device):
    data = place_membership_order(auth_api, "monthly", method, device)
    if method == "alipay":  # the browser first follows payUrl to the cashier, which redirects to the pay page
        client.get(data["payParams"]["payUrl"])
    url = path_of(data["payParams"]["sandboxPayUrl"])
    assert "token=" in url

    page = client.get(url)
    done = client.post(url, {"action": "pay"})

    assert page.status_code == 200
    assert data["orderNo"] in page.content.decode()
    assert page["Referrer-Policy"] == "same-origin"
    assert (done.status_code, done["Location"]) == (302, url)  # back to the page, token kept
    assert client.get(done["Location"]).status_code == 200
    assert Order.objects.get(order_no=data["orderNo"]).status == "paid"


def test_the_page_without_a_token_is_404_and_nothing_is_paid(auth_api, client):
    data = place_points_order(auth_api, method="wechat", device="app")
    bare = urlsplit(data["payParams"]["sandboxPayUrl"]).path

    assert client.get(bare).status_code == 404
    assert client.post(bare, {"action": "pay"}).status_code == 404
    assert client.post(bare + "?token=", {"action": "pay"}).status_code == 404
    assert client.post(bare + "?token=forged", {"action": "pay"}).status_code == 404
    assert_nothing_paid(data["orderNo"])


def test_one_orders_token_does_not_open_another_order(client):
    mine = place_points_order(client_for(UserFactory()), method="wechat", device="app")
    theirs = place_points_order(client_for(UserFactory()), method="wechat", device="app")
    my_token = urlsplit(mine["payParams"]["sandboxPayUrl"]).query
    their_page = urlsplit(theirs["payParams"]["sandboxPayUrl"]).path

    assert client.get(f"{their_page}?{my_token}").status_code == 404
    assert client.post(f"{their_page}?{my_token}", {"action": "pay"}).status_code == 404
    assert client.post(f"{their_page}?{my_token}", {"action": "close"}).status_code == 404
    assert_nothing_paid(theirs["orderNo"])
    assert Order.objects.get(order_no=mine["orderNo"]).status == "pending"


def test_a_token_for_the_same_number_at_the_other_provider_is_refused(auth_api, client):
    data = place_points_order(auth_api, method="alipay", device="app")
    token = pay_page_token("wechat", data["orderNo"])

    response = client.post(f"/sandbox/pay/alipay/{data['orderNo']}?token={token}", {"action": "pay"})

    assert response.status_code == 404
    assert_nothing_paid(data["orderNo"])


def test_the_token_stops_working_an_hour_after_the_trade_expires(auth_api, client):
    data = place_points_order(auth_api, method="wechat", device="app")
    url = path_of(data["payParams"]["sandboxPayUrl"])
    expire_at = SandboxTrade.objects.get().expire_at

    with time_machine.travel(expire_at + timedelta(minutes=59)):
        assert client.get(url).status_code == 200  # still there: the page says the trade expired
    with time_machine.travel(expire_at + timedelta(minutes=61)):
        assert client.get(url).status_code == 404
        assert client.post(url, {"action": "pay"}).status_code == 404
    assert_nothing_paid(data["orderNo"])
    assert timezone.now() < expire_at


def test_the_orders_owner_logged_in_may_open_it_without_the_token_and_nobody_else(client):
    owner, stranger = UserFactory(), UserFactory()
    data = place_points_order(client_for(owner), method="wechat", device="app")
    bare = urlsplit(data["payParams"]["sandboxPayUrl"]).path

    client.force_login(stranger)
    assert client.get(bare).status_code == 404
    assert client.post(bare, {"action": "pay"}).status_code == 404
    assert_nothing_paid(data["orderNo"])

    client.force_login(owner)
    assert client.get(bare).status_code == 200
    assert client.post(bare, {"action": "pay"}).status_code == 302
    assert Order.objects.get(order_no=data["orderNo"]).status == "paid"
