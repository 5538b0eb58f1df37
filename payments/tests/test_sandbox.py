"""The payment sandbox end to end, with no network: the real clients talk to the sandbox gateway in-process, the
pay page completes the payment and a signed notification reaches a notify URL."""

import json
import os
import stat
from datetime import timedelta
from urllib.parse import parse_qsl

import pytest
from django.db import connection, transaction
from django.utils import timezone, translation
from werkzeug import Response

from payments.providers import (
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
    get_gateway,
    sandbox_active,
)
from payments.providers.wechatpay import WeChatPayGateway
from payments.tests.factories import PayRequestFactory
from payments.tests.helpers import sandbox_page
from payments_sandbox import keys
from payments_sandbox.models import SandboxTrade
from payments_sandbox.transport import session_for_own_origin
from tunee.testing import race_results

pytestmark = pytest.mark.django_db


def pay_request(notify_url, device="miniprogram", openid="o_sandbox_user", **overrides):
    return PayRequestFactory(notify_url=notify_url, device=device, openid=openid, **overrides)


@pytest.fixture
def notifications(httpserver):
    """A notify endpoint on 127.0.0.1 that records what it receives and answers like ours would."""
    received = []

    def handle(request):
        received.append(request)
        provider = request.path.rsplit("/", 1)[-1]
        body, content_type = get_gateway(provider).reply(True)
        return Response(body, content_type=content_type)

    httpserver.expect_request("/notify/wechat", method="POST").respond_with_handler(handle)
    httpserver.expect_request("/notify/alipay", method="POST").respond_with_handler(handle)
    return received


# --- keys ---------------------------------------------------------------------------------------------------------


def test_keys_are_generated_once_per_installation_and_private(settings, fresh_sandbox_keys):
    assert not (settings.VAR_DIR / "payments-sandbox").exists()

    first_wechat, first_alipay = keys.wechat_keys(), keys.alipay_keys()
    keys._cache.clear()  # as a new process would

    assert keys.wechat_keys() == first_wechat
    assert keys.alipay_keys() == first_alipay
    folder = settings.VAR_DIR / "payments-sandbox"
    assert sorted(p.name for p in folder.iterdir()) == ["alipay.json", "wechat.json"]
    for path in folder.iterdir():
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(first_wechat.api_key) == 32
    assert first_alipay.app_private_key.startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert first_alipay.platform_public_key.startswith("-----BEGIN PUBLIC KEY-----")
    assert first_alipay.app_private_key != first_alipay.platform_private_key


def test_concurrent_first_use_ends_with_one_set_of_keys(settings, fresh_sandbox_keys):
    assert not (settings.VAR_DIR / "payments-sandbox").exists()

    def worker():
        keys._cache.clear()
        return keys.wechat_keys()

    results = race_results(*[worker] * 6)
    keys._cache.clear()
    assert len(set(results)) == 1
    assert results[0] == keys.wechat_keys()


def test_another_installation_gets_other_keys(settings, tmp_path):
    mine = keys.wechat_keys()
    settings.VAR_DIR = tmp_path / "elsewhere"
    assert keys.wechat_keys() != mine


# --- WeChat Pay end to end ----------------------------------------------------------------------------------------


