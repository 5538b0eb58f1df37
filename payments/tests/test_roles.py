"""Orders and the staff roles: finance refunds, asks the provider and closes; support only looks. The admin offers
each only its actions, and the services refuse the rest."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from accounts.roles import FINANCE, SUPPORT
from accounts.tests.factories import UserFactory
from payments import services
from payments.models import Order, OrderEvent
from payments.tests.helpers import pay_in_sandbox, place_membership_order
from tunee.api.errors import ApiError, Code

pytestmark = pytest.mark.django_db

ORDERS = "/admin/payments/order/"
ORDER_ACTIONS = {"query_and_sync", "close_orders", "refund_orders", "refund_orders_taking_back_points_left"}


def staff_in(role: str):
    person = UserFactory(is_staff=True)
    person.groups.add(Group.objects.get(name=role))
    return person


def logged_in(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def offered(console: Client) -> set[str]:
    response = console.get(ORDERS)
    assert response.status_code == 200
    form = response.context["action_form"]
    return {name for name, _ in form.fields["action"].choices if name} if form else set()


@pytest.fixture
def paid_order(auth_api, client) -> Order:
    pay_in_sandbox(client, place_membership_order(auth_api))
    order = Order.objects.get()
    assert order.status == Order.Status.PAID
    return order


def test_support_sees_orders_but_cannot_refund_one_in_the_admin(paid_order):
    console = logged_in(staff_in(SUPPORT))

    assert console.get(f"{ORDERS}{paid_order.pk}/change/").status_code == 200
    assert offered(console) == set()
    console.post(ORDERS, {"action": "refund_orders", "_selected_action": [str(paid_order.pk)]})

    paid_order.refresh_from_db()
    assert paid_order.status == Order.Status.PAID


def test_support_cannot_refund_or_close_through_the_services_either(paid_order):
    support = staff_in(SUPPORT)

    for call in (
        lambda: services.order_refund(order=paid_order, actor=support, reason="asked"),
        lambda: services.order_close_by_staff(order=paid_order, actor=support),
        lambda: services.order_sync_by_staff(order=paid_order, actor=support),
    ):
        with pytest.raises(ApiError) as refused:
            call()
        assert refused.value.code is Code.FORBIDDEN

    paid_order.refresh_from_db()
    assert paid_order.status == Order.Status.PAID
    assert not OrderEvent.objects.filter(kind__in=["refunded", "refund_failed"]).exists()


def test_finance_is_offered_every_order_action_and_refunds_an_order(paid_order):
    finance = staff_in(FINANCE)
    console = logged_in(finance)

    assert offered(console) == ORDER_ACTIONS
    response = console.post(ORDERS, {"action": "refund_orders", "_selected_action": [str(paid_order.pk)]}, follow=True)

    assert response.status_code == 200
    paid_order.refresh_from_db()
    assert paid_order.status == Order.Status.REFUNDED
    assert OrderEvent.objects.get(kind="refunded").actor == finance


def test_finance_closes_a_pending_order_through_the_service(auth_api):
    place_membership_order(auth_api)
    order = Order.objects.get()

    closed = services.order_close_by_staff(order=order, actor=staff_in(FINANCE), reason="customer asked")

    assert closed.status == Order.Status.CLOSED


def test_finance_cannot_adjust_points_or_refund_generations(user):
    from membership.services import staff_adjust

    with pytest.raises(ApiError) as refused:
        staff_adjust(action="adjust_points", user=user, actor=staff_in(FINANCE), reason="goodwill", amount=10)

    assert refused.value.code is Code.FORBIDDEN
    assert not user.points_entries.exists()
