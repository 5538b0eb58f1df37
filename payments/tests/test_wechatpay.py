"""The WeChat Pay client (wechatpy) against a fake api.mch.weixin.qq.com on 127.0.0.1."""

import threading
from datetime import UTC, datetime

import pytest
from werkzeug import Response

from payments.providers.base import (
    OpenIdRequired,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
)
from payments.tests.factories import PayRequestFactory
from payments_sandbox import signing

from .conftest import WX_API_KEY, WX_APP_ID, WX_MCH_ID, wechat_answer


def pay_request(device="miniprogram", **overrides):
    return PayRequestFactory(device=device, **overrides)


def test_miniprogram_places_a_jsapi_order_and_returns_signed_jsapi_params(wechat, fake_wechat):
    fake_wechat.on(
        "pay/unifiedorder",
        {"result_code": "SUCCESS", "trade_type": "JSAPI", "prepay_id": "wx201410272009395522657a690389285100"},
    )

    params = wechat.create_payment(pay_request("miniprogram"))

    endpoint, sent = fake_wechat.requests[0]
    assert endpoint == "pay/unifiedorder"
    assert sent["trade_type"] == "JSAPI"
    assert sent["openid"] == "o_user_openid"
    assert sent["total_fee"] == "1990"
    assert sent["out_trade_no"] == "TN2024010112001234"
    assert sent["spbill_create_ip"] == "203.0.113.7"
    assert sent["notify_url"] == "https://tunee.example/api/payment/wechat/notify"
    assert "sign_type" not in sent  # MD5, wechatpy's default
    assert len(sent["time_expire"]) == 14
    assert params["package"] == "prepay_id=wx201410272009395522657a690389285100"
    assert params["signType"] == "MD5"
    assert params["appId"] == WX_APP_ID
    unsigned = {k: v for k, v in params.items() if k != "paySign"}
    assert params["paySign"] == signing.wechat_sign(unsigned, WX_API_KEY)
    assert "sandboxPayUrl" not in params


def test_miniprogram_without_openid_is_refused_before_any_call(wechat, fake_wechat):
    with pytest.raises(OpenIdRequired) as caught:
        wechat.create_payment(pay_request("miniprogram", openid=""))
    assert caught.value.code == ProviderError.OPENID_REQUIRED
    assert not caught.value.retryable
    assert fake_wechat.requests == []


def test_app_places_an_app_order_and_returns_signed_app_params(wechat, fake_wechat):
    fake_wechat.on("pay/unifiedorder", {"result_code": "SUCCESS", "trade_type": "APP", "prepay_id": "wx_app_prepay"})

    params = wechat.create_payment(pay_request("app", openid=""))

    assert fake_wechat.requests[0][1]["trade_type"] == "APP"
    assert params["prepayid"] == "wx_app_prepay"
    assert params["partnerid"] == WX_MCH_ID
    assert params["package"] == "Sign=WXPay"
    unsigned = {k: v for k, v in params.items() if k != "sign"}
    assert params["sign"] == signing.wechat_sign(unsigned, WX_API_KEY)


def test_web_places_a_native_order_and_returns_the_code_url(wechat, fake_wechat):
    fake_wechat.on(
        "pay/unifiedorder",
        {
            "result_code": "SUCCESS",
            "trade_type": "NATIVE",
            "prepay_id": "wx1",
            "code_url": "weixin://wxpay/bizpayurl?pr=abc",
        },
    )

    params = wechat.create_payment(pay_request("web", openid=""))

    sent = fake_wechat.requests[0][1]
    assert sent["trade_type"] == "NATIVE"
    assert sent["product_id"] == "TN2024010112001234"
    assert params == {"codeUrl": "weixin://wxpay/bizpayurl?pr=abc"}


def test_a_business_refusal_is_rejected_with_the_provider_code(wechat, fake_wechat):
    fake_wechat.on("pay/unifiedorder", {"result_code": "FAIL", "err_code": "ORDERPAID", "err_code_des": "该订单已支付"})

    with pytest.raises(ProviderRejected) as caught:
        wechat.create_payment(pay_request("app"))

    assert caught.value.code == ProviderError.ALREADY_PAID
    assert caught.value.provider_code == "ORDERPAID"
    assert not caught.value.retryable


