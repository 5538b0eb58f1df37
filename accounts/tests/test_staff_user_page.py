"""The user page shows at a glance membership, quota today, points, last orders, last generations and sessions,
each panel to those allowed to see it, in a number of queries that does not grow with the user's history."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from accounts import services
from accounts.roles import FINANCE, SUPPORT
from accounts.tests.factories import UserFactory
from generation.tests.factories import GenerationFactory
from membership.models import Plan
from membership.services import membership_grant, points_credit
from payments.tests.helpers import place_membership_order

pytestmark = pytest.mark.django_db

PANELS = ("Membership, quota today, points", "Last points entries", "Last orders", "Last generations", "Sessions")


def staff_in(role: str):
    person = UserFactory(is_staff=True)
    person.groups.add(Group.objects.get(name=role))
    return person


def logged_in(person) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(person)
    return client


def page_of(console: Client, customer):
    return console.get(reverse("admin:accounts_user_change", args=[customer.pk]))


def titles(response) -> list[str]:
    with translation.override("en"):
        return [str(panel["title"]) for panel in response.context["user_panels"]]


def history(customer, count: int) -> None:
    for _ in range(count):
        GenerationFactory(user=customer, title="海边")
        services.session_start(user=customer, device="iPhone")
        points_credit(user=customer, amount=5, reason="bonus")


def test_the_user_page_shows_every_panel_with_the_users_figures(auth_api, staff):
    customer = auth_api.user
    membership_grant(user=customer, plan=Plan.objects.get(type="monthly"), actor=None, reason="gift")
    points_credit(user=customer, amount=42, reason="bonus")
    order = place_membership_order(auth_api)
    generation = GenerationFactory(user=customer, title="海边的歌")

    response = page_of(logged_in(staff), customer)

    assert response.status_code == 200
    assert titles(response) == list(PANELS)
    page = response.content.decode()
    assert 'id="user-summary"' in page
    assert order["orderNo"] in page and str(generation.pk)[:8] in page and "海边的歌" in page
    with translation.override("en"):
        entitlements = {str(label): value for label, value in response.context["user_panels"][0]["rows"]}
    assert entitlements["level"] == "monthly" and entitlements["points"] == 42
    assert entitlements["used today / limit"] == "0 / 50"


def test_the_number_of_queries_does_not_grow_with_the_users_history(staff):
    few, many = UserFactory(), UserFactory()
    history(few, 1)
    history(many, 8)
    console = logged_in(staff)
    page_of(console, few)  # warm what is cached per process (catalog, content types)

    with CaptureQueriesContext(connection) as for_few:
        assert page_of(console, few).status_code == 200
    with CaptureQueriesContext(connection) as for_many:
        assert page_of(console, many).status_code == 200

    assert len(for_many) == len(for_few)


def test_support_sees_the_page_and_its_panels_read_only(user):
    response = page_of(logged_in(staff_in(SUPPORT)), user)

    assert response.status_code == 200
    assert titles(response) == list(PANELS)
    assert 'name="email"' not in response.content.decode()  # view_user only: nothing to edit


def test_finance_does_not_open_user_pages(user):
    assert page_of(logged_in(staff_in(FINANCE)), user).status_code == 403


def test_a_viewer_sees_only_the_panels_of_what_they_may_view(user):
    from django.contrib.auth.models import Permission

    clerk = UserFactory(is_staff=True)
    clerk.user_permissions.add(*Permission.objects.filter(codename__in=["view_user", "view_order"]))

    response = page_of(logged_in(clerk), user)

    assert titles(response) == ["Last orders"]
