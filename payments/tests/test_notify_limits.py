"""The notify endpoints' limits: a per-IP throttle answered in each provider's own format, and a cap on the
unverified bodies stored per IP and hour (verified notifications are always stored and settled)."""

import logging
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from membership.selectors import points_balance
from payments.models import Order, PaymentNotification
from payments.tests.helpers import alipay_notification, place_points_order, wechat_notification
from tunee.testing import race, split

pytestmark = pytest.mark.django_db

WECHAT_OK = b"<return_code><![CDATA[SUCCESS]]></return_code>"
WECHAT_FAIL = b"<return_code><![CDATA[FAIL]]></return_code>"
FORGED_XML = b"<xml><return_code>SUCCESS</return_code><out_trade_no>TN1</out_trade_no><sign>AAAA</sign></xml>"


def post_wechat(client, body: bytes, ip="203.0.113.9"):
    return client.post("/api/payment/wechat/notify", data=body, content_type="text/xml", REMOTE_ADDR=ip)


def post_alipay(client, fields: dict, ip="203.0.113.9"):
    return client.post("/api/payment/alipay/notify", data=fields, REMOTE_ADDR=ip)


@pytest.fixture
def wechat_order(auth_api):
    data = place_points_order(auth_api, method="wechat", device="app")
    return Order.objects.get(order_no=data["orderNo"])


@pytest.fixture
def alipay_order(auth_api):
    data = place_points_order(auth_api, method="alipay", device="app")
    return Order.objects.get(order_no=data["orderNo"])


# --- the throttle -------------------------------------------------------------------------------------------------


def test_the_wechat_throttle_answers_wechats_fail_xml_with_429_and_stores_nothing(client, settings, wechat_order):
    settings.THROTTLE_NOTIFY_IP_RATE = "2/min"
    assert post_wechat(client, FORGED_XML).status_code == 200
    assert post_wechat(client, FORGED_XML).status_code == 200

    response = post_wechat(client, wechat_notification(wechat_order))  # even a genuine one, from this IP

    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/xml")
    assert WECHAT_FAIL in response.content
    assert b'"code"' not in response.content  # not the JSON envelope
    assert 1 <= int(response["Retry-After"]) <= 60
    assert PaymentNotification.objects.count() == 2
    wechat_order.refresh_from_db()
    assert wechat_order.status == "pending"


def test_the_alipay_throttle_answers_failure_as_plain_text_with_429(client, settings, alipay_order):
    settings.THROTTLE_NOTIFY_IP_RATE = "1/min"
    assert post_alipay(client, {"sign": "x"}).content == b"failure"

    response = post_alipay(client, alipay_notification(alipay_order))

    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/plain")
    assert response.content == b"failure"
    assert int(response["Retry-After"]) >= 1
    assert PaymentNotification.objects.count() == 1
    assert points_balance(user=alipay_order.user) == 0


def test_the_throttle_counts_each_client_ip_on_its_own(client, settings, wechat_order):
    settings.THROTTLE_NOTIFY_IP_RATE = "1/min"
    post_wechat(client, FORGED_XML, ip="203.0.113.9")
    assert post_wechat(client, FORGED_XML, ip="203.0.113.9").status_code == 429

    response = post_wechat(client, wechat_notification(wechat_order), ip="198.51.100.20")

    assert response.status_code == 200
    assert WECHAT_OK in response.content
    wechat_order.refresh_from_db()
    assert wechat_order.status == "paid"


def test_the_default_rate_lets_a_providers_retries_through(client, wechat_order):
    body = wechat_notification(wechat_order)
    answers = [post_wechat(client, body).status_code for _ in range(20)]
    assert answers == [200] * 20


# --- the cap on stored unverified bodies --------------------------------------------------------------------------


