"""Writes of the statistics: the daily snapshot (an idempotent upsert) and the range the dashboard shows."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from tunee.api.errors import ApiError, Code

from . import selectors
from .models import DailySnapshot
from .selectors import DayFigures


def _refuse_unfinished(day: dt.date) -> None:
    today = selectors.business_today()
    if day >= today:
        raise ApiError(
            Code.VALIDATION,
            f"{day} is not over yet (today is {today}): only finished business days are snapshotted",
            details={"day": day.isoformat(), "today": today.isoformat()},
        )


@transaction.atomic
def snapshot_day(*, day: dt.date) -> tuple[DailySnapshot, bool]:
    """Compute `day`'s figures and store them: created, or the day's row replaced (running it again for a day gives
    the same one row, with figures recomputed). Returns (snapshot, created). Refuses today and later days, whose
    figures are not final (the dashboard computes today live)."""
    _refuse_unfinished(day)
    figures = selectors.day_figures(day=day)
    return DailySnapshot.objects.update_or_create(
        day=day, defaults={**figures.stored_values(), "computed_at": timezone.now()}
    )


def snapshot_yesterday() -> tuple[DailySnapshot, bool]:
    """The beat job's work: the business day that just ended."""
    return snapshot_day(day=selectors.business_today() - dt.timedelta(days=1))


def day_range(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]


def figures_for_range(*, start: dt.date, end: dt.date) -> list[DayFigures]:
    """The figures of every day start..end (inclusive), oldest first: past days from their snapshots (computed and
    stored when missing, so history is computed once), today live and never stored, no day after today."""
    today = selectors.business_today()
    end = min(end, today)
    stored = selectors.snapshot_map(start=start, end=end)
    figures = []
    for day in day_range(start, end):
        if day >= today:
            figures.append(selectors.day_figures(day=day))
        elif day in stored:
            figures.append(DayFigures.from_snapshot(stored[day]))
        else:
            snapshot, _ = snapshot_day(day=day)
            figures.append(DayFigures.from_snapshot(snapshot))
    return figures
