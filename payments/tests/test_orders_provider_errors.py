"""Provider failures with real-looking credentials: the real clients talk to fake gateways on 127.0.0.1."""

import pytest
from werkzeug import Response

from payments.models import Order, OrderGrant
from payments.tests.conftest import ALI_APP_ID, ALI_SELLER_ID, WX_API_KEY, WX_APP_ID, WX_MCH_ID, wechat_answer
from payments.tests.helpers import place_membership_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def real_wechat(settings, httpserver):
    settings.WECHAT_PAY_APP_ID = WX_APP_ID
    settings.WECHAT_PAY_MCH_ID = WX_MCH_ID
    settings.WECHAT_PAY_API_KEY = WX_API_KEY
    settings.WECHAT_PAY_API_BASE = httpserver.url_for("/")
    settings.PAYMENT_TIMEOUT_SECONDS = 2
    return httpserver


@pytest.fixture
def real_alipay(settings, httpserver, alipay_pairs):
    (app_private, _), (_, platform_public) = alipay_pairs
    settings.ALIPAY_APP_ID = ALI_APP_ID
    settings.ALIPAY_APP_PRIVATE_KEY = app_private
    settings.ALIPAY_PUBLIC_KEY = platform_public
    settings.ALIPAY_SELLER_ID = ALI_SELLER_ID
    settings.ALIPAY_GATEWAY = httpserver.url_for("/gateway.do")
    settings.PAYMENT_TIMEOUT_SECONDS = 2
    return httpserver


def test_a_failing_provider_is_50000_and_the_order_is_closed_not_half_made(auth_api, real_wechat):
    real_wechat.expect_request("/pay/unifiedorder", method="POST").respond_with_data("oops", status=500)

    response = auth_api.post(
        "/api/membership/order", {"type": "monthly", "paymentMethod": "wechat", "device": "app"}, format="json"
    )

    assert response.status_code == 502
    assert response.json()["code"] == 50000
    order = Order.objects.get()
    assert order.status == "closed"
    assert order.close_reason.startswith("provider failed")
    assert order.pay_params == {}
    assert list(order.events.values_list("kind", flat=True)) == ["created", "provider_failed"]
    assert not OrderGrant.objects.exists()


def test_a_provider_that_refuses_the_order_is_40001(auth_api, real_wechat):
    answer = wechat_answer({"result_code": "FAIL", "err_code": "INVALID_REQUEST", "err_code_des": "bad"})
    real_wechat.expect_request("/pay/unifiedorder", method="POST").respond_with_response(
        Response(answer, content_type="text/xml")
    )

    response = auth_api.post(
        "/api/membership/order", {"type": "monthly", "paymentMethod": "wechat", "device": "web"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == 40001
    assert Order.objects.get().status == "closed"


def test_real_wechat_native_order_gets_the_code_url(auth_api, real_wechat):
    real_wechat.expect_request("/pay/unifiedorder", method="POST").respond_with_response(
        Response(
            wechat_answer({"result_code": "SUCCESS", "prepay_id": "wx1", "code_url": "weixin://wxpay/bizpayurl?pr=x"}),
            content_type="text/xml",
        )
    )

    data = place_membership_order(auth_api, "monthly", "wechat", "web")

    assert data["payParams"] == {"codeUrl": "weixin://wxpay/bizpayurl?pr=x"}  # no sandboxPayUrl with credentials


def test_query_with_an_unreachable_provider_is_50000_and_changes_nothing(auth_api, real_alipay):
    data = place_membership_order(auth_api, "monthly", "alipay", "web")
    assert "sandboxPayUrl" not in data["payParams"]
    real_alipay.expect_request("/gateway.do").respond_with_data("down", status=503)

    response = auth_api.get(f"/api/payment/order/{data['orderNo']}/query")

    assert response.status_code == 502
    assert response.json()["code"] == 50000
    assert Order.objects.get().status == "pending"


def test_payments_not_configured_at_all_is_50000_without_an_order(auth_api, settings):
    settings.PAYMENT_SANDBOX = False

    response = auth_api.post(
        "/api/membership/order", {"type": "monthly", "paymentMethod": "alipay", "device": "app"}, format="json"
    )

    assert response.status_code == 502
    assert response.json()["code"] == 50000
    assert not Order.objects.exists()
