"""A day's figures against hand-made rows: business days are Shanghai days, so rows a few minutes either side of
Shanghai's midnight (which is 16:00 UTC) land on the right day, across the January → February boundary."""

import datetime as dt

import pytest

from accounts.models import User
from generation.models import Generation
from stats import selectors
from stats.tests.helpers import at, generation, like, login, order, person, work

JAN_31 = dt.date(2025, 1, 31)
FEB_1 = dt.date(2025, 2, 1)

pytestmark = pytest.mark.django_db


@pytest.fixture
def month_boundary():
    """Who did what around midnight between Jan 31 and Feb 1 (Shanghai)."""
    owner = person(at(2024, 12, 1))
    liked = work(owner, at(2025, 1, 15))
    d30 = person(at(2025, 1, 2, 10))  # the D30 cohort of Feb 1; does nothing on Feb 1
    week = person(at(2025, 1, 25, 9))  # the D7 cohort of Feb 1; likes a work on Feb 1
    like(week, liked, at(2025, 2, 1, 20))
    generation(week, at(2025, 2, 2, 0, 5))  # Feb 2 in Shanghai although still Feb 1 in UTC: not counted on Feb 1
    late = person(at(2025, 1, 31, 23, 30))  # 15:30 UTC Jan 31: a January signup, the D1 cohort of Feb 1
    login(late, at(2025, 1, 31, 23, 31))
    generation(late, at(2025, 2, 1, 0, 10), status=Generation.Status.COMPLETED, provider="suno")  # 16:10 UTC Jan 31
    order(late, created=at(2025, 2, 1, 0, 15), paid=at(2025, 2, 1, 0, 20))  # first payment, Feb 1 (Jan 31 in UTC)
    midnight = person(at(2025, 2, 1, 0, 30))  # Jan 31 in UTC, a February signup here
    login(midnight, at(2025, 2, 1, 0, 30))
    generation(midnight, at(2025, 2, 1, 8), status=Generation.Status.FAILED, provider="suno")
    generation(midnight, at(2025, 2, 1, 9), status=Generation.Status.FAILED)  # failed before any provider ran
    work(midnight, at(2025, 2, 1, 10))  # its own generation is pending, no provider yet
    payer = person(at(2025, 1, 10))  # paid in January: neither a conversion nor in the base on Feb 1
    order(payer, created=at(2025, 1, 20, 10), paid=at(2025, 1, 20, 10, 5), refunded=at(2025, 2, 1, 15), method="alipay")
    order(payer, created=at(2025, 2, 1, 23, 40), paid=at(2025, 2, 1, 23, 50), method="alipay", amount_fen=19900)
    return {"owner": owner, "d30": d30, "week": week, "late": late, "midnight": midnight, "payer": payer}


def test_new_and_active_users_follow_the_shanghai_day(month_boundary):
    jan_31 = selectors.day_figures(day=JAN_31)
    feb_1 = selectors.day_figures(day=FEB_1)

    assert jan_31.new_users == 1  # `late`; `midnight` joined on Jan 31 in UTC but Feb 1 here
    assert feb_1.new_users == 1
    assert jan_31.active_users == 1  # `late` logged in at 23:31
    # week (like), late (generation, order), midnight (login, generations, work), payer (order); not d30, not owner
    assert feb_1.active_users == 4


def test_generations_by_outcome_and_provider(month_boundary):
    feb_1 = selectors.day_figures(day=FEB_1)

    assert feb_1.generations == {"pending": 1, "processing": 0, "completed": 1, "failed": 2}
    assert feb_1.providers == {
        "suno": {"total": 2, "completed": 1, "failed": 1},
        "unassigned": {"total": 2, "completed": 0, "failed": 1},
    }
    assert feb_1.failure_rate("suno") == 0.5
    assert feb_1.works_created == 1
    assert selectors.day_figures(day=JAN_31).generations_total == 0  # 00:10 Shanghai is Feb 1, not Jan 31


def test_orders_and_revenue_per_payment_method(month_boundary):
    feb_1 = selectors.day_figures(day=FEB_1)

    assert feb_1.payments["wechat"] == {"orders": 1, "paid": 1, "revenue_fen": 1990, "refunds": 0, "refunded_fen": 0}
    assert feb_1.payments["alipay"] == {
        "orders": 1,
        "paid": 1,
        "revenue_fen": 19900,
        "refunds": 1,  # January's order, refunded on Feb 1
        "refunded_fen": 1990,
    }
    assert feb_1.revenue_fen == 21890
    assert selectors.day_figures(day=JAN_31).revenue_fen == 0  # 00:20 Shanghai on Feb 1 is 16:20 UTC on Jan 31


def test_free_to_paid_conversion(month_boundary):
    feb_1 = selectors.day_figures(day=FEB_1)
    jan_31 = selectors.day_figures(day=JAN_31)

    assert feb_1.conversions == 1  # `late`; `payer` had paid in January
    assert feb_1.conversion_base == 3  # the four active users but `payer`
    assert feb_1.conversion_rate == pytest.approx(1 / 3)
    assert jan_31.conversions == 0
    assert selectors.day_figures(day=dt.date(2025, 1, 20)).conversions == 1  # `payer`'s first payment


def test_retention_cohorts_across_the_month_boundary(month_boundary):
    feb_1 = selectors.day_figures(day=FEB_1)

    assert feb_1.retention == {
        "d1": {"cohort_day": "2025-01-31", "size": 1, "retained": 1},  # `late` only: `midnight` joined on Feb 1
        "d7": {"cohort_day": "2025-01-25", "size": 1, "retained": 1},
        "d30": {"cohort_day": "2025-01-02", "size": 1, "retained": 0},
    }
    assert feb_1.retention_rate(1) == 1.0
    assert feb_1.retention_rate(30) == 0.0
    # Seen from Jan 31, `late` is not anybody's cohort yet and the D1 cohort (Jan 30) is empty: no rate, not 0 %.
    assert selectors.day_figures(day=JAN_31).retention_rate(1) is None


def test_a_django_login_and_a_token_refresh_count_as_activity():
    by_login = person(at(2025, 1, 1))
    User.objects.filter(pk=by_login.pk).update(last_login=at(2025, 2, 1, 7))
    by_refresh = person(at(2025, 1, 1))
    session = login(by_refresh, at(2025, 1, 5))
    type(session).objects.filter(pk=session.pk).update(last_refreshed_at=at(2025, 2, 1, 23, 59))

    assert selectors.day_figures(day=FEB_1).active_users == 2
    assert selectors.day_figures(day=JAN_31).active_users == 0


def test_a_day_without_anything_has_zeros_and_no_rates():
    figures = selectors.day_figures(day=dt.date(2020, 3, 1))

    assert (figures.active_users, figures.new_users, figures.revenue_fen) == (0, 0, 0)
    assert figures.generations == {"pending": 0, "processing": 0, "completed": 0, "failed": 0}
    assert figures.conversion_rate is None
    assert figures.retention_rate(7) is None
