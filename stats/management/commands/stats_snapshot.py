"""`manage.py stats_snapshot --date YYYY-MM-DD [--to YYYY-MM-DD] [--dry-run]`: store (backfill) daily snapshots."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from stats import selectors, services


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"not a date (YYYY-MM-DD): {value!r}") from None


class Command(BaseCommand):
    help = "Compute and store the daily statistics snapshot of a business day, or of each day of a range."

    def add_arguments(self, parser):
        parser.add_argument("--date", required=True, type=_date, help="the (first) business day, YYYY-MM-DD")
        parser.add_argument("--to", type=_date, help="the last day of the range, inclusive (default: --date)")
        parser.add_argument("--dry-run", action="store_true", help="compute and report, store nothing")

    def handle(self, *args, date: dt.date, to: dt.date | None, dry_run: bool, **options):
        last = to or date
        today = selectors.business_today()
        if last < date:
            raise CommandError(f"--to {last} is before --date {date}")
        if last >= today:
            raise CommandError(f"{last} is not over yet (today is {today}): only finished days are snapshotted")
        days = services.day_range(date, last)
        created = updated = 0
        active = revenue = 0
        for day in days:
            if dry_run:
                figures = selectors.day_figures(day=day)
                exists = selectors.snapshot_map(start=day, end=day)
                created, updated = created + (not exists), updated + bool(exists)
            else:
                snapshot, new = services.snapshot_day(day=day)
                figures = selectors.DayFigures.from_snapshot(snapshot)
                created, updated = created + new, updated + (not new)
            active += figures.active_users
            revenue += figures.revenue_fen
        verb = "would store" if dry_run else "stored"
        span = f"{date}" if date == last else f"{date}..{last}"
        self.stdout.write(
            f"{'[dry run] ' if dry_run else ''}stats_snapshot {span}: {verb} {len(days)} day(s) "
            f"({created} new, {updated} replaced); active users {active} (sum of days), revenue {revenue} fen"
        )
