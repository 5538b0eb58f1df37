"""The notify endpoints: genuine, duplicate, forged, tampered, hostile and malformed notifications."""

import pytest

from membership.selectors import membership_state, points_balance
from payments.models import Order, OrderEvent, OrderGrant, PaymentNotification
from payments.tests.helpers import (
    alipay_notification,
    pay_in_sandbox,
    place_membership_order,
    place_points_order,
    wechat_notification,
)
from payments_sandbox.models import SandboxTrade

pytestmark = pytest.mark.django_db

WECHAT_OK = b"<return_code><![CDATA[SUCCESS]]></return_code>"
WECHAT_FAIL = b"<return_code><![CDATA[FAIL]]></return_code>"


def post_wechat(client, body: bytes, content_type="text/xml"):
    return client.post("/api/payment/wechat/notify", data=body, content_type=content_type)


def post_alipay(client, fields: dict):
    return client.post("/api/payment/alipay/notify", data=fields)


def assert_wechat_reply(response, ok: bool):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert (WECHAT_OK if ok else WECHAT_FAIL) in response.content


def assert_alipay_reply(response, ok: bool):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content == (b"success" if ok else b"failure")


def assert_unchanged(order: Order):
    order.refresh_from_db()
    assert order.status == "pending"
    assert order.transaction_id == ""
    assert not OrderGrant.objects.exists()
    assert not order.events.filter(kind__in=["paid", "paid_after_close"]).exists()


@pytest.fixture
def wechat_order(auth_api):
    data = place_membership_order(auth_api, "monthly", "wechat", "app")
    return Order.objects.get(order_no=data["orderNo"])


@pytest.fixture
def alipay_order(auth_api):
    data = place_points_order(auth_api, method="alipay", device="web")
    return Order.objects.get(order_no=data["orderNo"])


# --- genuine --------------------------------------------------------------------------------------------------------


def test_sandbox_wechat_payment_settles_the_order_through_the_notify_endpoint(auth_api, client):
    data = place_membership_order(auth_api, "monthly", "wechat", "app")

    pay_in_sandbox(client, data)

    order = Order.objects.get(order_no=data["orderNo"])
    assert order.status == "paid"
    assert order.transaction_id.startswith("42000")
    assert order.paid_after_close is False
    assert order.grant.days == 30
    state = membership_state(user=auth_api.user)
    assert (state.level, state.is_valid) == ("monthly", True)
    note = PaymentNotification.objects.get()
    assert (note.provider, note.verified, note.outcome, note.order) == ("wechat", True, "settled", order)
    assert note.processed_at is not None
    assert "<xml>" in note.body
    assert note.headers["CONTENT_TYPE"].startswith("text/xml")
    trade = SandboxTrade.objects.get(out_trade_no=data["orderNo"])
    assert trade.notify_acknowledged is True


def test_sandbox_alipay_payment_credits_the_points_once(auth_api, client):
    data = place_points_order(auth_api, method="alipay", device="web")

    pay_in_sandbox(client, data)
    path = data["payParams"]["sandboxPayUrl"].split("8000", 1)[1]
    client.post(path, {"action": "notify"})  # the sandbox sends the notification again

    assert points_balance(user=auth_api.user) == 60
    order = Order.objects.get(order_no=data["orderNo"])
    assert order.status == "paid"
    assert order.grant.points_entry.reason == "purchase"
    assert order.grant.points_entry.reference == f"order:{order.order_no}"
    assert list(PaymentNotification.objects.order_by("id").values_list("outcome", flat=True)) == [
        "settled",
        "duplicate",
    ]
    assert SandboxTrade.objects.get(out_trade_no=data["orderNo"]).notify_acknowledged is True


