"""Concurrent duplicate notifications on PostgreSQL, with real threads: exactly one grant."""

import pytest
from django.test import Client

from accounts.tests.clients import client_for
from accounts.tests.factories import UserFactory
from membership.models import MembershipEvent, PointsEntry
from membership.selectors import points_balance
from payments.models import Order, OrderGrant, PaymentNotification
from payments.tests.helpers import alipay_notification, place_membership_order, place_points_order, wechat_notification
from tunee.testing import race, split

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

THREADS = 8


def post_together(path: str, *, body=None, fields=None) -> list[bytes]:
    def deliver() -> bytes:
        if body is not None:
            return Client().post(path, data=body, content_type="text/xml").content
        return Client().post(path, data=fields).content

    answers, errors = split(race(*[deliver] * THREADS))
    assert not errors, errors
    return answers


def test_eight_concurrent_wechat_duplicates_grant_the_membership_once():
    user = UserFactory()
    data = place_membership_order(client_for(user), "monthly", "wechat", "app")
    order = Order.objects.get(order_no=data["orderNo"])

    answers = post_together("/api/payment/wechat/notify", body=wechat_notification(order))

    assert len(answers) == THREADS
    assert all(b"<![CDATA[SUCCESS]]></return_code>" in answer for answer in answers)
    assert OrderGrant.objects.filter(order=order).count() == 1
    assert MembershipEvent.objects.filter(user=user, source=f"order:{order.order_no}").count() == 1
    assert order.events.filter(kind="paid").count() == 1
    outcomes = sorted(PaymentNotification.objects.values_list("outcome", flat=True))
    assert outcomes == ["duplicate"] * (THREADS - 1) + ["settled"]


def test_eight_concurrent_alipay_duplicates_credit_the_points_once():
    user = UserFactory()
    data = place_points_order(client_for(user), method="alipay", device="web")
    order = Order.objects.get(order_no=data["orderNo"])

    answers = post_together("/api/payment/alipay/notify", fields=alipay_notification(order))

    assert answers == [b"success"] * THREADS
    assert points_balance(user=user) == 60
    assert PointsEntry.objects.filter(user=user, reason="purchase").count() == 1
    assert PaymentNotification.objects.filter(outcome="settled").count() == 1
