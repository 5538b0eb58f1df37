"""The Alipay client (python-alipay-sdk) against a fake openapi.alipay.com gateway on 127.0.0.1."""

import json
import threading
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

import pytest
from werkzeug import Response

from payments.providers.alipay import AlipayGateway, pem
from payments.providers.base import ProviderError, ProviderRejected, ProviderUnavailable
from payments.tests.factories import PayRequestFactory
from payments_sandbox import signing

from .conftest import ALI_APP_ID, ALI_SELLER_ID


def pay_request(device="app", **overrides):
    return PayRequestFactory(
        device=device,
        notify_url="https://tunee.example/api/payment/alipay/notify",
        expire_at=datetime(2024, 1, 1, 4, 30, tzinfo=UTC),
        **overrides,
    )


def signed_params(query: str, app_public: str) -> dict:
    params = dict(parse_qsl(query, keep_blank_values=True))
    sign = params.pop("sign")
    assert signing.rsa2_verify(app_public, signing.alipay_sign_content(params, ("sign",)), sign)
    return params


def test_app_returns_a_signed_order_string_with_the_amount_in_yuan(alipay, fake_alipay):
    params = alipay.create_payment(pay_request("app"))

    order = signed_params(params["orderString"], fake_alipay.app_public)
    biz = json.loads(order["biz_content"])
    assert order["method"] == "alipay.trade.app.pay"
    assert order["app_id"] == ALI_APP_ID
    assert order["sign_type"] == "RSA2"
    assert order["notify_url"] == "https://tunee.example/api/payment/alipay/notify"
    assert biz["total_amount"] == "19.90"
    assert biz["out_trade_no"] == "TN2024010112001234"
    assert biz["subject"] == "月度会员"
    assert biz["time_expire"] == "2024-01-01 12:30:00"  # Beijing time
    assert fake_alipay.requests == []  # an order string needs no call


