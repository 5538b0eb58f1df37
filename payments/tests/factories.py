"""Orders and payment requests for tests. An order a test means to place goes through the API
(`payments/tests/helpers.py`); these are for a row or a request a test needs as given."""

from datetime import timedelta

import factory
from django.utils import timezone

from accounts.tests.factories import UserFactory
from membership.models import Plan
from payments.models import Order
from payments.providers.base import PayRequest


class OrderFactory(factory.django.DjangoModelFactory):
    """A monthly membership order paid with WeChat Pay in the app, pending, as `order_create` leaves it; `paid=True`,
    `refunded=True` or `closed=True` for one the payments app went on to settle, refund or close (the fields each
    state's constraints ask for are filled in; pass any of them to set it)."""

    class Meta:
        model = Order

    class Params:
        paid = factory.Trait(
            status=Order.Status.PAID,
            paid_at=factory.LazyAttribute(lambda o: o.created_at + timedelta(minutes=1)),
            transaction_id=factory.Sequence(lambda n: f"tx-{n}"),
        )
        refunded = factory.Trait(
            paid=True,
            status=Order.Status.REFUNDED,
            refunded_at=factory.LazyAttribute(lambda o: o.paid_at + timedelta(days=1)),
            refund_no=factory.LazyAttribute(lambda o: f"RF{o.order_no}"),
        )
        closed = factory.Trait(
            status=Order.Status.CLOSED,
            closed_at=factory.SelfAttribute("expire_at"),
            close_reason="expired",
        )

    order_no = factory.Sequence(lambda n: f"TNTEST{n:08d}")
    user = factory.SubFactory(UserFactory)
    kind = Order.Kind.MEMBERSHIP
    plan = factory.LazyFunction(lambda: Plan.objects.get(type="monthly"))
    subject = "月卡会员"
    amount_fen = 1990
    payment_method = Order.Method.WECHAT
    device = Order.Device.APP
    trade_type = "APP"
    created_at = factory.LazyFunction(timezone.now)
    expire_at = factory.LazyAttribute(lambda o: o.created_at + timedelta(minutes=30))


class PayRequestFactory(factory.Factory):
    """One payment to place with a provider: a monthly membership from the mini program, open for 30 minutes."""

    class Meta:
        model = PayRequest

    order_no = "TN2024010112001234"
    amount_fen = 1990
    subject = "月度会员"
    device = "miniprogram"
    notify_url = "https://tunee.example/api/payment/wechat/notify"
    client_ip = "203.0.113.7"
    openid = "o_user_openid"
    expire_at = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=30))
