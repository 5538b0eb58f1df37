"""The payer's address sent to the provider and kept on the order is the client's, not our proxy's."""

import pytest

from payments.models import Order
from payments.tests.helpers import place_membership_order

pytestmark = pytest.mark.django_db


def test_an_order_placed_through_our_proxy_keeps_the_clients_address(auth_api, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    auth_api.defaults.update(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")

    data = place_membership_order(auth_api, "monthly", "wechat", "app")

    assert Order.objects.get(order_no=data["orderNo"]).client_ip == "203.0.113.7"
