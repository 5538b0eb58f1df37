"""The daily quota: consume, pay with points, refuse with 40004, refund once, reset at the business midnight."""

from datetime import UTC, datetime

import pytest
import time_machine

from membership import selectors, services
from membership.models import Charge, DailyUsage, PointsEntry
from tunee.api.errors import ApiError, Code

from .factories import DailyUsageFactory, PointsAccountFactory

pytestmark = pytest.mark.django_db


def consume_n(user, n):
    return [services.quota_consume(user=user, reference=f"gen:{i}") for i in range(n)]


def test_free_user_gets_three_a_day(user):
    charges = consume_n(user, 3)

    assert [c.kind for c in charges] == ["quota"] * 3
    assert selectors.quota_status(user=user).remaining == 0


def test_fourth_without_points_is_40004_with_details_and_charges_nothing(user):
    consume_n(user, 3)

    with pytest.raises(ApiError) as error:
        services.quota_consume(user=user)

    assert error.value.code == Code.QUOTA_EXHAUSTED
    assert error.value.details == {"remaining_today": 0, "points": 0, "points_cost": 10}
    assert Charge.objects.filter(user=user).count() == 3
    assert DailyUsage.objects.get(user=user).used == 3


def test_points_pay_when_the_quota_is_used_up(user):
    services.points_credit(user=user, amount=25, reason=PointsEntry.Reason.PURCHASE)
    consume_n(user, 3)

    charge = services.quota_consume(user=user, reference="gen:x")

    assert (charge.kind, charge.points) == ("points", 10)
    assert selectors.points_balance(user=user) == 15
    entry = PointsEntry.objects.get(charge=charge)
    assert (entry.amount, entry.reason, entry.balance, entry.reference) == (-10, "generation", 15, "gen:x")


def test_points_short_of_the_cost_is_40004(user):
    PointsAccountFactory(user=user, balance=9)
    DailyUsageFactory(user=user, used=3)

    with pytest.raises(ApiError) as error:
        services.quota_consume(user=user)

    assert error.value.details["points"] == 9
    assert selectors.points_balance(user=user) == 9


def test_cost_zero_turns_paying_with_points_off(user, settings):
    settings.GENERATION_POINTS_COST = 0
    PointsAccountFactory(user=user, balance=100)
    DailyUsageFactory(user=user, used=3)

    with pytest.raises(ApiError):
        services.quota_consume(user=user)
    assert selectors.points_balance(user=user) == 100


def test_member_gets_fifty(member):
    consume_n(member, 50)

    with pytest.raises(ApiError):
        services.quota_consume(user=member)


def test_quota_refund_gives_the_unit_back_once(user):
    charges = consume_n(user, 3)

    assert services.quota_refund(charge=charges[0]) is True
    assert services.quota_refund(charge=charges[0]) is False

    assert selectors.quota_status(user=user).remaining == 1
    assert services.quota_consume(user=user).kind == "quota"


def test_points_refund_credits_once_with_a_ledger_entry(user):
    PointsAccountFactory(user=user, balance=10)
    DailyUsageFactory(user=user, used=3)
    charge = services.quota_consume(user=user)

    assert services.quota_refund(charge=charge) is True
    assert services.quota_refund(charge=Charge.objects.get(pk=charge.pk)) is False

    assert selectors.points_balance(user=user) == 10
    refunds = PointsEntry.objects.filter(charge=charge, reason="generation_refund")
    assert [(e.amount, e.balance) for e in refunds] == [(10, 10)]


def test_day_rolls_over_at_midnight_in_the_business_time_zone(user):
    # 2024-01-01 15:59:59 UTC is 23:59:59 in Asia/Shanghai; one second later is the next business day.
    with time_machine.travel(datetime(2024, 1, 1, 15, 59, 59, tzinfo=UTC), tick=False):
        consume_n(user, 3)
        with pytest.raises(ApiError):
            services.quota_consume(user=user)
        assert selectors.business_today().isoformat() == "2024-01-01"
    with time_machine.travel(datetime(2024, 1, 1, 16, 0, 0, tzinfo=UTC), tick=False):
        assert selectors.business_today().isoformat() == "2024-01-02"
        assert selectors.quota_status(user=user).remaining == 3
        assert services.quota_consume(user=user).day.isoformat() == "2024-01-02"


def test_refund_after_midnight_goes_back_to_the_day_it_was_taken_from(user):
    with time_machine.travel(datetime(2024, 1, 1, 15, 0, tzinfo=UTC), tick=False):
        charge = services.quota_consume(user=user)
    with time_machine.travel(datetime(2024, 1, 1, 17, 0, tzinfo=UTC), tick=False):
        services.quota_refund(charge=charge)
        assert selectors.quota_status(user=user).remaining == 3
    assert DailyUsage.objects.get(user=user, day="2024-01-01").used == 0


def test_spend_more_than_the_balance_is_40000_and_changes_nothing(user):
    services.points_credit(user=user, amount=5, reason=PointsEntry.Reason.PURCHASE)

    with pytest.raises(ApiError) as error:
        services.points_spend(user=user, amount=6, reason=PointsEntry.Reason.GENERATION)

    assert error.value.code == Code.INSUFFICIENT_POINTS
    assert selectors.points_balance(user=user) == 5
    assert PointsEntry.objects.filter(user=user).count() == 1


def test_database_refuses_a_negative_balance(user):
    from django.db import IntegrityError, transaction

    from membership.models import PointsAccount

    PointsAccountFactory(user=user, balance=5)
    with pytest.raises(IntegrityError), transaction.atomic():
        PointsAccount.objects.filter(user=user).update(balance=-1)


def test_the_database_allows_one_refund_per_charge(user):
    from django.db import IntegrityError, transaction

    from membership.models import ChargeRefund

    charge = services.quota_consume(user=user)
    services.quota_refund(charge=charge)

    with pytest.raises(IntegrityError), transaction.atomic():
        ChargeRefund.objects.create(charge=charge)
    assert ChargeRefund.objects.filter(charge=charge).count() == 1