def test_crafted_genuine_wechat_notification_and_its_duplicate(client, wechat_order):
    body = wechat_notification(wechat_order)

    first = post_wechat(client, body)
    second = post_wechat(client, body)

    assert_wechat_reply(first, ok=True)
    assert_wechat_reply(second, ok=True)
    wechat_order.refresh_from_db()
    assert wechat_order.status == "paid"
    assert wechat_order.transaction_id == "4200000000202401011234567890"
    assert OrderGrant.objects.count() == 1
    assert wechat_order.events.filter(kind="paid").count() == 1
    assert list(PaymentNotification.objects.order_by("id").values_list("outcome", flat=True)) == [
        "settled",
        "duplicate",
    ]


def test_crafted_genuine_alipay_notification(client, alipay_order):
    response = post_alipay(client, alipay_notification(alipay_order))

    assert_alipay_reply(response, ok=True)
    alipay_order.refresh_from_db()
    assert alipay_order.status == "paid"
    assert points_balance(user=alipay_order.user) == 60


def test_a_payment_that_is_not_a_success_is_acknowledged_and_changes_nothing(client, wechat_order, alipay_order):
    assert_wechat_reply(
        post_wechat(client, wechat_notification(wechat_order, result_code="FAIL", err_code="NOTENOUGH")), ok=True
    )
    assert_alipay_reply(post_alipay(client, alipay_notification(alipay_order, trade_status="WAIT_BUYER_PAY")), ok=True)

    assert_unchanged(wechat_order)
    alipay_order.refresh_from_db()
    assert alipay_order.status == "pending"
    assert list(PaymentNotification.objects.values_list("outcome", "verified")) == [
        ("not_paid", True),
        ("not_paid", True),
    ]


def test_a_late_payment_for_a_closed_order_is_settled_and_flagged(client, wechat_order):
    from payments.services import order_close

    order_close(order=wechat_order, reason="cancelled", source="test")

    assert_wechat_reply(post_wechat(client, wechat_notification(wechat_order)), ok=True)

    wechat_order.refresh_from_db()
    assert wechat_order.status == "paid"
    assert wechat_order.paid_after_close is True
    assert wechat_order.closed_at is not None
    assert wechat_order.grant.days == 30
    assert wechat_order.events.filter(kind="paid_after_close").count() == 1
    assert PaymentNotification.objects.get().outcome == "settled_late"


# --- refused: state unchanged, the raw record kept ---------------------------------------------------------------


def test_tampered_amount_is_refused(client, wechat_order):
    tampered = b"<total_fee><![CDATA[1]]></total_fee>"
    body = wechat_notification(wechat_order).replace(b"<total_fee><![CDATA[1990]]></total_fee>", tampered)
    assert tampered in body

    assert_wechat_reply(post_wechat(client, body), ok=False)

    assert_unchanged(wechat_order)
    note = PaymentNotification.objects.get()
    assert (note.verified, note.outcome) == (False, "refused")
    assert "signature" in note.reason
    assert tampered.decode() in note.body


def test_correctly_signed_but_wrong_amount_is_refused_by_settlement(client, wechat_order):
    response = post_wechat(client, wechat_notification(wechat_order, total_fee="1", cash_fee="1"))

    assert_wechat_reply(response, ok=False)
    assert_unchanged(wechat_order)
    note = PaymentNotification.objects.get()
    assert (note.verified, note.outcome, note.order) == (True, "refused", wechat_order)
    assert "amount" in note.reason
    assert wechat_order.events.filter(kind="settle_refused").count() == 1


def test_tampered_alipay_amount_is_refused(client, alipay_order):
    fields = alipay_notification(alipay_order)
    fields["total_amount"] = "0.01"

    assert_alipay_reply(post_alipay(client, fields), ok=False)

    alipay_order.refresh_from_db()
    assert alipay_order.status == "pending"
    assert points_balance(user=alipay_order.user) == 0
    assert PaymentNotification.objects.get().outcome == "refused"


def test_wrong_wechat_key_is_refused(client, wechat_order):
    body = wechat_notification(wechat_order, api_key="0" * 32)

    assert_wechat_reply(post_wechat(client, body), ok=False)
    assert_unchanged(wechat_order)
    assert "signature" in PaymentNotification.objects.get().reason


