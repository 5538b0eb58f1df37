"""POST /api/generation/create under contention, on PostgreSQL with real threads: the quota is exact.

Twelve requests of one user race for a day's quota (and, once it is used up, for points): exactly as many pass as
the quota and the points pay for, each one charged once, and the others are refused with 40004.
"""

from functools import partial

import pytest

from accounts.tests.clients import client_for
from accounts.tests.factories import UserFactory
from generation.models import Generation
from membership.models import Charge, DailyUsage, PointsAccount
from membership.models import PointsEntry as Entry
from membership.services import points_credit, quota_set_daily_limit
from tunee.testing import race_results

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
RACERS = 12


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch, settings):
    from generation import tasks

    monkeypatch.setattr(tasks.generation_run, "apply_async", lambda *args, **kwargs: None)
    settings.GENERATION_IN_FLIGHT_FREE = 100  # the quota is what is raced for here, not the in-flight limit
    settings.GENERATION_IN_FLIGHT_MEMBER = 100
    settings.THROTTLE_GENERATION_RATE = "1000/min"


def _race(person) -> list:
    clients = [client_for(person) for _ in range(RACERS)]
    post = [partial(c.post, "/api/generation/create", {"prompt": "雨后的城市"}, format="json") for c in clients]
    return race_results(*post)


def _codes(responses) -> list:
    return sorted(r.json()["code"] for r in responses)


def test_twelve_creates_against_a_quota_of_five_pass_five_times():
    person = UserFactory()
    quota_set_daily_limit(user=person, limit=5, actor=None, reason="race")

    responses = _race(person)

    assert _codes(responses) == [0] * 5 + [40004] * 7
    left = sorted(r.json()["data"]["quota"]["remaining"] for r in responses if r.status_code == 201)
    assert left == [0, 1, 2, 3, 4]
    assert DailyUsage.objects.get(user=person).used == 5
    assert Generation.objects.filter(user=person).count() == 5
    assert Charge.objects.filter(user=person, kind=Charge.Kind.QUOTA).count() == 5


def test_once_the_quota_is_used_up_the_racers_pay_with_points_exactly_as_far_as_they_go(settings):
    person = UserFactory()
    quota_set_daily_limit(user=person, limit=3, actor=None, reason="race")
    points_credit(user=person, amount=2 * settings.GENERATION_POINTS_COST, reason=Entry.Reason.PURCHASE, reference="t")

    responses = _race(person)

    assert _codes(responses) == [0] * 5 + [40004] * 7
    charged = sorted(r.json()["data"]["chargedWith"] for r in responses if r.status_code == 201)
    assert charged == ["points"] * 2 + ["quota"] * 3
    assert DailyUsage.objects.get(user=person).used == 3
    assert PointsAccount.objects.get(user=person).balance == 0
    assert Charge.objects.filter(user=person).count() == Generation.objects.filter(user=person).count() == 5
