"""The business figures of one day, computed from the source tables with aggregate queries (a dozen per day).

Definitions (every "day" is a business day: midnight to midnight in settings.TIME_ZONE, Asia/Shanghai by default,
as the daily quotas; a signup at 23:30 Shanghai time on Jan 31 is a January signup although it is 15:30 UTC):

- **new users**: accounts whose `date_joined` falls in the day.
- **active users**: distinct users who, that day, did at least one of: logged in (a login session created, or
  `last_login` set, by any method), refreshed a login session's tokens (`last_refreshed_at`), started a
  generation, created a work, liked a work, favourited a song, created an order or had one paid. Plays are not
  counted: the play counter is kept per client address, not per user (works.services.work_play), so a play has no
  user to count. A session keeps only its *last* refresh and a user only their last login, so a day whose activity
  was only token refreshes is fully known only until the next refresh: the daily snapshot (taken just after
  midnight by the beat job) freezes it.
- **generations by outcome**: generations created that day, by their status when counted (a generation started
  at 23:59 may still be processing when the snapshot is taken: it shows as such).
- **generations by provider**: the same generations by the provider that ran them ("unassigned" when none was
  chosen yet, or it failed before one was), each with total / completed / failed. The provider failure rate is
  failed / (completed + failed).
- **works created**: works whose `created_at` falls in the day.
- **orders by payment method**: orders created that day (`orders`), paid that day (`paid`, `revenue_fen`: the
  amounts in integer fen, gross), refunded that day (`refunds`, `refunded_fen`). `revenue_fen` of the day is the
  total paid over every method.
- **free → paid conversions**: users whose first payment ever (the earliest `paid_at` of their paid or later
  refunded orders, any kind) falls in the day; `conversion_base` is the active users who had never paid before
  the day began. The conversion rate is conversions / conversion_base. Having an order paid is an activity, so
  every conversion is in the base.
- **retention D1 / D7 / D30**: for N in 1, 7, 30 the cohort is the users who joined N days before the day
  (calendar days, business time zone) and `retained` those of them active on the day; the rate is retained / size.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Count, Min, Q, Sum
from django.utils import timezone

from accounts.models import LoginSession
from generation.models import Favorite, Generation
from payments.models import Order
from works.models import Like, Work

from .models import DailySnapshot

RETENTION_DAYS = (1, 7, 30)
DEFAULT_DAYS = 30  # the dashboard's range when none is asked for
MAX_DAYS = 366  # the longest range the dashboard shows (missing snapshots are computed on the way)
UNASSIGNED = "unassigned"
PAID_STATUSES = (Order.Status.PAID, Order.Status.REFUNDED)  # a refunded order was paid first


@dataclass
class DayFigures:
    """A day's figures; the fields are DailySnapshot's (JSON breakdowns as plain dicts).

    generations: {status: count} for every Generation.Status
    providers:   {provider: {"total": n, "completed": n, "failed": n}}
    payments:    {method: {"orders": n, "paid": n, "revenue_fen": n, "refunds": n, "refunded_fen": n}} per method
    retention:   {"d1": {"cohort_day": "YYYY-MM-DD", "size": n, "retained": n}, "d7": …, "d30": …}
    """

    day: dt.date
    active_users: int = 0
    new_users: int = 0
    generations: dict = field(default_factory=dict)
    providers: dict = field(default_factory=dict)
    works_created: int = 0
    payments: dict = field(default_factory=dict)
    revenue_fen: int = 0
    conversions: int = 0
    conversion_base: int = 0
    retention: dict = field(default_factory=dict)
    live: bool = False  # computed on the fly for today (never stored)

    FIELDS = (
        "active_users",
        "new_users",
        "generations",
        "providers",
        "works_created",
        "payments",
        "revenue_fen",
        "conversions",
        "conversion_base",
        "retention",
    )

    @classmethod
    def from_snapshot(cls, snapshot: DailySnapshot) -> DayFigures:
        return cls(day=snapshot.day, **{name: getattr(snapshot, name) for name in cls.FIELDS})

    def stored_values(self) -> dict:
        """What DailySnapshot stores (everything but the day and `live`)."""
        values = asdict(self)
        return {name: values[name] for name in self.FIELDS}

    # --- derived figures (the dashboard's rates) -------------------------------------------------------------------
    @property
    def generations_total(self) -> int:
        return sum(self.generations.values())

    @property
    def conversion_rate(self) -> float | None:
        return ratio(self.conversions, self.conversion_base)

    def retention_rate(self, days: int) -> float | None:
        cohort = self.retention.get(f"d{days}") or {}
        return ratio(cohort.get("retained", 0), cohort.get("size", 0))

    def failure_rate(self, provider: str) -> float | None:
        row = self.providers.get(provider) or {}
        return ratio(row.get("failed", 0), row.get("completed", 0) + row.get("failed", 0))

    def method(self, method: str) -> dict:
        return self.payments.get(method) or {"orders": 0, "paid": 0, "revenue_fen": 0, "refunds": 0, "refunded_fen": 0}


def ratio(part: int, whole: int) -> float | None:
    """part / whole, or None when there is nothing to divide (shown as "–", not as 0 %)."""
    return part / whole if whole else None


def business_today() -> dt.date:
    return timezone.localdate()


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a business day as aware datetimes: midnight to midnight in settings.TIME_ZONE."""
    tz = timezone.get_default_timezone()
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min), tz)
    end = timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min), tz)
    return start, end