def test_wechat_sandbox_from_order_to_verified_notification(client, httpserver, notifications):
    gateway = get_gateway("wechat")
    assert gateway.sandbox
    assert gateway.app_id == keys.wechat_keys().app_id

    params = gateway.create_payment(pay_request(httpserver.url_for("/notify/wechat")))

    assert params["package"].startswith("prepay_id=wx")
    assert params["signType"] == "MD5"
    assert params["sandboxPayUrl"] == "http://127.0.0.1:8000" + sandbox_page("wechat", "TN2024010112001234")
    trade = SandboxTrade.objects.get(provider="wechat", out_trade_no="TN2024010112001234")
    assert (trade.status, trade.amount_fen, trade.trade_type, trade.openid) == (
        "pending",
        1990,
        "JSAPI",
        "o_sandbox_user",
    )
    assert gateway.query("TN2024010112001234").state == "pending"

    page = client.get(sandbox_page("wechat", "TN2024010112001234"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "TN2024010112001234" in html
    assert "¥19.90" in html
    assert "月度会员" in html
    assert 'data-testid="pay"' in html

    done = client.post(sandbox_page("wechat", "TN2024010112001234"), {"action": "pay"})
    assert done.status_code == 302

    assert len(notifications) == 1
    sent = notifications[0]
    assert sent.headers["Content-Type"].startswith("text/xml")
    note = gateway.parse_notification(sent.get_data())
    assert note.verified, note.reason
    assert note.paid
    assert (note.order_no, note.amount_fen) == ("TN2024010112001234", 1990)
    payment = gateway.query("TN2024010112001234")
    assert payment.state == "paid"
    assert payment.transaction_id == note.transaction_id
    assert payment.amount_fen == 1990
    trade.refresh_from_db()
    assert trade.notify_acknowledged
    assert trade.notify_count == 1
    shown = client.get(sandbox_page("wechat", "TN2024010112001234")).content.decode()
    assert "SUCCESS" in shown  # what the notify endpoint answered
    assert 'data-testid="pay"' not in shown


@pytest.mark.parametrize(("device", "key"), [("app", "prepayid"), ("web", "codeUrl")])
def test_wechat_sandbox_app_and_native(device, key):
    gateway = get_gateway("wechat")
    params = gateway.create_payment(
        pay_request("http://127.0.0.1:8000/api/payment/wechat/notify", device=device, openid="")
    )
    assert params[key]
    assert params["sandboxPayUrl"].endswith(sandbox_page("wechat", "TN2024010112001234"))
    if device == "web":
        assert params["codeUrl"] == params["sandboxPayUrl"]  # scanning the QR code opens the sandbox pay page


def test_wechat_sandbox_close_then_pay_is_refused(client):
    gateway = get_gateway("wechat")
    gateway.create_payment(pay_request("http://127.0.0.1:8000/n"))

    gateway.close("TN2024010112001234")
    gateway.close("TN2024010112001234")  # again: already closed is fine

    assert gateway.query("TN2024010112001234").state == "closed"
    client.post(sandbox_page("wechat", "TN2024010112001234"), {"action": "pay"})
    assert SandboxTrade.objects.get(out_trade_no="TN2024010112001234").status == "closed"


def test_wechat_sandbox_close_of_a_paid_trade_says_already_paid(client, httpserver, notifications):
    gateway = get_gateway("wechat")
    gateway.create_payment(pay_request(httpserver.url_for("/notify/wechat")))
    client.post(sandbox_page("wechat", "TN2024010112001234"), {"action": "pay"})

    with pytest.raises(ProviderRejected) as caught:
        gateway.close("TN2024010112001234")
    assert caught.value.code == ProviderError.ALREADY_PAID


def test_wechat_sandbox_refund(client, httpserver, notifications):
    gateway = get_gateway("wechat")
    gateway.create_payment(pay_request(httpserver.url_for("/notify/wechat")))
    with pytest.raises(ProviderRejected):  # not paid yet
        gateway.refund("TN2024010112001234", "RF1", 1990, 1990)
    client.post(sandbox_page("wechat", "TN2024010112001234"), {"action": "pay"})

    refund = gateway.refund("TN2024010112001234", "RF1", 1990, 1990)
    again = gateway.refund("TN2024010112001234", "RF1", 1990, 1990)

    assert refund.amount_fen == 1990
    assert again.refund_id == refund.refund_id
    assert SandboxTrade.objects.get(out_trade_no="TN2024010112001234").refunded_fen == 1990
    assert gateway.query("TN2024010112001234").state == "refunded"


def test_wechat_sandbox_refuses_a_wrong_signature_and_a_reused_order_number():
    k = keys.wechat_keys()
    impostor = WeChatPayGateway(
        app_id=k.app_id,
        mch_id=k.mch_id,
        api_key="x" * 32,
        api_base="http://127.0.0.1:8000/sandbox/wechatpay/",
        timeout=2,
        sandbox=True,
    )
    with pytest.raises(ProviderRejected) as caught:
        impostor.create_payment(pay_request("http://127.0.0.1:8000/n"))
    assert "签名错误" in str(caught.value)
    assert not SandboxTrade.objects.exists()

    gateway = get_gateway("wechat")
    first = gateway.create_payment(pay_request("http://127.0.0.1:8000/n"))
    same = gateway.create_payment(pay_request("http://127.0.0.1:8000/n"))
    assert same["package"] == first["package"]  # same order again: same prepay_id
    with pytest.raises(ProviderRejected) as caught:
        gateway.create_payment(pay_request("http://127.0.0.1:8000/n", amount_fen=1))
    assert caught.value.provider_code == "INVALID_REQUEST"
    assert SandboxTrade.objects.get().amount_fen == 1990


def test_wechat_sandbox_expired_trade_cannot_be_paid(client):
    gateway = get_gateway("wechat")
    gateway.create_payment(pay_request("http://127.0.0.1:8000/n", expire_at=timezone.now() + timedelta(seconds=1)))
    SandboxTrade.objects.update(expire_at=timezone.now() - timedelta(minutes=1))

    page = client.post(sandbox_page("wechat", "TN2024010112001234"), {"action": "pay"}, follow=True)

    assert "过期" in page.content.decode()
    assert SandboxTrade.objects.get().status == "pending"


# --- Alipay end to end --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("device", ["app", "web", "miniprogram"])
def test_alipay_sandbox_from_order_to_verified_notification(client, httpserver, notifications, device):
    gateway = get_gateway("alipay")
    assert gateway.sandbox
    assert gateway.merchant_id == keys.alipay_keys().seller_id

    params = gateway.create_payment(pay_request(httpserver.url_for("/notify/alipay"), device=device))

    assert params["sandboxPayUrl"] == "http://127.0.0.1:8000" + sandbox_page("alipay", "TN2024010112001234")
    if device == "app":
        assert "method=alipay.trade.app.pay" in params["orderString"]
    else:
        assert params["payUrl"].startswith("http://127.0.0.1:8000/sandbox/alipay/gateway.do?")
        opened = client.get(params["payUrl"])  # the browser follows payUrl to the cashier: the pay page
        assert opened.status_code == 302
        assert opened["Location"] == params["sandboxPayUrl"]
    assert gateway.query("TN2024010112001234").state == "pending"

    assert client.post(sandbox_page("alipay", "TN2024010112001234"), {"action": "pay"}).status_code == 302

    assert len(notifications) == 1
    form = dict(parse_qsl(notifications[0].get_data(as_text=True), keep_blank_values=True))
    assert form["trade_status"] == "TRADE_SUCCESS"
    assert form["sign_type"] == "RSA2"
    assert {"notify_id", "notify_time", "gmt_payment", "seller_id", "app_id", "trade_no"} <= form.keys()
    note = gateway.parse_notification(form)
    assert note.verified, note.reason
    assert note.paid
    assert (note.order_no, note.amount_fen) == ("TN2024010112001234", 1990)
    payment = gateway.query("TN2024010112001234")
    assert payment.state == "paid"
    assert payment.transaction_id == note.transaction_id
    assert SandboxTrade.objects.get().notify_acknowledged


def test_alipay_sandbox_close_refund_and_tampered_order(client, httpserver, notifications):
    gateway = get_gateway("alipay")
    gateway.close("TN-never-placed")  # nothing to close: fine
    params = gateway.create_payment(pay_request(httpserver.url_for("/notify/alipay"), device="web"))
    gateway.close("TN2024010112001234")
    assert gateway.query("TN2024010112001234").state == "closed"
    assert client.get(params["payUrl"]).status_code == 400  # a closed trade cannot be opened again

    gateway.create_payment(pay_request(httpserver.url_for("/notify/alipay"), device="app", order_no="TN2"))
    tampered = params["payUrl"].replace("TN2024010112001234", "TN3")
    assert client.get(tampered).status_code == 400  # signature no longer matches
    assert not SandboxTrade.objects.filter(out_trade_no="TN3").exists()

    client.post(sandbox_page("alipay", "TN2"), {"action": "pay"})
    with pytest.raises(ProviderRejected) as caught:
        gateway.close("TN2")
    assert caught.value.code == ProviderError.ALREADY_PAID
    refund = gateway.refund("TN2", "RF1", 1990, 990)
    assert refund.amount_fen == 990
    with pytest.raises(ProviderRejected):
        gateway.refund("TN2", "RF2", 1990, 1990)  # more than what is left
    assert SandboxTrade.objects.get(out_trade_no="TN2").refunded_fen == 990


# --- the in-process transport -------------------------------------------------------------------------------------


def test_notification_to_our_own_endpoint_runs_in_process(client, settings):
    from payments.tests import notify_urls

    settings.ROOT_URLCONF = "payments.tests.notify_urls"
    notify_urls.received.clear()
    for provider in ("wechat", "alipay"):
        gateway = get_gateway(provider)
        gateway.create_payment(pay_request(f"http://127.0.0.1:8000/test-notify/{provider}", device="app"))
        client.post(sandbox_page(provider, "TN2024010112001234"), {"action": "pay"})

    assert [note.verified for note, _, _ in notify_urls.received] == [True, True]
    assert [note.paid for note, _, _ in notify_urls.received] == [True, True]
    assert all(trade.notify_acknowledged for trade in SandboxTrade.objects.all())


def test_a_failing_notify_endpoint_is_recorded_as_not_acknowledged(settings):
    from django.test import Client

    settings.ROOT_URLCONF = "payments.tests.notify_urls"
    get_gateway("wechat").create_payment(pay_request("http://127.0.0.1:8000/test-notify/broken", device="app"))

    Client(raise_request_exception=False).post(sandbox_page("wechat", "TN2024010112001234"), {"action": "pay"})

    trade = SandboxTrade.objects.get()
    assert trade.status == "paid"
    assert trade.last_notify_result.startswith("HTTP 500")
    assert not trade.notify_acknowledged


def test_a_nested_request_keeps_the_outer_transaction_connection_and_language():
    SandboxTrade.objects.create(
        provider="wechat",
        out_trade_no="X1",
        amount_fen=1,
        subject="s",
        trade_type="APP",
        app_id="a",
        merchant_id="m",
        notify_url="http://127.0.0.1:8000/n",
        request_fingerprint="f",
    )
    session = session_for_own_origin()
    with translation.override("en"), transaction.atomic():
        raw_connection = connection.connection
        response = session.get("http://127.0.0.1:8000" + sandbox_page("wechat", "X1"))  # LocaleMiddleware picks zh-hans
        assert response.status_code == 200
        assert "X1" in response.text
        assert translation.get_language() == "en"
        assert connection.connection is raw_connection
        assert connection.in_atomic_block
        assert not connection.needs_rollback
        assert SandboxTrade.objects.count() == 1  # the connection still works


def test_urls_outside_our_origin_still_go_over_the_network(httpserver):
    httpserver.expect_request("/elsewhere").respond_with_data("over the wire")
    assert session_for_own_origin().get(httpserver.url_for("/elsewhere")).text == "over the wire"


# --- where the sandbox exists ---------------------------------------------------------------------------------------


SANDBOX_URLS = [
    ("get", "/sandbox/pay/wechat/TN1"),
    ("get", "/sandbox/pay/alipay/TN1"),
    ("post", "/sandbox/wechatpay/pay/unifiedorder"),
    ("get", "/sandbox/alipay/gateway.do"),
]


def test_unknown_trade_page_is_404(client):
    assert client.get("/sandbox/pay/wechat/nope").status_code == 404


def test_with_real_credentials_the_sandbox_routes_do_not_exist(client, settings, fresh_urls, alipay_pairs):
    (app_private, _), (_, platform_public) = alipay_pairs
    settings.WECHAT_PAY_APP_ID = "wx1234567890abcdef"
    settings.WECHAT_PAY_MCH_ID = "1900000109"
    settings.WECHAT_PAY_API_KEY = "k" * 32
    settings.ALIPAY_APP_ID = "2021000000000009"
    settings.ALIPAY_APP_PRIVATE_KEY = app_private
    settings.ALIPAY_PUBLIC_KEY = platform_public
    fresh_urls()

    for method, url in SANDBOX_URLS:
        assert getattr(client, method)(url).status_code == 404, url
    assert not get_gateway("wechat").sandbox
    assert not get_gateway("alipay").sandbox
    assert get_gateway("alipay").gateway_url == "https://openapi.alipay.com/gateway.do"


def test_one_provider_configured_keeps_the_sandbox_of_the_other(client, settings, fresh_urls):
    settings.WECHAT_PAY_MCH_ID = "1900000109"
    settings.WECHAT_PAY_API_KEY = "k" * 32
    fresh_urls()

    assert client.get("/sandbox/pay/wechat/TN1").status_code == 404
    assert client.post("/sandbox/wechatpay/pay/unifiedorder").status_code == 404
    assert client.get("/sandbox/pay/alipay/TN1").status_code == 404  # route exists, trade does not
    assert sandbox_active("alipay")
    assert client.get("/sandbox/alipay/gateway.do").status_code == 200  # answers Alipay's error_response


def test_sandbox_off_means_no_routes_and_no_provider(client, settings, fresh_urls):
    settings.PAYMENT_SANDBOX = False
    fresh_urls()

    for method, url in SANDBOX_URLS:
        assert getattr(client, method)(url).status_code == 404, url
    with pytest.raises(ProviderUnavailable) as caught:
        get_gateway("wechat")
    assert caught.value.code == ProviderError.NOT_CONFIGURED
    assert not caught.value.retryable


def test_partial_credentials_are_an_error_not_the_sandbox(settings):
    settings.WECHAT_PAY_MCH_ID = "1900000109"  # the API key is missing

    assert not sandbox_active("wechat")
    with pytest.raises(ProviderUnavailable) as caught:
        get_gateway("wechat")
    assert "WECHAT_PAY_API_KEY" in str(caught.value)


def test_sandbox_gateway_answers_garbage_without_crashing(client):
    xxe = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><a>&e;</a></xml>'
    for body in (b"", b"not xml", xxe):
        response = client.post("/sandbox/wechatpay/pay/unifiedorder", data=body, content_type="text/xml")
        assert response.status_code == 200
        assert b"FAIL" in response.content
    answer = client.get("/sandbox/alipay/gateway.do", {"method": "alipay.trade.query", "biz_content": "{"})
    assert json.loads(answer.content)["error_response"]["code"] == "40002"