def test_a_system_error_is_retryable(wechat, fake_wechat):
    fake_wechat.on("pay/unifiedorder", {"result_code": "FAIL", "err_code": "SYSTEMERROR", "err_code_des": "系统错误"})

    with pytest.raises(ProviderUnavailable) as caught:
        wechat.create_payment(pay_request("app"))

    assert caught.value.retryable


def test_a_communication_failure_is_rejected(wechat, fake_wechat):
    fake_wechat.on("pay/unifiedorder", raw=signing.wechat_xml({"return_code": "FAIL", "return_msg": "appid不存在"}))

    with pytest.raises(ProviderRejected) as caught:
        wechat.create_payment(pay_request("app"))

    assert "appid不存在" in str(caught.value)


def test_http_5xx_is_unavailable_and_retryable(wechat, fake_wechat):
    fake_wechat.on("pay/unifiedorder", raw="<html>bad gateway</html>", status=502)

    with pytest.raises(ProviderUnavailable) as caught:
        wechat.create_payment(pay_request("app"))

    assert caught.value.code == ProviderError.TRANSPORT
    assert caught.value.retryable


def test_a_connection_refused_is_unavailable_and_retryable():
    from payments.providers.wechatpay import WeChatPayGateway

    closed = WeChatPayGateway(
        app_id=WX_APP_ID, mch_id=WX_MCH_ID, api_key=WX_API_KEY, api_base="http://127.0.0.1:9/", timeout=2
    )
    with pytest.raises(ProviderUnavailable) as caught:
        closed.query("TN1")
    assert caught.value.retryable


def test_a_timeout_is_unavailable_and_retryable(httpserver):
    from payments.providers.wechatpay import WeChatPayGateway

    release = threading.Event()

    def slow(request):
        release.wait(5)
        return Response(wechat_answer({"result_code": "SUCCESS"}))

    httpserver.expect_request("/pay/orderquery").respond_with_handler(slow)
    gateway = WeChatPayGateway(
        app_id=WX_APP_ID, mch_id=WX_MCH_ID, api_key=WX_API_KEY, api_base=httpserver.url_for("/"), timeout=0.2
    )
    try:
        with pytest.raises(ProviderUnavailable) as caught:
            gateway.query("TN1")
    finally:
        release.set()
    assert caught.value.code == ProviderError.TRANSPORT
    assert caught.value.retryable


def test_an_answer_signed_with_another_key_is_not_trusted(wechat, fake_wechat):
    fake_wechat.on(
        "pay/orderquery",
        {
            "result_code": "SUCCESS",
            "trade_state": "SUCCESS",
            "out_trade_no": "TN1",
            "total_fee": "1990",
            "transaction_id": "42",
        },
        api_key="0" * 32,
    )

    with pytest.raises(ProviderUnavailable) as caught:
        wechat.query("TN1")

    assert caught.value.code == ProviderError.BAD_SIGNATURE
    assert not caught.value.retryable


def test_an_answer_with_a_dtd_is_unreadable_not_a_crash(wechat, fake_wechat):
    xxe = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><return_code>&e;</return_code></xml>'
    fake_wechat.on("pay/orderquery", raw=xxe)

    with pytest.raises(ProviderUnavailable) as caught:
        wechat.query("TN1")

    assert caught.value.code == ProviderError.BAD_RESPONSE


def test_query_reports_a_paid_order(wechat, fake_wechat):
    fake_wechat.on(
        "pay/orderquery",
        {
            "result_code": "SUCCESS",
            "trade_state": "SUCCESS",
            "out_trade_no": "TN1",
            "total_fee": "1990",
            "transaction_id": "4200001234202401011234567890",
            "time_end": "20240101120500",
        },
    )

    payment = wechat.query("TN1")

    assert fake_wechat.requests[0][1]["out_trade_no"] == "TN1"
    assert payment.state == "paid"
    assert payment.paid
    assert payment.amount_fen == 1990
    assert payment.transaction_id == "4200001234202401011234567890"
    assert payment.paid_at == datetime(2024, 1, 1, 4, 5, tzinfo=UTC)
    assert (payment.app_id, payment.merchant_id) == (WX_APP_ID, WX_MCH_ID)


