"""The daily snapshot: an idempotent upsert of one row per day, filled by the beat job, by `manage.py
stats_snapshot` (backfill) and by the dashboard for past days it finds missing."""

import datetime as dt
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from stats import selectors, services, tasks
from stats.models import DailySnapshot
from stats.tests.helpers import at, generation, login, order, person
from tunee import queues
from tunee.api.errors import ApiError
from tunee.celery import app as celery_app

pytestmark = pytest.mark.django_db
FEB_1 = dt.date(2025, 2, 1)


@pytest.fixture
def feb_1_activity():
    late = person(at(2025, 1, 31, 23, 30))
    login(late, at(2025, 2, 1, 9))
    generation(late, at(2025, 2, 1, 9, 5))
    order(late, created=at(2025, 2, 1, 9, 10), paid=at(2025, 2, 1, 9, 11), amount_fen=1990)
    return late


def test_snapshot_day_stores_the_figures_once_however_often_it_runs(feb_1_activity):
    first, created = services.snapshot_day(day=FEB_1)
    assert created
    assert (first.active_users, first.revenue_fen, first.conversions) == (1, 1990, 1)
    assert first.retention["d1"] == {"cohort_day": "2025-01-31", "size": 1, "retained": 1}

    again, created_again = services.snapshot_day(day=FEB_1)

    assert not created_again
    assert DailySnapshot.objects.filter(day=FEB_1).count() == 1
    assert again.pk == first.pk
    assert selectors.DayFigures.from_snapshot(again).stored_values() == selectors.day_figures(day=FEB_1).stored_values()


def test_a_second_snapshot_picks_up_late_changes(feb_1_activity):
    services.snapshot_day(day=FEB_1)
    generation(person(at(2025, 1, 1)), at(2025, 2, 1, 22))  # arrived after the first run (e.g. a late import)

    snapshot, created = services.snapshot_day(day=FEB_1)

    assert not created
    assert snapshot.active_users == 2
    assert DailySnapshot.objects.get(day=FEB_1).generations["pending"] == 2


def test_today_and_later_days_are_not_snapshotted():
    today = timezone.localdate()
    for day in (today, today + dt.timedelta(days=3)):
        with pytest.raises(ApiError):
            services.snapshot_day(day=day)
    assert not DailySnapshot.objects.exists()


def test_the_range_stores_missing_past_days_and_computes_today_live():
    today = timezone.localdate()
    services.snapshot_day(day=today - dt.timedelta(days=2))

    days = services.figures_for_range(start=today - dt.timedelta(days=2), end=today + dt.timedelta(days=5))

    assert [d.day for d in days] == [today - dt.timedelta(days=n) for n in (2, 1, 0)]  # no day after today
    assert [d.live for d in days] == [False, False, True]
    assert set(DailySnapshot.objects.values_list("day", flat=True)) == {today - dt.timedelta(days=n) for n in (2, 1)}


def test_the_beat_job_snapshots_yesterday_on_the_stats_queue():
    entry = settings.CELERY_BEAT_SCHEDULE["stats-snapshot-yesterday"]
    assert entry["task"] == "stats.snapshot_yesterday"
    assert entry["options"]["queue"] == queues.STATS == "stats"
    assert "stats.snapshot_yesterday" in celery_app.tasks

    tasks.snapshot_yesterday()
    tasks.snapshot_yesterday()  # a second delivery changes nothing

    assert list(DailySnapshot.objects.values_list("day", flat=True)) == [timezone.localdate() - dt.timedelta(days=1)]


def run(*args) -> str:
    out = StringIO()
    call_command("stats_snapshot", *args, stdout=out)
    return out.getvalue().strip()


def test_the_command_backfills_a_range(feb_1_activity):
    services.snapshot_day(day=FEB_1)

    summary = run("--date", "2025-01-30", "--to", "2025-02-01")

    assert summary == (
        "stats_snapshot 2025-01-30..2025-02-01: stored 3 day(s) (2 new, 1 replaced); "
        "active users 1 (sum of days), revenue 1990 fen"
    )
    assert list(DailySnapshot.objects.order_by("day").values_list("day", "active_users")) == [
        (dt.date(2025, 1, 30), 0),
        (dt.date(2025, 1, 31), 0),  # `late` joined on Jan 31 but did nothing that day
        (FEB_1, 1),
    ]


def test_the_command_with_dry_run_stores_nothing(feb_1_activity):
    summary = run("--date", "2025-02-01", "--dry-run")

    assert summary == (
        "[dry run] stats_snapshot 2025-02-01: would store 1 day(s) (1 new, 0 replaced); "
        "active users 1 (sum of days), revenue 1990 fen"
    )
    assert not DailySnapshot.objects.exists()


def test_the_command_refuses_unfinished_days_and_backward_ranges():
    with pytest.raises(CommandError, match="not over yet"):
        run("--date", timezone.localdate().isoformat())
    with pytest.raises(CommandError, match="before --date"):
        run("--date", "2025-02-01", "--to", "2025-01-01")
    with pytest.raises(CommandError, match="not a date"):
        run("--date", "01/02/2025")
    assert not DailySnapshot.objects.exists()
