"""The staff console refuses its actions to staff who may only look: every action names the permission it needs.

(The user admin's own rules — who may grant permissions, edit whose account — are in
accounts/tests/test_admin_permissions.py.)
"""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.test import Client, RequestFactory
from django.utils import timezone

from accounts import services as accounts_services
from accounts.models import LoginSession
from accounts.tests.factories import UserFactory
from generation.models import Generation
from generation.tests.factories import GenerationFactory
from membership.models import Plan
from payments.models import Order
from works.models import Work
from works.tests.factories import WorkFactory

pytestmark = pytest.mark.django_db


def viewer_of(*codenames: str):
    """A staff member (not a superuser) with only the given view_* permissions."""
    person = UserFactory(is_staff=True)
    person.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return person


def logged_in(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def offered_actions(client: Client, changelist: str) -> set[str]:
    response = client.get(changelist)
    assert response.status_code == 200
    form = response.context["action_form"]
    return {name for name, _ in form.fields["action"].choices if name} if form else set()


# --- what each action touches: make a row, read back what the action would change ---------------------------------


def user_active():
    return UserFactory()


def user_disabled():
    person = UserFactory()
    accounts_services.user_disable(user=person)
    return person


def user_with_session():
    person = UserFactory()
    accounts_services.session_start(user=person)
    return person


def user_state(person):
    person.refresh_from_db()
    live = LoginSession.objects.filter(user=person, revoked_at__isnull=True).count()
    return (person.status, person.is_active, live)


def generation_in(status):
    return lambda: GenerationFactory(status=status)


def generation_state(generation):
    return Generation.objects.values_list("status", flat=True).get(pk=generation.pk)


def work_with(**flags):
    return lambda: WorkFactory(**flags)


def work_state(work):
    return Work.objects.values_list("hidden", "featured").get(pk=work.pk)


def order_in(status):
    def make():
        paid = {"paid_at": timezone.now(), "transaction_id": "T-1"} if status == "paid" else {}
        return Order.objects.create(
            order_no=f"TEST{status}",
            user=UserFactory(),
            kind="membership",
            plan=Plan.objects.get(type="monthly"),
            subject="monthly",
            amount_fen=1800,
            payment_method="alipay",
            device="web",
            trade_type="page",
            status=status,
            expire_at=timezone.now() + timedelta(minutes=30),
            **paid,
        )

    return make


def order_state(order):
    return Order.objects.values_list("status", "refunded_at", "closed_at").get(pk=order.pk)


# (changelist, view permission, action, make, state, does a superuser's run change the state?)
# The orders' actions talk to the payment provider: what a superuser does with them is tested in payments' tests.
ACTIONS = [
    ("/admin/accounts/user/", "view_user", "disable_users", user_active, user_state, True),
    ("/admin/accounts/user/", "view_user", "enable_users", user_disabled, user_state, True),
    ("/admin/accounts/user/", "view_user", "revoke_sessions", user_with_session, user_state, True),
    (
        "/admin/generation/generation/",
        "view_generation",
        "retry_failed",
        generation_in("failed"),
        generation_state,
        True,
    ),
    (
        "/admin/generation/generation/",
        "view_generation",
        "fail_and_refund",
        generation_in("pending"),
        generation_state,
        True,
    ),
    ("/admin/works/work/", "view_work", "hide", work_with(), work_state, True),
    ("/admin/works/work/", "view_work", "unhide", work_with(hidden=True), work_state, True),
    ("/admin/works/work/", "view_work", "feature", work_with(), work_state, True),
    ("/admin/works/work/", "view_work", "unfeature", work_with(featured=True), work_state, True),
    ("/admin/payments/order/", "view_order", "query_and_sync", order_in("pending"), order_state, False),
    ("/admin/payments/order/", "view_order", "close_orders", order_in("pending"), order_state, False),
    ("/admin/payments/order/", "view_order", "refund_orders", order_in("paid"), order_state, False),
    (
        "/admin/payments/order/",
        "view_order",
        "refund_orders_taking_back_points_left",
        order_in("paid"),
        order_state,
        False,
    ),
]


@pytest.mark.parametrize(("changelist", "view", "action", "make", "state", "superuser_changes"), ACTIONS)
def test_view_only_staff_are_not_offered_an_action_and_posting_it_changes_nothing(
    changelist, view, action, make, state, superuser_changes
):
    # given a row and a staff member who may only view it
    row = make()
    before = state(row)
    console = logged_in(viewer_of(view))

    # when they post the action through the changelist anyway
    assert action not in offered_actions(console, changelist)
    response = console.post(changelist, {"action": action, "_selected_action": [str(row.pk)]})

    # then it is refused and nothing changed
    assert response.status_code in (200, 302, 403)
    assert state(row) == before


@pytest.mark.parametrize(
    ("changelist", "view", "action", "make", "state", "superuser_changes"),
    [case for case in ACTIONS if case[-1]],
)
def test_superusers_still_run_every_action(changelist, view, action, make, state, superuser_changes, staff):
    row = make()
    before = state(row)
    console = logged_in(staff)

    assert action in offered_actions(console, changelist)
    response = console.post(changelist, {"action": action, "_selected_action": [str(row.pk)]})

    assert response.status_code == 302
    assert state(row) != before


def test_no_admin_offers_any_action_to_staff_who_may_only_view():
    """Every registered admin, including ones added later: view permissions alone unlock no action."""
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(*Permission.objects.filter(codename__startswith="view_"))
    request = RequestFactory().get("/admin/")
    request.user = viewer

    offered = {
        f"{model._meta.label}.{name}"
        for model, model_admin in admin.site._registry.items()
        for name in model_admin.get_actions(request)
    }

    assert offered == set()
