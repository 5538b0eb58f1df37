"""A refund of a points order racing the user's spending, on PostgreSQL with real threads.

The provider is Alipay's real client against a fake gateway on 127.0.0.1 whose refund call waits a moment, the
window in which a spend used to slip in between the "points already spent?" check and the take-back."""

import threading

import pytest
from django.db import connection
from django.test import Client

from accounts.tests.clients import client_for
from accounts.tests.factories import UserFactory
from membership.models import PointsEntry
from membership.selectors import points_balance
from membership.services import points_spend
from payments import services
from payments.models import Order
from payments.tests.conftest import ALI_APP_ID, ALI_SELLER_ID
from payments.tests.helpers import place_points_order
from tunee.api.errors import ApiError, Code
from tunee.testing import race_results

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def real_alipay(settings, fake_alipay, alipay_pairs):
    (app_private, _), (_, platform_public) = alipay_pairs
    settings.ALIPAY_APP_ID = ALI_APP_ID
    settings.ALIPAY_APP_PRIVATE_KEY = app_private
    settings.ALIPAY_PUBLIC_KEY = platform_public
    settings.ALIPAY_SELLER_ID = ALI_SELLER_ID
    settings.ALIPAY_GATEWAY = fake_alipay.httpserver.url_for("/gateway.do")
    settings.PAYMENT_TIMEOUT_SECONDS = 10
    return fake_alipay


def paid_points_order(fake_alipay, user) -> Order:
    """60 points bought with Alipay app pay (no call to the gateway) and paid by a signed notification."""
    data = place_points_order(client_for(user), method="alipay", device="app")
    fields = fake_alipay.notification(out_trade_no=data["orderNo"], total_amount="6.00", receipt_amount="6.00")
    assert Client().post("/api/payment/alipay/notify", data=fields).content == b"success"
    assert points_balance(user=user) == 60
    return Order.objects.get(order_no=data["orderNo"])


def run(target) -> threading.Thread:
    """Start `target` in its own thread now, alone: the refund must be inside the provider before the spend starts,
    an order `tunee.testing.race` (every call released together) cannot set up."""

    def body():
        try:
            target()
        finally:
            connection.close()

    thread = threading.Thread(target=body)
    thread.start()
    return thread


def slow_refund(fake_alipay, in_provider: threading.Event, spent: threading.Event):
    def answer(biz):
        in_provider.set()
        spent.wait(timeout=1.5)  # gives the spend its chance (it cannot finish while the refund holds the lock)
        return {"code": "10000", "msg": "Success", "trade_no": "2024010122001400001234567890", "fund_change": "Y"}

    fake_alipay.on("alipay.trade.refund", answer)


@pytest.mark.parametrize("take_back_available_points", [False, True])
def test_points_spent_while_the_provider_refunds_cannot_slip_past_the_check(real_alipay, take_back_available_points):
    user, staff = UserFactory(), UserFactory(is_staff=True, is_superuser=True)  # refunds need payments.refund
    order = paid_points_order(real_alipay, user)
    in_provider, spent = threading.Event(), threading.Event()
    slow_refund(real_alipay, in_provider, spent)
    outcome: dict = {}

    def refund():
        try:
            services.order_refund(
                order=Order.objects.get(pk=order.pk), actor=staff, take_back_available_points=take_back_available_points
            )
            outcome["refund"] = "done"
        except ApiError as exc:
            outcome["refund"] = exc.code

    def spend():
        try:
            points_spend(user=user, amount=50, reason=PointsEntry.Reason.GENERATION)
            outcome["spend"] = "done"
        except ApiError as exc:
            outcome["spend"] = exc.code
        finally:
            spent.set()

    refunding = run(refund)
    assert in_provider.wait(timeout=10)
    spending = run(spend)
    spending.join(timeout=30)
    refunding.join(timeout=30)

    # the refund held the points account from its check to its take-back: the spend waited, then found nothing
    assert outcome == {"refund": "done", "spend": Code.INSUFFICIENT_POINTS}
    assert points_balance(user=user) == 0
    order.refresh_from_db()
    assert order.status == "refunded"
    assert order.grant.revoked_points == 60
    data = order.events.get(kind="refunded").data
    assert (data["points"], data["shortfall"]) == (60, 0)
    assert list(PointsEntry.objects.filter(user=user).order_by("id").values_list("amount", "reason")) == [
        (60, "purchase"),
        (-60, "order_refund"),
    ]


def test_a_spend_that_commits_first_makes_the_refund_refused_and_nothing_refunded(real_alipay):
    """The other order of events: the spend holds the account first; the refund's check, made under the lock
    after the spend committed, refuses (40000) before the provider is asked."""
    user, staff = UserFactory(), UserFactory(is_staff=True, is_superuser=True)  # refunds need payments.refund
    order = paid_points_order(real_alipay, user)
    real_alipay.on("alipay.trade.refund", {"code": "10000", "msg": "Success", "trade_no": "x", "fund_change": "Y"})

    def spend():
        try:
            points_spend(user=user, amount=10, reason=PointsEntry.Reason.GENERATION)
            return "spent"
        except ApiError as exc:
            return exc.code

    def refund():
        try:
            services.order_refund(order=Order.objects.get(pk=order.pk), actor=staff)
            return "refunded"
        except ApiError as exc:
            return ("refund", exc.code)

    outcomes = [o for o in race_results(*[spend] * 7, refund) if o is not None]  # None: still running at the timeout

    assert len(outcomes) == 8
    balance = points_balance(user=user)
    assert balance >= 0
    order.refresh_from_db()
    spends = outcomes.count("spent")
    if "refunded" in outcomes:  # the refund went first: every later spend found 0 points
        assert (order.status, order.grant.revoked_points, balance, spends) == ("refunded", 60, 0, 0)
    else:  # a spend went first: the refund was refused whole, never taken back in part
        assert ("refund", Code.INSUFFICIENT_POINTS) in outcomes
        assert (order.status, order.grant.revoked_points, balance) == ("paid", 0, 60 - 10 * spends)
        assert not any(params.get("method") == "alipay.trade.refund" for params in real_alipay.requests)
        assert not PointsEntry.objects.filter(reason="order_refund").exists()