def test_unverified_wechat_bodies_beyond_the_cap_are_not_stored_but_a_signed_one_is_and_settles(
    client, settings, wechat_order, caplog
):
    settings.PAYMENT_UNVERIFIED_NOTIFICATIONS_PER_HOUR = 3
    forged = wechat_notification(wechat_order, api_key="0" * 32)  # looks right, wrong key

    with caplog.at_level(logging.WARNING, logger="payments"):
        answers = [post_wechat(client, forged) for _ in range(5)]

    assert [a.status_code for a in answers] == [200] * 5
    assert all(WECHAT_FAIL in a.content for a in answers)
    assert PaymentNotification.objects.count() == 3
    assert set(PaymentNotification.objects.values_list("verified", "outcome")) == {(False, "refused")}
    not_stored = [r.getMessage() for r in caplog.records if "not stored" in r.getMessage()]
    assert len(not_stored) == 2
    assert "5 unverified this hour" in not_stored[-1]

    genuine = post_wechat(client, wechat_notification(wechat_order))

    assert WECHAT_OK in genuine.content
    note = PaymentNotification.objects.latest("id")
    assert (note.verified, note.outcome, note.order) == (True, "settled", wechat_order)
    assert PaymentNotification.objects.count() == 4
    assert points_balance(user=wechat_order.user) == 60


def test_unverified_alipay_bodies_beyond_the_cap_are_not_stored_but_a_signed_one_is(client, settings, alipay_order):
    settings.PAYMENT_UNVERIFIED_NOTIFICATIONS_PER_HOUR = 1
    tampered = alipay_notification(alipay_order)
    tampered["total_amount"] = "0.01"

    assert post_alipay(client, tampered).content == b"failure"
    assert post_alipay(client, tampered).content == b"failure"
    assert post_alipay(client, {"unsigned": "junk"}).content == b"failure"
    assert PaymentNotification.objects.count() == 1

    assert post_alipay(client, alipay_notification(alipay_order)).content == b"success"
    assert PaymentNotification.objects.filter(verified=True, outcome="settled").count() == 1
    assert PaymentNotification.objects.count() == 2
    assert points_balance(user=alipay_order.user) == 60


def test_the_cap_is_per_client_ip_and_per_hour(client, settings):
    settings.PAYMENT_UNVERIFIED_NOTIFICATIONS_PER_HOUR = 1
    post_wechat(client, FORGED_XML, ip="203.0.113.9")
    post_wechat(client, FORGED_XML, ip="203.0.113.9")
    post_wechat(client, FORGED_XML, ip="198.51.100.20")
    assert sorted(PaymentNotification.objects.values_list("remote_addr", flat=True)) == [
        "198.51.100.20",
        "203.0.113.9",
    ]

    with time_machine.travel(timezone.now() + timedelta(hours=1, minutes=1)):
        post_wechat(client, FORGED_XML, ip="203.0.113.9")

    assert PaymentNotification.objects.filter(remote_addr="203.0.113.9").count() == 2


def test_a_cap_of_zero_stores_no_unverified_body_and_still_every_verified_one(client, settings, wechat_order):
    settings.PAYMENT_UNVERIFIED_NOTIFICATIONS_PER_HOUR = 0

    assert WECHAT_FAIL in post_wechat(client, FORGED_XML).content
    assert WECHAT_OK in post_wechat(client, wechat_notification(wechat_order)).content
    assert WECHAT_OK in post_wechat(client, wechat_notification(wechat_order)).content  # its duplicate

    assert list(PaymentNotification.objects.order_by("id").values_list("outcome", flat=True)) == [
        "settled",
        "duplicate",
    ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_unverified_bodies_store_exactly_the_cap(settings):
    """Eight threads post forged bodies at once from one IP: the counter in the cache (add + incr) lets exactly
    the cap through, however they interleave."""
    settings.PAYMENT_UNVERIFIED_NOTIFICATIONS_PER_HOUR = 3
    threads_count = 8

    answers, errors = split(race(*[lambda: post_wechat(Client(), FORGED_XML).content] * threads_count))

    assert not errors, errors
    assert all(WECHAT_FAIL in answer for answer in answers)
    assert PaymentNotification.objects.count() == 3