@pytest.mark.parametrize(
    ("trade_state", "state"),
    [("NOTPAY", "pending"), ("USERPAYING", "pending"), ("CLOSED", "closed"), ("REFUND", "refunded")],
)
def test_query_reports_unpaid_states(wechat, fake_wechat, trade_state, state):
    fake_wechat.on(
        "pay/orderquery",
        {"result_code": "SUCCESS", "trade_state": trade_state, "out_trade_no": "TN1", "total_fee": "1990"},
    )

    payment = wechat.query("TN1")

    assert payment.state == state
    assert not payment.paid


def test_query_of_an_unknown_order_says_not_found(wechat, fake_wechat):
    fake_wechat.on(
        "pay/orderquery", {"result_code": "FAIL", "err_code": "ORDERNOTEXIST", "err_code_des": "此交易订单号不存在"}
    )

    assert wechat.query("TN1").state == "not_found"


def test_close_succeeds_and_treats_an_already_closed_order_as_closed(wechat, fake_wechat):
    fake_wechat.on("pay/closeorder", {"result_code": "SUCCESS"})
    wechat.close("TN1")
    assert fake_wechat.requests[-1][0] == "pay/closeorder"
    assert fake_wechat.requests[-1][1]["out_trade_no"] == "TN1"


def test_close_of_a_paid_order_is_rejected_as_already_paid(wechat, fake_wechat):
    fake_wechat.on("pay/closeorder", {"result_code": "FAIL", "err_code": "ORDERPAID", "err_code_des": "订单已支付"})

    with pytest.raises(ProviderRejected) as caught:
        wechat.close("TN1")

    assert caught.value.code == ProviderError.ALREADY_PAID


@pytest.mark.parametrize("err_code", ["ORDERCLOSED", "ORDERNOTEXIST"])
def test_close_of_a_closed_or_unknown_order_is_done(wechat, fake_wechat, err_code):
    fake_wechat.on("pay/closeorder", {"result_code": "FAIL", "err_code": err_code, "err_code_des": "订单已关闭"})

    assert wechat.close("TN1") is None  # done: no ProviderRejected

    assert [(path, sent["out_trade_no"]) for path, sent in fake_wechat.requests] == [("pay/closeorder", "TN1")]


def test_close_refused_for_another_reason_is_raised(wechat, fake_wechat):
    fake_wechat.on("pay/closeorder", {"result_code": "FAIL", "err_code": "SYSTEMERROR", "err_code_des": "系统错误"})

    with pytest.raises(ProviderError):
        wechat.close("TN1")


def test_refund_without_merchant_certificate_is_refused_before_any_call(wechat, fake_wechat):
    with pytest.raises(ProviderRejected) as caught:
        wechat.refund("TN1", "RF1", 1990, 1990)
    assert caught.value.code == ProviderError.NOT_CONFIGURED
    assert fake_wechat.requests == []


def test_refund_is_applied_with_the_merchant_certificate(httpserver, fake_wechat, tmp_path):
    from payments.providers.wechatpay import WeChatPayGateway

    cert, key = tmp_path / "apiclient_cert.pem", tmp_path / "apiclient_key.pem"
    cert.write_text("cert")
    key.write_text("key")
    gateway = WeChatPayGateway(
        app_id=WX_APP_ID,
        mch_id=WX_MCH_ID,
        api_key=WX_API_KEY,
        api_base=httpserver.url_for("/"),
        timeout=2,
        cert_path=str(cert),
        key_path=str(key),
    )
    fake_wechat.on(
        "secapi/pay/refund",
        lambda p: {
            "result_code": "SUCCESS",
            "out_refund_no": p["out_refund_no"],
            "refund_id": "503000",
            "refund_fee": p["refund_fee"],
        },
    )

    refund = gateway.refund("TN1", "RF1", 1990, 990)

    sent = fake_wechat.requests[0][1]
    assert (sent["out_trade_no"], sent["out_refund_no"], sent["total_fee"], sent["refund_fee"]) == (
        "TN1",
        "RF1",
        "1990",
        "990",
    )
    assert (refund.refund_no, refund.refund_id, refund.amount_fen) == ("RF1", "503000", 990)


# --- notifications --------------------------------------------------------------------------------------------------


