"""Staff controls: each a service, each recorded; and the admin form that calls them."""

import pytest

from membership import selectors, services
from membership.models import Plan, PointsEntry, StaffAdjustment
from tunee.api.errors import ApiError

from .factories import DailyUsageFactory, PointsEntryFactory

pytestmark = pytest.mark.django_db


def test_custom_daily_limit_replaces_the_plans(user, staff):
    services.quota_set_daily_limit(user=user, limit=7, actor=staff, reason="beta tester")

    assert selectors.quota_status(user=user).daily_limit == 7
    record = StaffAdjustment.objects.get(user=user)
    assert (record.action, record.actor, record.reason, record.payload) == (
        "set_daily_limit",
        staff,
        "beta tester",
        {"limit": 7, "previous": None},
    )

    services.quota_set_daily_limit(user=user, limit=None, actor=staff, reason="back to plan")
    assert selectors.quota_status(user=user).daily_limit == 3


def test_extra_generations_for_today(user, staff):
    DailyUsageFactory(user=user, used=3)

    services.quota_grant_extra(user=user, count=2, actor=staff, reason="apology")

    status = selectors.quota_status(user=user)
    assert (status.daily_limit, status.remaining) == (5, 2)
    services.quota_consume(user=user)
    services.quota_consume(user=user)
    with pytest.raises(ApiError):
        services.quota_consume(user=user)


def test_reset_today(user, staff):
    DailyUsageFactory(user=user, used=3)

    services.quota_reset_today(user=user, actor=staff, reason="bug 123")

    assert selectors.quota_status(user=user).remaining == 3
    assert StaffAdjustment.objects.get(user=user).payload["previous_used"] == 3


def test_grant_membership_by_plan_or_days(user, staff):
    services.membership_grant(user=user, plan=Plan.objects.get(type="monthly"), actor=staff, reason="prize")
    services.membership_grant(user=user, days=5, actor=staff, reason="compensation")

    state = selectors.membership_state(user=user)
    assert state.level == "yearly"  # days without a plan are of the highest paid plan
    records = StaffAdjustment.objects.filter(user=user, action="grant_membership").order_by("created_at")
    assert [r.payload["days"] for r in records] == [30, 5]
    assert user.membership_events.filter(kind="staff_grant", actor=staff).count() == 2


def test_adjust_points_both_ways_with_reason(user, staff):
    services.points_adjust(user=user, amount=50, actor=staff, reason="goodwill")
    services.points_adjust(user=user, amount=-20, actor=staff, reason="mistake")

    assert selectors.points_balance(user=user) == 30
    entries = PointsEntry.objects.filter(user=user).order_by("created_at", "id")
    assert [(e.amount, e.reason, e.actor, e.note) for e in entries] == [
        (50, "staff_adjust", staff, "goodwill"),
        (-20, "staff_adjust", staff, "mistake"),
    ]


def test_taking_more_points_than_the_balance_is_refused_and_not_recorded(user, staff):
    with pytest.raises(ApiError):
        services.points_adjust(user=user, amount=-1, actor=staff, reason="x")

    assert not StaffAdjustment.objects.exists()


def test_reason_is_required(user, staff):
    with pytest.raises(ApiError):
        services.quota_reset_today(user=user, actor=staff, reason=" ")


def test_admin_form_grants_extra_generations(client, staff, user):
    client.force_login(staff)

    response = client.post(
        "/admin/membership/staffadjustment/add/",
        {
            "user": str(user.pk),
            "action": "grant_extra",
            "count": "4",
            "reason": "support ticket 42",
        },
    )

    assert response.status_code == 302
    assert selectors.quota_status(user=user).daily_limit == 7
    assert StaffAdjustment.objects.get(user=user).actor == staff


def test_admin_form_adjusts_points(client, staff, user):
    client.force_login(staff)

    client.post(
        "/admin/membership/staffadjustment/add/",
        {
            "user": str(user.pk),
            "action": "adjust_points",
            "amount": "12",
            "reason": "contest",
        },
    )

    assert selectors.points_balance(user=user) == 12


def test_admin_form_refusal_shows_an_error_and_changes_nothing(client, staff, user):
    client.force_login(staff)

    response = client.post(
        "/admin/membership/staffadjustment/add/",
        {
            "user": str(user.pk),
            "action": "adjust_points",
            "amount": "-12",
            "reason": "oops",
        },
        follow=True,
    )

    assert "Not done" in response.content.decode()
    assert selectors.points_balance(user=user) == 0
    assert not StaffAdjustment.objects.exists()


def test_admin_form_needs_the_actions_field(client, staff, user):
    client.force_login(staff)

    response = client.post(
        "/admin/membership/staffadjustment/add/",
        {
            "user": str(user.pk),
            "action": "grant_extra",
            "reason": "x",
        },
    )

    assert response.status_code == 200  # the form again, with the error
    assert not StaffAdjustment.objects.exists()


@pytest.mark.parametrize(
    "page",
    [
        "plan",
        "pointpackage",
        "membership",
        "membershipevent",
        "dailyusage",
        "pointsaccount",
        "pointsentry",
        "charge",
        "chargerefund",
        "staffadjustment",
    ],
)
def test_admin_lists_open(client, staff, member, page):
    client.force_login(staff)
    services.quota_consume(user=member)

    assert client.get(f"/admin/membership/{page}/").status_code == 200


def test_ledgers_are_read_only_in_the_admin(client, staff, user):
    client.force_login(staff)
    entry = PointsEntryFactory(user=user, amount=5)

    client.post(f"/admin/membership/pointsentry/{entry.pk}/change/", {"amount": 500})
    client.post(f"/admin/membership/pointsentry/{entry.pk}/delete/", {"post": "yes"})

    entry.refresh_from_db()
    assert entry.amount == 5
