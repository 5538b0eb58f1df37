"""Membership stacking, renewal, lapse and revocation."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from membership import selectors, services
from membership.models import MembershipEvent, Plan

pytestmark = pytest.mark.django_db

NOW = datetime(2024, 1, 1, 4, 0, tzinfo=UTC)


@pytest.fixture
def plans():
    return {p.type: p for p in Plan.objects.all()}


def test_monthly_then_yearly_stacks_to_395_days(user, plans):
    with time_machine.travel(NOW, tick=False):
        services.membership_extend(user=user, plan=plans["monthly"], source="order:1")
        services.membership_extend(user=user, plan=plans["yearly"], source="order:2")
        state = selectors.membership_state(user=user)

    assert state.expires_at == NOW + timedelta(days=395)
    assert state.level == "yearly"  # the higher-ranked plan shows
    assert state.started_at == NOW


def test_yearly_then_monthly_keeps_the_higher_level(user, plans):
    with time_machine.travel(NOW, tick=False):
        services.membership_extend(user=user, plan=plans["yearly"], source="order:1")
        services.membership_extend(user=user, plan=plans["monthly"], source="order:2")
        state = selectors.membership_state(user=user)

    assert state.level == "yearly"
    assert state.expires_at == NOW + timedelta(days=395)


def test_renewal_while_active_extends_from_the_current_expiry(user, plans):
    with time_machine.travel(NOW, tick=False):
        services.membership_extend(user=user, plan=plans["monthly"], source="order:1")
    with time_machine.travel(NOW + timedelta(days=10), tick=False):
        services.membership_extend(user=user, plan=plans["monthly"], source="order:2")
        state = selectors.membership_state(user=user)

    assert state.expires_at == NOW + timedelta(days=60)
    assert state.started_at == NOW


def test_lapse_reads_as_free_and_a_new_purchase_starts_from_now(user, plans):
    with time_machine.travel(NOW, tick=False):
        services.membership_extend(user=user, plan=plans["yearly"], source="order:1")
    lapsed = NOW + timedelta(days=366)
    with time_machine.travel(lapsed, tick=False):
        assert selectors.membership_state(user=user).level == "free"
        assert selectors.is_member(user=user) is False
        assert selectors.daily_limit(user=user) == 3
        services.membership_extend(user=user, plan=plans["monthly"], source="order:2")
        state = selectors.membership_state(user=user)

    assert state.level == "monthly"  # a new period: the old yearly level does not carry over
    assert state.started_at == lapsed
    assert state.expires_at == lapsed + timedelta(days=30)


def test_expiry_is_respected_to_the_second(user, plans):
    with time_machine.travel(NOW, tick=False):
        services.membership_extend(user=user, plan=plans["monthly"], source="order:1")
    with time_machine.travel(NOW + timedelta(days=30, seconds=-1), tick=False):
        assert selectors.is_member(user=user)
    with time_machine.travel(NOW + timedelta(days=30), tick=False):
        assert not selectors.is_member(user=user)


def test_every_change_writes_an_event(user, plans):
    with time_machine.travel(NOW, tick=False):
        services.membership_extend(user=user, plan=plans["monthly"], source="order:1")
        services.membership_revoke(user=user, days=10, source="refund:1", reason="refunded")

    events = list(MembershipEvent.objects.filter(user=user).order_by("created_at", "id"))
    assert [(e.kind, e.days, e.source) for e in events] == [("purchase", 30, "order:1"), ("revoke", -10, "refund:1")]
    assert events[1].expires_after == NOW + timedelta(days=20)


def test_revoke_never_moves_expiry_before_now(user, plans):
    with time_machine.travel(NOW, tick=False):
        services.membership_extend(user=user, plan=plans["monthly"], source="order:1")
        services.membership_revoke(user=user, days=100, source="refund:1")
        assert selectors.membership_state(user=user).level == "free"


def test_free_plan_cannot_be_granted(user, plans):
    with pytest.raises(ValueError):
        services.membership_extend(user=user, plan=plans["free"], source="x")


def test_profile_entitlements(member):
    from membership.serializers import ENTITLEMENTS

    data = ENTITLEMENTS.to_representation(selectors.quota_status(user=member))

    assert data["isVIP"] is True
    assert data["membership"]["level"] == "monthly"
    assert data["membershipEndDate"] == data["membership"]["expiresAt"]
    assert data["dailyStats"]["totalCount"] == 50
    assert data["dailyStats"]["usedCount"] == 0
    assert data["points"] == 0