def test_wrong_alipay_key_is_refused(client, alipay_order, alipay_pairs):
    (other_private, _), _ = alipay_pairs  # a valid RSA key, not the sandbox platform's

    assert_alipay_reply(post_alipay(client, alipay_notification(alipay_order, private_key=other_private)), ok=False)
    alipay_order.refresh_from_db()
    assert alipay_order.status == "pending"
    assert PaymentNotification.objects.get().verified is False


@pytest.mark.parametrize(("field", "value"), [("mch_id", "1999999999"), ("appid", "wx0000000000000000")])
def test_wechat_notification_for_another_merchant_or_app_is_refused(client, wechat_order, field, value):
    assert_wechat_reply(post_wechat(client, wechat_notification(wechat_order, **{field: value})), ok=False)

    assert_unchanged(wechat_order)
    note = PaymentNotification.objects.get()
    assert note.verified is False
    assert value in note.reason


@pytest.mark.parametrize(("field", "value"), [("seller_id", "2088999999999999"), ("app_id", "2021999999999999")])
def test_alipay_notification_for_another_seller_or_app_is_refused(client, alipay_order, field, value):
    assert_alipay_reply(post_alipay(client, alipay_notification(alipay_order, **{field: value})), ok=False)

    alipay_order.refresh_from_db()
    assert alipay_order.status == "pending"
    assert value in PaymentNotification.objects.get().reason


def test_notification_for_an_unknown_order_is_refused(client, wechat_order):
    wechat_order.order_no = "TN2000010100000000"  # a number nobody ordered

    assert_wechat_reply(post_wechat(client, wechat_notification(wechat_order)), ok=False)

    note = PaymentNotification.objects.get()
    assert (note.verified, note.outcome, note.order, note.order_no) == (True, "refused", None, "TN2000010100000000")
    assert note.reason == "unknown order"
    assert not OrderGrant.objects.exists()
    assert not OrderEvent.objects.exclude(kind__in=["created", "pay_params"]).exists()


def test_alipay_notification_for_an_unknown_order_is_refused(client, alipay_order):
    real_no = alipay_order.order_no
    alipay_order.order_no = "TN2000010100000000"

    assert_alipay_reply(post_alipay(client, alipay_notification(alipay_order)), ok=False)

    note = PaymentNotification.objects.get()
    assert (note.verified, note.outcome, note.order, note.order_no) == (True, "refused", None, "TN2000010100000000")
    assert note.reason == "unknown order"
    assert Order.objects.get(order_no=real_no).status == "pending"
    assert points_balance(user=alipay_order.user) == 0


def test_a_payment_on_the_other_channel_is_refused(client, wechat_order):
    """An Alipay notification (genuinely signed) naming an order placed for WeChat Pay."""
    assert_alipay_reply(post_alipay(client, alipay_notification(wechat_order)), ok=False)

    assert_unchanged(wechat_order)
    assert "channel" in PaymentNotification.objects.get().reason


def test_a_second_payment_for_a_paid_order_is_refused_and_recorded(client, wechat_order):
    post_wechat(client, wechat_notification(wechat_order))

    response = post_wechat(client, wechat_notification(wechat_order, transaction_id="4200000000202401019999999999"))

    assert_wechat_reply(response, ok=False)
    assert OrderGrant.objects.count() == 1
    assert wechat_order.events.filter(kind="settle_refused").count() == 1


