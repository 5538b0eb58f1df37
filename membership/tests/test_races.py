"""Races on PostgreSQL with real threads: the quota never goes over, points never negative, refunds once."""

import pytest
from django.db import close_old_connections

from membership import selectors, services
from membership.models import Charge, DailyUsage, PointsEntry
from tunee.api.errors import ApiError
from tunee.testing import race as run_together
from tunee.testing import split

from .factories import DailyUsageFactory, PointsAccountFactory

# serialized_rollback: a transactional test empties every table, the seeded plans too; this puts them back.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def race(n, fn):
    """Run fn() in n threads released together; returns (results, errors)."""
    results, errors = split(run_together(*[fn] * n, timeout=30))
    close_old_connections()
    return results, errors


def test_twenty_concurrent_consumes_against_three_remaining(user):
    results, errors = race(20, lambda: services.quota_consume(user=user))

    assert len(results) == 3
    assert len(errors) == 17 and all(isinstance(e, ApiError) and e.code.code == 40004 for e in errors)
    assert DailyUsage.objects.get(user=user).used == 3
    assert Charge.objects.filter(user=user).count() == 3


def test_concurrent_consumes_spending_points_never_go_negative(user):
    PointsAccountFactory(user=user, balance=35)
    DailyUsageFactory(user=user, used=3)

    results, errors = race(12, lambda: services.quota_consume(user=user))

    assert len(results) == 3  # 35 points pay for 3 generations at 10
    assert all(isinstance(e, ApiError) for e in errors)
    assert selectors.points_balance(user=user) == 5
    assert PointsEntry.objects.filter(user=user, reason="generation").count() == 3


def test_concurrent_point_spends_never_go_negative(user):
    PointsAccountFactory(user=user, balance=50)

    results, errors = race(16, lambda: services.points_spend(user=user, amount=7, reason=PointsEntry.Reason.GENERATION))

    assert len(results) == 7 and len(errors) == 9
    assert selectors.points_balance(user=user) == 1
    balances = sorted(PointsEntry.objects.filter(user=user, amount=-7).values_list("balance", flat=True))
    assert balances == [1, 8, 15, 22, 29, 36, 43]


def test_concurrent_refunds_of_one_charge_refund_once(user):
    PointsAccountFactory(user=user, balance=10)
    DailyUsageFactory(user=user, used=3)
    charge = services.quota_consume(user=user)

    results, errors = race(8, lambda: services.quota_refund(charge=Charge.objects.get(pk=charge.pk)))

    assert not errors
    assert sorted(results) == [False] * 7 + [True]
    assert selectors.points_balance(user=user) == 10