def notification_xml(api_key=WX_API_KEY, sign=True, **overrides) -> bytes:
    fields = {
        "appid": WX_APP_ID,
        "bank_type": "CFT",
        "cash_fee": "1990",
        "fee_type": "CNY",
        "is_subscribe": "N",
        "mch_id": WX_MCH_ID,
        "nonce_str": "5d2b6c2a8db53831f7eda20af46e531c",
        "openid": "o_user_openid",
        "out_trade_no": "TN2024010112001234",
        "result_code": "SUCCESS",
        "return_code": "SUCCESS",
        "time_end": "20240101120500",
        "total_fee": "1990",
        "trade_type": "JSAPI",
        "transaction_id": "4200001234202401011234567890",
    }
    fields.update(overrides)
    if sign:
        fields["sign"] = signing.wechat_sign(fields, api_key)
    return signing.wechat_xml(fields).encode()


def test_a_genuine_notification_is_verified_and_paid(wechat):
    note = wechat.parse_notification(notification_xml())

    assert note.verified, note.reason
    assert note.paid
    assert note.order_no == "TN2024010112001234"
    assert note.amount_fen == 1990
    assert note.transaction_id == "4200001234202401011234567890"
    assert (note.app_id, note.merchant_id) == (WX_APP_ID, WX_MCH_ID)
    assert note.paid_at == datetime(2024, 1, 1, 4, 5, tzinfo=UTC)
    assert note.raw["out_trade_no"] == "TN2024010112001234"


def test_a_tampered_amount_is_not_verified(wechat):
    body = notification_xml().replace(b"<total_fee><![CDATA[1990]]>", b"<total_fee><![CDATA[1]]>")
    assert b"CDATA[1]]" in body

    note = wechat.parse_notification(body)

    assert not note.verified
    assert "signature" in note.reason
    assert not note.paid


def test_a_notification_signed_with_another_key_is_not_verified(wechat):
    note = wechat.parse_notification(notification_xml(api_key="f" * 32))
    assert not note.verified
    assert "signature" in note.reason


def test_an_unsigned_notification_is_not_verified(wechat):
    assert not wechat.parse_notification(notification_xml(sign=False)).verified


def test_a_notification_for_another_merchant_or_app_is_not_verified(wechat):
    other_merchant = wechat.parse_notification(notification_xml(mch_id="19999999"))
    other_app = wechat.parse_notification(notification_xml(appid="wx0000000000000000"))
    assert not other_merchant.verified
    assert "mch_id" in other_merchant.reason
    assert not other_app.verified
    assert "appid" in other_app.reason


def test_a_failed_payment_notification_is_verified_but_not_paid(wechat):
    note = wechat.parse_notification(notification_xml(result_code="FAIL", err_code="NOTENOUGH"))
    assert note.verified
    assert not note.paid


def test_an_hmac_signed_notification_is_refused_with_a_reason(wechat):
    fields = {"sign_type": "HMAC-SHA256"}
    note = wechat.parse_notification(notification_xml(**fields))
    assert not note.verified
    assert "sign_type" in note.reason


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><return_code>SUCCESS</return_code><out_trade_no>&xxe;</out_trade_no></xml>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<xml><return_code>&lol4;</return_code></xml>"""


@pytest.mark.parametrize(
    "body",
    [
        XXE,
        BILLION_LAUGHS,
        b"",
        b"not xml",
        b"<xml><a>",
        b"<other/>",
        b"<xml><return_code><x>1</x></return_code></xml>",
        "\u00ff".encode("latin-1"),
    ],
    ids=["xxe", "billion-laughs", "empty", "text", "truncated", "other-root", "nested", "bad-encoding"],
)
def test_hostile_or_malformed_bodies_are_not_verified_and_do_not_raise(wechat, body):
    note = wechat.parse_notification(body)
    assert not note.verified
    assert note.reason
    assert not note.paid


def test_reply_is_wechats_xml():
    from payments.providers.wechatpay import WeChatPayGateway

    gateway = WeChatPayGateway(app_id="a", mch_id="m", api_key="k", api_base="http://127.0.0.1:9/", timeout=1)
    body, content_type = gateway.reply(True)
    assert (
        body.replace(b"\n", b"")
        == b"<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>"
    )
    assert content_type.startswith("text/xml")
    assert b"FAIL" in gateway.reply(False)[0]