@pytest.mark.parametrize(
    ("device", "method"), [("web", "alipay.trade.page.pay"), ("miniprogram", "alipay.trade.wap.pay")]
)
def test_web_and_mobile_get_a_gateway_url(alipay, fake_alipay, httpserver, device, method):
    params = alipay.create_payment(pay_request(device, return_url="https://tunee.example/paid"))

    url = urlsplit(params["payUrl"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == httpserver.url_for("/gateway.do")
    order = signed_params(url.query, fake_alipay.app_public)
    assert order["method"] == method
    assert order["return_url"] == "https://tunee.example/paid"
    assert json.loads(order["biz_content"])["total_amount"] == "19.90"


def test_query_reports_a_paid_trade(alipay, fake_alipay):
    fake_alipay.on(
        "alipay.trade.query",
        lambda biz: {
            "code": "10000",
            "msg": "Success",
            "trade_no": "2024010122001400001234567890",
            "out_trade_no": biz["out_trade_no"],
            "trade_status": "TRADE_SUCCESS",
            "total_amount": "19.90",
            "send_pay_date": "2024-01-01 12:05:00",
        },
    )

    payment = alipay.query("TN1")

    assert json.loads(fake_alipay.requests[0]["biz_content"]) == {"out_trade_no": "TN1"}
    assert payment.state == "paid"
    assert payment.amount_fen == 1990
    assert payment.transaction_id == "2024010122001400001234567890"
    assert payment.paid_at == datetime(2024, 1, 1, 4, 5, tzinfo=UTC)
    assert payment.app_id == ALI_APP_ID


@pytest.mark.parametrize(
    ("status", "state"), [("WAIT_BUYER_PAY", "pending"), ("TRADE_CLOSED", "closed"), ("TRADE_FINISHED", "paid")]
)
def test_query_maps_trade_statuses(alipay, fake_alipay, status, state):
    fake_alipay.on(
        "alipay.trade.query",
        {
            "code": "10000",
            "msg": "Success",
            "trade_no": "1",
            "out_trade_no": "TN1",
            "trade_status": status,
            "total_amount": "19.90",
        },
    )
    assert alipay.query("TN1").state == state


def test_query_of_an_unknown_trade_says_not_found(alipay, fake_alipay):
    fake_alipay.on(
        "alipay.trade.query",
        {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_NOT_EXIST", "sub_msg": "交易不存在"},
    )
    assert alipay.query("TN1").state == "not_found"


def test_an_answer_signed_with_another_key_is_not_trusted(alipay, fake_alipay):
    other_private = fake_alipay.app_private  # not the platform key the client trusts
    fake_alipay.on(
        "alipay.trade.query",
        {"code": "10000", "trade_status": "TRADE_SUCCESS", "total_amount": "19.90"},
        sign_with=other_private,
    )

    with pytest.raises(ProviderUnavailable) as caught:
        alipay.query("TN1")

    assert caught.value.code == ProviderError.BAD_SIGNATURE
    assert not caught.value.retryable


def test_an_unsigned_error_response_is_rejected(alipay, fake_alipay):
    fake_alipay.on(
        "alipay.trade.query",
        raw='{"error_response":{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-app-id"}}',
    )

    with pytest.raises(ProviderRejected):
        alipay.query("TN1")


def test_a_request_signed_with_the_wrong_key_is_refused_by_the_gateway(alipay_pairs, httpserver, fake_alipay):
    (_, _), (platform_private, platform_public) = alipay_pairs
    wrong = AlipayGateway(
        app_id=ALI_APP_ID,
        app_private_key=platform_private,
        alipay_public_key=platform_public,
        gateway=httpserver.url_for("/gateway.do"),
        timeout=2,
    )
    with pytest.raises(ProviderRejected) as caught:
        wrong.query("TN1")
    assert "isv.invalid-signature" in str(caught.value)


def test_a_system_error_is_retryable_and_a_business_error_is_not(alipay, fake_alipay):
    fake_alipay.on(
        "alipay.trade.query", {"code": "20000", "msg": "Service Currently Unavailable", "sub_code": "isp.unknow-error"}
    )
    with pytest.raises(ProviderUnavailable) as caught:
        alipay.query("TN1")
    assert caught.value.retryable

    fake_alipay.on(
        "alipay.trade.refund",
        {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_STATUS_ERROR", "sub_msg": "交易状态不合法"},
    )
    with pytest.raises(ProviderRejected) as caught:
        alipay.refund("TN1", "RF1", 1990, 1990)
    assert caught.value.provider_code == "ACQ.TRADE_STATUS_ERROR"
    assert not caught.value.retryable


def test_http_5xx_and_garbage_are_unavailable(alipay, fake_alipay):
    fake_alipay.on("alipay.trade.query", raw="<html>502</html>", status=502)
    with pytest.raises(ProviderUnavailable) as caught:
        alipay.query("TN1")
    assert caught.value.retryable

    fake_alipay.on("alipay.trade.query", raw="<html>not json</html>")
    with pytest.raises(ProviderUnavailable) as caught:
        alipay.query("TN1")
    assert caught.value.code == ProviderError.BAD_RESPONSE


def test_a_timeout_is_unavailable_and_retryable(httpserver, alipay_pairs):
    (app_private, _), (_, platform_public) = alipay_pairs
    release = threading.Event()

    def slow(request):
        release.wait(5)
        return Response("{}")

    httpserver.expect_request("/slow.do").respond_with_handler(slow)
    gateway = AlipayGateway(
        app_id=ALI_APP_ID,
        app_private_key=app_private,
        alipay_public_key=platform_public,
        gateway=httpserver.url_for("/slow.do"),
        timeout=0.2,
    )
    try:
        with pytest.raises(ProviderUnavailable) as caught:
            gateway.query("TN1")
    finally:
        release.set()
    assert caught.value.code == ProviderError.TRANSPORT
    assert caught.value.retryable


def test_close_closes_and_treats_a_trade_never_opened_as_closed(alipay, fake_alipay):
    fake_alipay.on("alipay.trade.close", {"code": "10000", "msg": "Success", "out_trade_no": "TN1"})
    alipay.close("TN1")
    assert fake_alipay.requests[-1]["method"] == "alipay.trade.close"

    fake_alipay.on("alipay.trade.close", {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_NOT_EXIST"})
    alipay.close("TN1")


def test_close_of_a_paid_trade_is_rejected_as_already_paid(alipay, fake_alipay):
    fake_alipay.on(
        "alipay.trade.close", {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_STATUS_ERROR"}
    )
    fake_alipay.on(
        "alipay.trade.query",
        {
            "code": "10000",
            "msg": "Success",
            "trade_no": "1",
            "out_trade_no": "TN1",
            "trade_status": "TRADE_SUCCESS",
            "total_amount": "19.90",
        },
    )

    with pytest.raises(ProviderRejected) as caught:
        alipay.close("TN1")

    assert caught.value.code == ProviderError.ALREADY_PAID


def test_refund_sends_yuan_and_the_refund_number(alipay, fake_alipay):
    fake_alipay.on(
        "alipay.trade.refund",
        lambda biz: {
            "code": "10000",
            "msg": "Success",
            "trade_no": "2024",
            "out_trade_no": biz["out_trade_no"],
            "refund_fee": biz["refund_amount"],
            "fund_change": "Y",
        },
    )

    refund = alipay.refund("TN1", "RF1", 1990, 990)

    biz = json.loads(fake_alipay.requests[0]["biz_content"])
    assert biz == {"refund_amount": "9.90", "out_trade_no": "TN1", "out_request_no": "RF1"}
    assert (refund.refund_no, refund.refund_id, refund.amount_fen) == ("RF1", "2024", 990)


# --- notifications --------------------------------------------------------------------------------------------------


def test_a_genuine_notification_is_verified_and_paid(alipay, fake_alipay):
    note = alipay.parse_notification(fake_alipay.notification())

    assert note.verified, note.reason
    assert note.paid
    assert note.order_no == "TN2024010112001234"
    assert note.amount_fen == 1990
    assert note.transaction_id == "2024010122001400001234567890"
    assert (note.app_id, note.merchant_id) == (ALI_APP_ID, ALI_SELLER_ID)
    assert note.paid_at == datetime(2024, 1, 1, 4, 5, tzinfo=UTC)
    assert note.raw["sign_type"] == "RSA2"


def test_trade_finished_counts_as_paid_and_other_statuses_do_not(alipay, fake_alipay):
    assert alipay.parse_notification(fake_alipay.notification(trade_status="TRADE_FINISHED")).paid
    closed = alipay.parse_notification(fake_alipay.notification(trade_status="TRADE_CLOSED"))
    assert closed.verified
    assert not closed.paid


def test_a_tampered_amount_is_not_verified(alipay, fake_alipay):
    form = {**fake_alipay.notification(), "total_amount": "0.01"}
    note = alipay.parse_notification(form)
    assert not note.verified
    assert "signature" in note.reason


@pytest.mark.parametrize(
    "change",
    [
        {"sign": "AAAA"},
        {"sign": "not base64 at all!"},
        {"sign": ""},
        {"sign_type": "RSA"},
        {"extra_field": "added after signing"},
    ],
)
def test_a_tampered_signature_is_not_verified(alipay, fake_alipay, change):
    note = alipay.parse_notification({**fake_alipay.notification(), **change})
    assert not note.verified
    assert note.reason


def test_a_notification_signed_with_another_key_is_not_verified(alipay, fake_alipay):
    form = fake_alipay.notification()
    content = signing.alipay_sign_content(form, ("sign", "sign_type"))
    form["sign"] = signing.rsa2_sign(fake_alipay.app_private, content)
    assert not alipay.parse_notification(form).verified


def test_a_notification_for_another_app_or_seller_is_not_verified(alipay, fake_alipay):
    other_app = alipay.parse_notification(fake_alipay.notification(app_id="2021999999999999"))
    other_seller = alipay.parse_notification(fake_alipay.notification(seller_id="2088999999999999"))
    assert not other_app.verified
    assert "app_id" in other_app.reason
    assert not other_seller.verified
    assert "seller_id" in other_seller.reason


def test_an_empty_field_does_not_break_verification(alipay, fake_alipay):
    """Alipay leaves empty fields out of what it signs."""
    form = {**fake_alipay.notification(), "body": ""}
    assert alipay.parse_notification(form).verified


def test_garbage_forms_do_not_raise(alipay):
    for form in ({}, {"sign": "x"}, {"a": "b"}):
        note = alipay.parse_notification(form)
        assert not note.verified
        assert note.reason


def test_reply_is_plain_success():
    gateway = AlipayGateway.__new__(AlipayGateway)
    assert gateway.reply(True) == (b"success", "text/plain; charset=utf-8")
    assert gateway.reply(False)[0] == b"failure"


def test_keys_from_the_environment_load_from_bare_base64_and_escaped_newlines(alipay_pairs, httpserver):
    (app_private, _), (_, platform_public) = alipay_pairs
    bare = "".join(line for line in platform_public.splitlines() if not line.startswith("-----"))
    escaped = app_private.replace("\n", "\\n")
    assert pem(bare, "public").startswith("-----BEGIN PUBLIC KEY-----\n")
    AlipayGateway(
        app_id=ALI_APP_ID,
        app_private_key=escaped,
        alipay_public_key=bare,
        gateway=httpserver.url_for("/gateway.do"),
        timeout=1,
    )


LOGGING_PROBE = """
import logging, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tunee.settings")
import django
django.setup()
root = logging.getLogger()
before = list(root.handlers)
named_before = dict(logging._handlers)
if sys.argv[1] == "guarded":
    from payments.providers.alipay import _alipay
    _alipay()
else:
    import alipay
print(before == root.handlers and bool(before), dict(logging._handlers) == named_before,
      logging.getLogger("python-alipay-sdk").handlers == [])
"""


def test_importing_the_sdk_through_the_guard_leaves_django_logging_alone():
    """alipay/loggers.py calls logging.config.dictConfig on import, which shuts down the handlers configured
    before it and adds a DEBUG console handler of its own; `_alipay()` imports it with that turned off."""
    import subprocess
    import sys

    from django.conf import settings

    def probe(mode):
        result = subprocess.run(
            [sys.executable, "-c", LOGGING_PROBE, mode],
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.split()

    assert probe("guarded") == ["True", "True", "True"]
    assert probe("plain") != ["True", "True", "True"]  # what the guard prevents