def active_user_q(day: dt.date) -> Q:
    """A filter on users: active on `day` (module docstring)."""
    start, end = day_bounds(day)
    within = {"__gte": start, "__lt": end}

    def during(name: str) -> dict:
        return {f"{name}{op}": value for op, value in within.items()}

    sessions = LoginSession.objects.filter(Q(**during("created_at")) | Q(**during("last_refreshed_at")))
    orders = Order.objects.filter(Q(**during("created_at")) | Q(**during("paid_at")))
    return (
        Q(**during("last_login"))
        | Q(pk__in=sessions.values("user_id"))
        | Q(pk__in=Generation.objects.filter(**during("created_at")).values("user_id"))
        | Q(pk__in=Work.objects.filter(**during("created_at")).values("creator_id"))
        | Q(pk__in=Like.objects.filter(**during("created_at")).values("user_id"))
        | Q(pk__in=Favorite.objects.filter(**during("created_at")).values("user_id"))
        | Q(pk__in=orders.values("user_id"))
    )


def joined_on(day: dt.date) -> Q:
    start, end = day_bounds(day)
    return Q(date_joined__gte=start, date_joined__lt=end)


def day_figures(*, day: dt.date) -> DayFigures:
    """Compute `day`'s figures from the source tables (definitions: module docstring)."""
    User = get_user_model()
    start, end = day_bounds(day)
    active = active_user_q(day)
    figures = DayFigures(day=day, live=day >= business_today())

    figures.active_users = User.objects.filter(active).count()
    figures.new_users = User.objects.filter(joined_on(day)).count()

    generations = Generation.objects.filter(created_at__gte=start, created_at__lt=end)
    by_status = dict(generations.values_list("status").annotate(n=Count("id")).order_by())
    figures.generations = {status: by_status.get(status, 0) for status in Generation.Status.values}
    rows = (
        generations.values("provider")
        .annotate(
            total=Count("id"),
            completed=Count("id", filter=Q(status=Generation.Status.COMPLETED)),
            failed=Count("id", filter=Q(status=Generation.Status.FAILED)),
        )
        .order_by("provider")
    )
    figures.providers = {
        row["provider"] or UNASSIGNED: {"total": row["total"], "completed": row["completed"], "failed": row["failed"]}
        for row in rows
    }

    figures.works_created = Work.objects.filter(created_at__gte=start, created_at__lt=end).count()

    def per_method(queryset, **aggregates) -> dict:
        return {row.pop("payment_method"): row for row in queryset.values("payment_method").annotate(**aggregates)}

    created = per_method(Order.objects.filter(created_at__gte=start, created_at__lt=end), n=Count("id"))
    paid = per_method(
        Order.objects.filter(status__in=PAID_STATUSES, paid_at__gte=start, paid_at__lt=end),
        n=Count("id"),
        fen=Sum("amount_fen"),
    )
    refunded = per_method(
        Order.objects.filter(status=Order.Status.REFUNDED, refunded_at__gte=start, refunded_at__lt=end),
        n=Count("id"),
        fen=Sum("amount_fen"),
    )
    figures.payments = {
        method: {
            "orders": created.get(method, {}).get("n", 0),
            "paid": paid.get(method, {}).get("n", 0),
            "revenue_fen": paid.get(method, {}).get("fen") or 0,
            "refunds": refunded.get(method, {}).get("n", 0),
            "refunded_fen": refunded.get(method, {}).get("fen") or 0,
        }
        for method in Order.Method.values
    }
    figures.revenue_fen = sum(row["revenue_fen"] for row in figures.payments.values())

    first_payments = (
        Order.objects.filter(status__in=PAID_STATUSES, paid_at__isnull=False)
        .values("user_id")
        .annotate(first=Min("paid_at"))
    )
    figures.conversions = first_payments.filter(first__gte=start, first__lt=end).count()
    paid_before = Order.objects.filter(status__in=PAID_STATUSES, paid_at__lt=start).values("user_id")
    figures.conversion_base = User.objects.filter(active).exclude(pk__in=paid_before).count()

    for days in RETENTION_DAYS:
        cohort_day = day - dt.timedelta(days=days)
        cohort = User.objects.filter(joined_on(cohort_day))
        figures.retention[f"d{days}"] = {
            "cohort_day": cohort_day.isoformat(),
            "size": cohort.count(),
            "retained": cohort.filter(active).count(),
        }
    return figures


def snapshot_map(*, start: dt.date, end: dt.date) -> dict[dt.date, DailySnapshot]:
    """The stored snapshots of the days start..end (inclusive), by day."""
    return {s.day: s for s in DailySnapshot.objects.filter(day__gte=start, day__lte=end)}


def default_range() -> tuple[dt.date, dt.date]:
    """The dashboard's range when none is asked for: the last DEFAULT_DAYS days, today included."""
    today = business_today()
    return today - dt.timedelta(days=DEFAULT_DAYS - 1), today
