"""Reads of membership, quota and points state.

A lapsed membership reads as free everywhere, without a cron: validity is always `expires_at > now`.
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import DateField, F, FilteredRelation, Q, QuerySet, Subquery, Value
from django.utils import timezone

from tunee import localcache
from tunee.api.errors import ApiError, Code

from .models import DailyUsage, Membership, Plan, PointPackage, PointsAccount, PointsEntry

PLANS_CACHE_KEY = "membership:plans:v1"
PACKAGES_CACHE_KEY = "membership:packages:v1"
CATALOG_TTL = 300


def business_today() -> date:
    """The business day (TIME_ZONE, Asia/Shanghai by default): daily quotas reset at its midnight."""
    return timezone.localdate()


# --- catalog (cached; the admin invalidates through services.catalog_changed) ------------------------------------


def plans() -> list[dict]:
    """Every plan row as a dict (free included), ordered by rank."""
    return localcache.cached(PLANS_CACHE_KEY, _load_plans, ttl=CATALOG_TTL)


def _load_plans() -> list[dict]:
    return list(
        Plan.objects.order_by("rank").values(
            "id", "type", "name", "price_fen", "duration_days", "daily_limit", "features", "rank", "is_active"
        )
    )


def plan_by_type(plan_type: str) -> dict | None:
    return next((plan for plan in plans() if plan["type"] == plan_type), None)


def plan_ranks() -> dict[str, int]:
    return {plan["type"]: plan["rank"] for plan in plans()}


def purchasable_plans() -> list[dict]:
    return [plan for plan in plans() if plan_on_sale(plan)]


def packages() -> list[dict]:
    """Active point packages, cheapest first."""
    return localcache.cached(PACKAGES_CACHE_KEY, _load_packages, ttl=CATALOG_TTL)


def _load_packages() -> list[dict]:
    rows = PointPackage.objects.order_by("sort_order", "price_fen").values(
        "id", "name", "points", "price_fen", "is_active"
    )
    return [{key: value for key, value in row.items() if key != "is_active"} for row in rows if package_on_sale(row)]


# --- membership state ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MembershipState:
    level: str
    is_valid: bool  # a paid membership is running (Photo Song's isVIP)
    started_at: datetime | None
    expires_at: datetime | None
    custom_daily_limit: int | None


def membership_state(*, user) -> MembershipState:
    row = Membership.objects.filter(user=user).first() if user.pk else None
    if row is None:
        return _state_of(None, None, None, None)
    return _state_of(row.level, row.started_at, row.expires_at, row.custom_daily_limit)


def membership_state_with(*, user, **annotations) -> tuple[MembershipState, dict]:
    """`membership_state` and, in the same query, the values of `annotations` (expressions over the user row,
    e.g. a count of the user's rows elsewhere): one round trip where a write path needs both."""
    names = ("membership__level", "membership__started_at", "membership__expires_at", "membership__custom_daily_limit")
    row = get_user_model().objects.filter(pk=user.pk).values(*names).annotate(**annotations).first() or {}
    state = _state_of(*(row.get(name) for name in names))
    return state, {name: row.get(name) for name in annotations}


def is_member(*, user) -> bool:
    """Members get the priority queue and high-quality audio."""
    return membership_state(user=user).is_valid


MEMBERSHIP_COLUMNS = ("member_level", "member_expires")


def with_membership_columns(queryset: QuerySet, *, user) -> QuerySet:
    """`queryset` with `user`'s membership level and end in every row (MEMBERSHIP_COLUMNS; one uncorrelated
    subquery each, computed once by the database): a list that shows members more reads it in its own query.
    `is_member_by(level, expires)` answers `is_member` from them."""
    mine = Membership.objects.filter(user=user)
    return queryset.annotate(
        member_level=Subquery(mine.values("level")[:1]), member_expires=Subquery(mine.values("expires_at")[:1])
    )


def is_member_by(level, expires) -> bool:
    """`is_member` from the MEMBERSHIP_COLUMNS of a row (`with_membership_columns`)."""
    return _state_of(level, None, expires, None).is_valid


def limit_for(state: MembershipState) -> int:
    """The daily limit a membership state gives: the personal one staff set, else the plan's."""
    if state.custom_daily_limit is not None:
        return state.custom_daily_limit
    plan = plan_by_type(state.level) or plan_by_type(Plan.Type.FREE)
    return plan["daily_limit"] if plan else 0


def daily_limit(*, user) -> int:
    """Generations a day before extras: the personal limit staff set, else the plan's."""
    return limit_for(membership_state(user=user))


def points_balance(*, user) -> int:
    return PointsAccount.objects.filter(user=user).values_list("balance", flat=True).first() or 0


@dataclass(frozen=True)
class QuotaStatus:
    day: date
    daily_limit: int  # the plan's or personal limit plus today's extras
    used: int
    remaining: int
    membership: MembershipState
    points: int


# What quota_status needs, read with the user row in one query (`with_entitlements`): the membership, today's usage
# and the points balance, joined to the user.
ENTITLEMENT_FIELDS = ("ent_level", "ent_started", "ent_expires", "ent_custom", "ent_points", "ent_used", "ent_extra")


def with_entitlements(users: QuerySet, *, day: date | None = None) -> QuerySet:
    """`users` annotated with their membership, points and usage of `day` (default today): one query answers both the
    user rows and `quota_status` of each (it reads the annotations instead of querying again)."""
    day = day or business_today()
    return users.annotate(
        ent_today=FilteredRelation("daily_usage", condition=Q(daily_usage__day=day)),
        ent_level=F("membership__level"),
        ent_started=F("membership__started_at"),
        ent_expires=F("membership__expires_at"),
        ent_custom=F("membership__custom_daily_limit"),
        ent_points=F("points_account__balance"),
        ent_used=F("ent_today__used"),
        ent_extra=F("ent_today__extra"),
        ent_day=Value(day, output_field=DateField()),
    )


def _state_of(level, started, expires, custom) -> MembershipState:
    if level and expires and expires > timezone.now():
        return MembershipState(level, True, started, expires, custom)
    return MembershipState(Plan.Type.FREE, False, None, None, custom)


# `with_entitlements` in SQL, for the hot reads (GET /generation/quota, GET /user/me; bench/http.py): the same left
# joins without building the ORM query on every request. Table names come from the models; every value is a
# parameter. PostgreSQL only (its driver returns aware datetimes); other databases take the ORM path.
ENTITLEMENT_COLUMNS = (
    "m.level AS ent_level, m.started_at AS ent_started, m.expires_at AS ent_expires, "
    "m.custom_daily_limit AS ent_custom, p.balance AS ent_points, d.used AS ent_used, d.extra AS ent_extra"
)


def entitlement_joins(user_column: str) -> str:
    """The joins behind ENTITLEMENT_COLUMNS for the user id in `user_column`; one parameter: the day."""
    return (
        f"LEFT JOIN {Membership._meta.db_table} m ON m.user_id = {user_column} "
        f"LEFT JOIN {PointsAccount._meta.db_table} p ON p.user_id = {user_column} "
        f"LEFT JOIN {DailyUsage._meta.db_table} d ON d.user_id = {user_column} AND d.day = %s"
    )


_ENTITLEMENTS_SQL = f"SELECT {ENTITLEMENT_COLUMNS} FROM (SELECT %s AS uid) AS b {entitlement_joins('b.uid')}"  # noqa: S608  # nosec B608


def _entitlements_sql(user_id, day: date) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(_ENTITLEMENTS_SQL, [user_id, day])
        values = cursor.fetchone()
    return dict(zip(ENTITLEMENT_FIELDS, values, strict=True))


def quota_status(*, user) -> QuotaStatus:
    """Today's quota, membership and points of `user`, in one query (none when `user` came from
    `with_entitlements` for today)."""
    day = business_today()
    if getattr(user, "ent_day", None) == day:
        row = {name: getattr(user, name) for name in ENTITLEMENT_FIELDS}
    elif connection.vendor == "postgresql":
        row = _entitlements_sql(user.pk, day)
    else:
        users = get_user_model().objects.filter(pk=user.pk)
        row = with_entitlements(users, day=day).values(*ENTITLEMENT_FIELDS).first() or {}
    state = _state_of(row.get("ent_level"), row.get("ent_started"), row.get("ent_expires"), row.get("ent_custom"))
    used, extra = row.get("ent_used") or 0, row.get("ent_extra") or 0
    limit = limit_for(state) + extra
    return QuotaStatus(
        day=day,
        daily_limit=limit,
        used=used,
        remaining=max(0, limit - used),
        membership=state,
        points=row.get("ent_points") or 0,
    )


def quota_ensure_payable(*, user) -> None:
    """Answer 40004 now, with the details of the real charge (`services.quota_consume`), when `user` could not pay
    one generation: no unit of today's quota left and fewer than GENERATION_POINTS_COST points (or paying with
    points turned off). Read-only, for refusing costly requests (a photo upload) before their work is done; the
    charge itself still decides, in its transaction, however many requests race."""
    status = quota_status(user=user)
    cost = settings.GENERATION_POINTS_COST
    if status.remaining > 0 or (cost > 0 and status.points >= cost):
        return
    raise ApiError(Code.QUOTA_EXHAUSTED, details={"remaining_today": 0, "points": status.points, "points_cost": cost})


def points_history(*, user):
    return PointsEntry.objects.filter(user=user).order_by("-created_at", "-id")


# --- what can be bought: the one rule (the catalog above and payments' orders both ask here) --------------------

PLAN_NOT_FOR_SALE = "this plan cannot be bought"
PACKAGE_NOT_FOR_SALE = "this package cannot be bought"


def plan_on_sale(plan: Plan | dict) -> bool:
    """Whether a plan (a row, or a catalog dict from `plans()`) can be bought: active, and not the free plan."""
    if isinstance(plan, dict):
        return bool(plan["is_active"]) and plan["type"] != Plan.Type.FREE
    return bool(plan.is_active) and not plan.is_free


def package_on_sale(package: PointPackage | dict) -> bool:
    """Whether a point package (a row, or a dict with `is_active`) can be bought: active."""
    return bool(package["is_active"] if isinstance(package, dict) else package.is_active)


def plan_to_buy(*, plan_type: str) -> Plan:
    """The plan a membership order buys; 40001 when there is none of that type or it is not (or no longer) on
    sale."""
    plan = Plan.objects.filter(type=plan_type).first()
    if plan is None or not plan_on_sale(plan):
        raise ApiError(Code.PURCHASE_FAILED, details={"type": [PLAN_NOT_FOR_SALE]})
    return plan


def package_to_buy(*, package_id) -> PointPackage:
    """The point package an order buys; 40001 when it is unknown or withdrawn."""
    package = PointPackage.objects.filter(pk=package_id).first()
    if package is None or not package_on_sale(package):
        raise ApiError(Code.PURCHASE_FAILED, details={"packageId": ["unknown package"]})
    return package


def ensure_on_sale(*, plan: Plan | None = None, package: PointPackage | None = None) -> None:
    """40001 unless the plan or package the caller holds can (still) be bought."""
    if plan is not None and not plan_on_sale(plan):
        raise ApiError(Code.PURCHASE_FAILED, details={"type": [PLAN_NOT_FOR_SALE]})
    if package is not None and not package_on_sale(package):
        raise ApiError(Code.PURCHASE_FAILED, details={"packageId": [PACKAGE_NOT_FOR_SALE]})
