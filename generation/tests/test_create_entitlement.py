"""The one-statement create (PostgreSQL) works out membership and the daily limit in SQL; it must agree with
`membership.selectors` (is_member, quota_status) in every state a user can be in."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import UserFactory
from generation.services import generation_create
from membership.models import Membership, Plan
from membership.selectors import is_member, quota_status
from membership.services import membership_extend, quota_set_daily_limit

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _free():
    return UserFactory()


def _member():
    person = UserFactory()
    membership_extend(user=person, plan=Plan.objects.get(type="monthly"), source="test")
    return person


def _lapsed():
    person = UserFactory()
    now = timezone.now()
    Membership.objects.create(
        user=person, level="monthly", started_at=now - timedelta(days=40), expires_at=now - timedelta(days=10)
    )
    return person


def _free_with_own_limit():
    person = UserFactory()
    quota_set_daily_limit(user=person, limit=7, actor=None, reason="test")
    return person


def _member_with_own_limit():
    person = _member()
    quota_set_daily_limit(user=person, limit=2, actor=None, reason="test")
    return person


@pytest.mark.parametrize("make", [_free, _member, _lapsed, _free_with_own_limit, _member_with_own_limit])
def test_the_statement_reads_membership_and_the_limit_as_the_selectors_do(make, settings):
    settings.GENERATION_IN_FLIGHT_FREE = settings.GENERATION_IN_FLIGHT_MEMBER = 10
    person = make()
    expected_limit = quota_status(user=person).daily_limit

    with CaptureQueriesContext(connection) as captured:
        generation = generation_create(user=person, prompt="a song", enqueue=False)

    assert any("pg_advisory_xact_lock" in q["sql"] and "entitled" in q["sql"] for q in captured.captured_queries)
    assert generation.priority is is_member(user=person)
    assert generation.charge.quota_after.daily_limit == expected_limit
    assert quota_status(user=person).used == 1