def test_a_transaction_id_that_already_paid_another_order_is_refused_and_recorded(client, auth_api, wechat_order):
    post_wechat(client, wechat_notification(wechat_order))
    other = Order.objects.get(order_no=place_points_order(auth_api)["orderNo"])

    response = post_wechat(client, wechat_notification(other))  # the same transaction id as the first

    assert_wechat_reply(response, ok=False)
    other.refresh_from_db()
    assert (other.status, other.transaction_id) == ("pending", "")
    assert not OrderGrant.objects.filter(order=other).exists()
    assert points_balance(user=auth_api.user) == 0
    event = other.events.get(kind="settle_refused")
    assert event.data["reason"] == "transaction 4200000000202401011234567890 already paid another order"
    note = PaymentNotification.objects.get(order=other)
    assert (note.outcome, note.reason) == ("refused", event.data["reason"])


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><return_code>SUCCESS</return_code><out_trade_no>&xxe;</out_trade_no></xml>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<xml><return_code>&lol4;</return_code></xml>"""


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (XXE, "text/xml"),
        (BILLION_LAUGHS, "text/xml"),
        (b"", "text/xml"),
        (b"not xml at all", "text/xml"),
        (b"<xml><return_code>SUCCESS", "text/xml"),
        (b'{"out_trade_no": "TN1"}', "application/json"),
        (b"<other><a>1</a></other>", "text/xml"),
        (b"<xml><a><b>nested</b></a></xml>", "text/xml"),
        (b"\xff\xfe\x00garbage\x80", "text/xml"),
        (b"<xml><return_code>SUCCESS</return_code></xml>", "text/xml"),
    ],
    ids=["xxe", "billion-laughs", "empty", "text", "truncated", "json", "other-root", "nested", "bytes", "unsigned"],
)
def test_hostile_and_malformed_wechat_bodies_are_refused_never_a_500(client, wechat_order, body, content_type):
    response = post_wechat(client, body, content_type)

    assert_wechat_reply(response, ok=False)
    assert_unchanged(wechat_order)
    note = PaymentNotification.objects.get()
    assert (note.verified, note.outcome) == (False, "refused")
    assert note.body_size == len(body)
    assert note.reason


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"", "application/x-www-form-urlencoded"),
        (b"out_trade_no=TN1&total_amount=6.00&trade_status=TRADE_SUCCESS", "application/x-www-form-urlencoded"),
        (b"sign=%%%&sign_type=RSA2&out_trade_no=TN1", "application/x-www-form-urlencoded"),
        (b"--broken\r\nContent-Disposition: form-data\r\n", "multipart/form-data; boundary=broken"),
        (b"<xml/>", "text/xml"),
        (b"out_trade_no=TN%00&sign=AAAA&total_amount=6.00%00", "application/x-www-form-urlencoded"),
        (b"\x00\xff=\x00", "application/x-www-form-urlencoded"),
    ],
    ids=["empty", "unsigned", "bad-sign", "broken-multipart", "xml", "nul-in-fields", "nul-bytes"],
)
def test_malformed_alipay_bodies_are_refused_never_a_500(client, alipay_order, body, content_type):
    response = client.post("/api/payment/alipay/notify", data=body, content_type=content_type)

    assert_alipay_reply(response, ok=False)
    alipay_order.refresh_from_db()
    assert alipay_order.status == "pending"
    note = PaymentNotification.objects.get()
    assert (note.verified, note.outcome) == (False, "refused")
    assert note.reason


def test_notify_endpoints_need_no_login_and_ignore_a_bearer_token(client, wechat_order):
    response = client.post(
        "/api/payment/wechat/notify",
        data=wechat_notification(wechat_order),
        content_type="text/xml",
        HTTP_AUTHORIZATION="Bearer not-a-token",
        HTTP_ACCEPT="application/xml",
    )

    assert_wechat_reply(response, ok=True)
    assert "HTTP_AUTHORIZATION" not in PaymentNotification.objects.get().headers


def test_a_failure_while_settling_answers_fail_and_keeps_the_record(client, wechat_order, monkeypatch):
    from payments.services import notifications

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(notifications, "order_settle", broken)

    assert_wechat_reply(post_wechat(client, wechat_notification(wechat_order)), ok=False)
    note = PaymentNotification.objects.get()
    assert note.outcome == "error"
    assert "database went away" in note.reason
    assert_unchanged(wechat_order)


def test_events_are_not_written_for_refusals_without_an_order(client):
    post_wechat(client, XXE)
    assert not OrderEvent.objects.exists()
