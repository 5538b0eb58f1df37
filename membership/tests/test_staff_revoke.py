"""Revoking a membership (support, with a reason), and the staff-adjustment table the admin and commands share."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from accounts.roles import FINANCE, SUPPORT
from accounts.tests.factories import UserFactory
from membership import selectors, services
from membership.models import MembershipEvent, StaffAdjustment
from tunee.api.errors import ApiError, Code

from .factories import MembershipFactory

pytestmark = pytest.mark.django_db

ADD = "/admin/membership/staffadjustment/add/"


def staff_in(role: str):
    person = UserFactory(is_staff=True)
    person.groups.add(Group.objects.get(name=role))
    return person


def logged_in(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def test_revoking_all_of_a_membership_ends_it_now_and_records_who_and_why(user):
    MembershipFactory(user=user)
    support = staff_in(SUPPORT)

    record = services.membership_revoke_by_staff(user=user, actor=support, reason="chargeback")

    state = selectors.membership_state(user=user)
    assert not state.is_valid
    event = MembershipEvent.objects.get(kind=MembershipEvent.Kind.REVOKE)
    assert (event.actor, event.reason, event.source) == (support, "chargeback", "staff")
    assert event.expires_after <= timezone.now()
    assert (record.action, record.actor, record.reason) == ("revoke_membership", support, "chargeback")
    assert record.payload["days"] == event.days * -1 >= 30


def test_revoking_some_days_shortens_the_membership_by_them(user):
    MembershipFactory(user=user)
    before = selectors.membership_state(user=user).expires_at

    services.membership_revoke_by_staff(user=user, actor=staff_in(SUPPORT), reason="partial", days=10)

    after = selectors.membership_state(user=user).expires_at
    assert after == before - timedelta(days=10)


def test_there_is_nothing_to_revoke_without_a_running_membership(user):
    with pytest.raises(ApiError) as refused:
        services.membership_revoke_by_staff(user=user, actor=None, reason="x")

    assert refused.value.code is Code.VALIDATION
    assert not StaffAdjustment.objects.exists() and not MembershipEvent.objects.exists()


def test_finance_may_not_revoke_and_nothing_changes(user):
    MembershipFactory(user=user)

    with pytest.raises(ApiError) as refused:
        services.membership_revoke_by_staff(user=user, actor=staff_in(FINANCE), reason="x")

    assert refused.value.code is Code.FORBIDDEN
    assert selectors.membership_state(user=user).is_valid


def test_support_revokes_from_the_staff_adjustment_page(user):
    MembershipFactory(user=user)
    support = staff_in(SUPPORT)

    response = logged_in(support).post(
        ADD, {"user": str(user.pk), "action": "revoke_membership", "reason": "refunded elsewhere"}
    )

    assert response.status_code == 302
    assert not selectors.membership_state(user=user).is_valid
    assert StaffAdjustment.objects.get(action="revoke_membership").actor == support


def test_finance_cannot_open_the_staff_adjustment_page(user):
    assert logged_in(staff_in(FINANCE)).get(ADD).status_code == 403


@pytest.mark.parametrize(
    ("action", "fields", "check"),
    [
        ("set_daily_limit", {"limit": 9}, lambda user: selectors.daily_limit(user=user) == 9),
        ("grant_extra", {"count": 2}, lambda user: selectors.quota_status(user=user).daily_limit == 2 + 3),
        ("grant_membership", {"plan": "yearly"}, lambda user: selectors.membership_state(user=user).level == "yearly"),
        ("adjust_points", {"amount": 7}, lambda user: selectors.points_balance(user=user) == 7),
    ],
)
def test_staff_adjust_dispatches_each_action_to_its_service(user, action, fields, check):
    record = services.staff_adjust(action=action, user=user, actor=staff_in(SUPPORT), reason="why", **fields)

    assert record.action == action
    assert check(user)


def test_staff_adjust_refuses_an_unknown_action_and_the_refund_record_kind(user):
    for action in ("make_rich", "refund_generation"):
        with pytest.raises(ApiError) as refused:
            services.staff_adjust(action=action, user=user, actor=None, reason="why")
        assert refused.value.code is Code.VALIDATION
    assert not StaffAdjustment.objects.exists()
