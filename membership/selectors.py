"""Reads of membership, quota and points state.

A lapsed membership reads as free everywhere, without a cron: validity is always `expires_at > now`.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import DateField, F, FilteredRelation, Q, QuerySet, Value
from django.utils import timezone

from tunee.api.errors import ApiError, Code

from .models import Membership, Plan, PointPackage, PointsAccount, PointsEntry

PLANS_CACHE_KEY = "membership:plans:v1"
PACKAGES_CACHE_KEY = "membership:packages:v1"
CATALOG_TTL = 300


def business_today() -> date:
    """The business day (TIME_ZONE, Asia/Shanghai by default): daily quotas reset at its midnight."""
    return timezone.localdate()


def fen_to_yuan(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


# --- catalog (cached; the admin invalidates through services.catalog_changed) ------------------------------------


def plans() -> list[dict]:
    """Every plan row as a dict (free included), ordered by rank."""
    data = cache.get(PLANS_CACHE_KEY)
    if data is None:
        data = list(
            Plan.objects.order_by("rank").values(
                "id", "type", "name", "price_fen", "duration_days", "daily_limit", "features", "rank", "is_active"
            )
        )
        cache.set(PLANS_CACHE_KEY, data, CATALOG_TTL)
    return data


def plan_by_type(plan_type: str) -> dict | None:
    return next((plan for plan in plans() if plan["type"] == plan_type), None)


def plan_ranks() -> dict[str, int]:
    return {plan["type"]: plan["rank"] for plan in plans()}


def purchasable_plans() -> list[dict]:
    return [plan for plan in plans() if plan["is_active"] and plan["type"] != Plan.Type.FREE]


def packages() -> list[dict]:
    """Active point packages, cheapest first."""
    data = cache.get(PACKAGES_CACHE_KEY)
    if data is None:
        data = list(
            PointPackage.objects.filter(is_active=True)
            .order_by("sort_order", "price_fen")
            .values("id", "name", "points", "price_fen")
        )
        cache.set(PACKAGES_CACHE_KEY, data, CATALOG_TTL)
    return data


# --- membership state ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MembershipState:
    level: str
    is_valid: bool  # a paid membership is running (Photo Song's isVIP)
    started_at: datetime | None
    expires_at: datetime | None
    custom_daily_limit: int | None

    @property
    def is_member(self) -> bool:
        return self.is_valid


def membership_state(*, user) -> MembershipState:
    row = Membership.objects.filter(user=user).first() if user.pk else None
    if row is None:
        return _state_of(None, None, None, None)
    return _state_of(row.level, row.started_at, row.expires_at, row.custom_daily_limit)


def is_member(*, user) -> bool:
    """Members get the priority queue and high-quality audio."""
    return membership_state(user=user).is_valid


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


def quota_status(*, user) -> QuotaStatus:
    """Today's quota, membership and points of `user`, in one query (none when `user` came from
    `with_entitlements` for today)."""
    day = business_today()
    if getattr(user, "ent_day", None) == day:
        row = {name: getattr(user, name) for name in ENTITLEMENT_FIELDS}
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


def membership_dict(state: MembershipState) -> dict:
    return {
        "level": state.level,
        "isValid": state.is_valid,
        "expiresAt": state.expires_at,
        "startedAt": state.started_at,
    }


def user_entitlements(*, user) -> dict:
    """The profile's entitlement fields, keys exactly as the contract spells them (the renderer keeps camelCase)."""
    status = quota_status(user=user)
    return {
        "membership": membership_dict(status.membership),
        "isVIP": status.membership.is_valid,
        "membershipEndDate": status.membership.expires_at,
        "points": status.points,
        "dailyStats": {"date": status.day.isoformat(), "usedCount": status.used, "totalCount": status.daily_limit},
    }


def points_history(*, user):
    return PointsEntry.objects.filter(user=user).order_by("-created_at", "-id")
