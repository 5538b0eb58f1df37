"""Writes of entitlements: membership time, the daily quota, points, and staff adjustments.

Every function is keyword-only and atomic. Concurrency is handled by the database, not by Python: the quota is
taken by one conditional UPDATE (`used < limit`), points by a conditional UPDATE (`balance >= amount`) backed by a
CHECK constraint, membership changes under a row lock, refunds by a conditional UPDATE on the charge plus a
unique constraint on the refund's ledger entry.
"""

import json
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from accounts.roles import require_permission
from tunee import localcache
from tunee.api.errors import ApiError, Code

from . import selectors
from .models import (
    Charge,
    ChargeRefund,
    DailyUsage,
    Membership,
    MembershipEvent,
    Plan,
    PointsAccount,
    PointsEntry,
    StaffAdjustment,
)

Reason = PointsEntry.Reason


# --- catalog ---------------------------------------------------------------------------------------------------


def catalog_changed() -> None:
    """Call after plans or packages change (the admin does) so that the cached catalog is read again."""
    localcache.forget(selectors.PLANS_CACHE_KEY, selectors.PACKAGES_CACHE_KEY)


# --- membership ------------------------------------------------------------------------------------------------


def _membership_for_update(user) -> Membership:
    Membership.objects.bulk_create([Membership(user=user)], ignore_conflicts=True)
    return Membership.objects.select_for_update().get(user=user)


def membership_extend(
    *,
    user,
    plan: Plan,
    source: str,
    days: int | None = None,
    kind: str = MembershipEvent.Kind.PURCHASE,
    actor=None,
    reason: str = "",
) -> MembershipEvent:
    """Add a plan's duration (or `days`) to the user's membership.

    New expiry = max(now, current expiry) + duration. While a membership is running the level becomes the
    higher-ranked of the current and the new plan; after a lapse the new plan starts a new period.

    Its writes run in a transaction, or in the caller's without a savepoint of their own (two statements fewer
    when an order settles): a failure then rolls the caller's transaction back whole.
    """
    if plan.is_free:
        raise ValueError("the free plan cannot be granted")
    days = plan.duration_days if days is None else days
    if days <= 0:
        raise ValueError("days must be positive")
    with transaction.atomic(savepoint=False):
        return _membership_extend(user=user, plan=plan, source=source, days=days, kind=kind, actor=actor, reason=reason)


def _membership_extend(*, user, plan: Plan, source: str, days: int, kind: str, actor, reason: str) -> MembershipEvent:
    now = timezone.now()
    membership = _membership_for_update(user)
    before = membership.expires_at
    running = before is not None and before > now
    if running:
        ranks = selectors.plan_ranks()
        if ranks.get(plan.type, 0) > ranks.get(membership.level, 0):
            membership.level = plan.type
    else:
        membership.level = plan.type
        membership.started_at = now
    membership.expires_at = max(now, before or now) + timedelta(days=days)
    membership.save(update_fields=["level", "started_at", "expires_at", "updated_at"])
    return MembershipEvent.objects.create(
        user=user,
        kind=kind,
        plan=plan,
        days=days,
        source=source,
        reason=reason,
        actor=actor,
        level_after=membership.level,
        expires_before=before,
        expires_after=membership.expires_at,
    )


@transaction.atomic
def membership_revoke(*, user, days: int, source: str, actor=None, reason: str = "") -> MembershipEvent:
    """Take `days` of membership back (a refunded order). Expiry never moves before now: the rest just lapses."""
    if days <= 0:
        raise ValueError("days must be positive")
    now = timezone.now()
    membership = _membership_for_update(user)
    before = membership.expires_at
    if before is not None and before > now:
        membership.expires_at = max(now, before - timedelta(days=days))
        membership.save(update_fields=["expires_at", "updated_at"])
    return MembershipEvent.objects.create(
        user=user,
        kind=MembershipEvent.Kind.REVOKE,
        days=-days,
        source=source,
        reason=reason,
        actor=actor,
        level_after=membership.level,
        expires_before=before,
        expires_after=membership.expires_at,
    )


# --- points ----------------------------------------------------------------------------------------------------


def _ensure_account(user) -> None:
    PointsAccount.objects.bulk_create([PointsAccount(user=user)], ignore_conflicts=True)


def points_balance_for_update(*, user) -> int:
    """The user's balance, their points account row locked until the caller's transaction ends (call it inside
    one): a check made on this balance stays true until then, however many spends race it."""
    _ensure_account(user)
    return PointsAccount.objects.select_for_update().values_list("balance", flat=True).get(user=user)


def _points_move(
    *, user, amount: int, spend: bool, reason: str, reference: str, charge: Charge | None, actor, note: str
) -> PointsEntry:
    """Add `amount` points to the user's balance, or take them (`spend`), and write the ledger entry with the balance
    after it. Taking is one conditional UPDATE (`balance >= amount`), so it cannot drive the balance negative; a
    short balance is 40000."""
    if amount <= 0:
        raise ValueError("amount must be positive")
    _ensure_account(user)
    account = PointsAccount.objects.filter(user=user)
    if spend:
        moved = account.filter(balance__gte=amount).update(balance=F("balance") - amount, updated_at=timezone.now())
    else:
        moved = account.update(balance=F("balance") + amount, updated_at=timezone.now())
    balance = PointsAccount.objects.values_list("balance", flat=True).get(user=user)
    if not moved:
        raise ApiError(Code.INSUFFICIENT_POINTS, details={"points": balance, "required": amount})
    return PointsEntry.objects.create(
        user=user,
        amount=-amount if spend else amount,
        reason=reason,
        balance=balance,
        reference=reference,
        charge=charge,
        actor=actor,
        note=note,
    )


# One round trip credits points and writes the ledger entry (PostgreSQL): the account row is created with the
# amount or has it added (the upsert's row lock serializes racing credits and spends, as the UPDATE did), and the
# entry records the balance that very statement left. Written in SQL because the ORM has no upsert that returns the
# new value; the columns are the models'.
_CREDIT_SQL = """
WITH account AS (
    INSERT INTO membership_pointsaccount (user_id, balance, updated_at) VALUES (%(user)s, %(amount)s, %(now)s)
    ON CONFLICT (user_id) DO UPDATE
        SET balance = membership_pointsaccount.balance + EXCLUDED.balance, updated_at = EXCLUDED.updated_at
    RETURNING balance
)
INSERT INTO membership_pointsentry (user_id, amount, reason, balance, charge_id, reference, note, actor_id, created_at)
SELECT %(user)s, %(amount)s, %(reason)s, balance, %(charge)s, %(reference)s, %(note)s, %(actor)s, %(now)s FROM account
RETURNING id, balance
"""


def points_credit(
    *, user, amount: int, reason: str, reference: str = "", charge: Charge | None = None, actor=None, note: str = ""
) -> PointsEntry:
    """Add points and write the ledger entry. On PostgreSQL that is one statement, atomic by itself, so it opens no
    savepoint of its own (two statements fewer inside a caller's transaction; a caller that catches its error must
    end its transaction, as after any failed statement). Elsewhere, `_points_move` in a transaction."""
    entry = {"reason": reason, "reference": reference, "charge": charge, "actor": actor, "note": note}
    if amount > 0 and connection.vendor == "postgresql":
        return _points_credit_at_once(user=user, amount=amount, **entry)
    with transaction.atomic():
        return _points_move(user=user, amount=amount, spend=False, **entry)


def _points_credit_at_once(
    *, user, amount: int, reason: str, reference: str, charge: Charge | None, actor, note: str
) -> PointsEntry:
    entry = PointsEntry(
        user=user, amount=amount, reason=reason, reference=reference, charge=charge, actor=actor, note=note
    )
    entry.created_at = timezone.now()
    params = {
        "user": user.pk,
        "amount": amount,
        "now": entry.created_at,
        "reason": reason,
        "charge": charge.pk if charge is not None else None,
        "reference": reference,
        "note": note,
        "actor": actor.pk if actor is not None else None,
    }
    with connection.cursor() as cursor:
        cursor.execute(_CREDIT_SQL, params)
        entry.pk, entry.balance = cursor.fetchone()
    entry._state.adding, entry._state.db = False, connection.alias
    return entry


@transaction.atomic
def points_spend(
    *, user, amount: int, reason: str, reference: str = "", charge: Charge | None = None, actor=None, note: str = ""
) -> PointsEntry:
    """Take points; 40000 when the balance is short. The conditional UPDATE cannot drive the balance negative."""
    entry = {"reason": reason, "reference": reference, "charge": charge, "actor": actor, "note": note}
    return _points_move(user=user, amount=amount, spend=True, **entry)


# --- daily quota -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuotaAfter:
    """Today's quota just after a charge took a unit of it (read in the charging statement): `Charge.quota_after`
    on the charges `quota_consume` returns from PostgreSQL's one-statement path; None elsewhere."""

    daily_limit: int
    used: int
    remaining: int


# One round trip takes a unit of today's quota and records its charge (PostgreSQL): the day's row is created with
# one unit used, or its `used` goes up by one only while below the limit plus the day's extras (the row lock of the
# upsert serializes racing requests, and its WHERE sees the latest count); a charge row is inserted only when the
# upsert took a unit. Written in SQL because the ORM has no conditional upsert; the columns are the models'.
# `{source}` and `{limit}`: see `quota_take_sql`.
_TAKE_UNIT_CTES = """taken AS (
    INSERT INTO membership_dailyusage (user_id, day, used, extra) SELECT %(user)s, %(day)s, 1, 0 {source}
    ON CONFLICT (user_id, day) DO UPDATE SET used = membership_dailyusage.used + 1
        WHERE membership_dailyusage.used < {limit} + membership_dailyusage.extra
    RETURNING user_id, used, extra
), charged AS (
    INSERT INTO membership_charge (id, user_id, kind, day, points, reference, created_at)
    SELECT %(charge)s, user_id, %(kind)s, %(day)s, 0, %(reference)s, %(now)s FROM taken
    RETURNING id
)"""
_TAKE_UNIT_SQL = (
    f"WITH {_TAKE_UNIT_CTES.format(source='', limit='%(limit)s')}\nSELECT taken.used, taken.extra FROM taken, charged"  # nosec B608
)

# The user's membership and daily limit, read in the charging statement (`quota_take_sql`): `selectors._state_of`
# and `selectors.limit_for` in SQL. A member: a level and `expires_at` after now; the limit: the personal one, else
# the plan's of the level (the free plan's when not a member, or when the level has no plan), else 0.
_ENTITLED_CTE = """entitled AS (
    SELECT m.level, m.custom_daily_limit, v.member, COALESCE(
        m.custom_daily_limit,
        (%(plan_limits)s::jsonb ->> CASE WHEN v.member THEN m.level ELSE %(free)s END)::int,
        (%(plan_limits)s::jsonb ->> %(free)s)::int,
        0
    ) AS daily_limit
    FROM (SELECT 1) AS one LEFT JOIN membership_membership m ON m.user_id = %(user)s,
    LATERAL (SELECT COALESCE(m.level <> '' AND m.expires_at > %(now)s, false) AS member) AS v
)"""


@dataclass
class QuotaTakeSql:
    """SQL of `quota_take_sql`: the CTE `entitled` (the user's `member` and `daily_limit`), then the caller's own
    CTEs, then `take` (the CTEs `taken`: today's row with a unit taken, and `charged`: the charge row)."""

    entitled: str
    take: str
    params: dict
    charge: Charge


def quota_take_sql(*, user, day: date, reference: str, tables: str = "", condition: str = "true") -> QuotaTakeSql:
    """The one-statement charge of a unit of `day`'s quota as a part of a caller's own statement (PostgreSQL), the
    membership and daily limit read in it: a unit is taken only when the daily limit is above 0 and the caller's
    `condition` (SQL over `entitled` and the caller's CTEs in `tables`, `, flight`) holds. The parameters are named
    `user`, `day`, `charge`, `kind`, `reference`, `now`, `plan_limits`, `free`. No row from
    `taken` means nothing was written (no unit left, a limit of 0: call `quota_consume`; or the condition); else
    `quota_taken` with what `taken` and `entitled` returned."""
    charge = Charge(user=user, kind=Charge.Kind.QUOTA, day=day, reference=reference, created_at=timezone.now())
    limits: dict = {}
    for plan in selectors.plans():  # plan_by_type: the first plan of a type
        limits.setdefault(plan["type"], plan["daily_limit"])
    params = {"user": user.pk, "day": day, "charge": charge.pk, "kind": charge.kind, "reference": reference}
    params.update(now=charge.created_at, plan_limits=json.dumps(limits), free=Plan.Type.FREE)
    source = f"FROM entitled{tables} WHERE entitled.daily_limit > 0 AND ({condition})"
    take = _TAKE_UNIT_CTES.format(source=source, limit="(SELECT daily_limit FROM entitled)")
    return QuotaTakeSql(entitled=_ENTITLED_CTE, take=take, params=params, charge=charge)


def quota_taken(charge: Charge, *, limit: int, used: int, extra: int) -> Charge:
    """The charge of a statement that took the unit (`limit`: the daily limit it applied): saved, with the quota it
    left."""
    charge._state.adding, charge._state.db = False, connection.alias
    charge.quota_after = QuotaAfter(daily_limit=limit + extra, used=used, remaining=max(0, limit + extra - used))
    return charge


def _take_unit(*, user, day: date, limit: int, reference: str) -> Charge | None:
    """A charge for one unit of `day`'s quota, or None when none is left."""
    if connection.vendor == "postgresql" and limit > 0:
        charge = Charge(user=user, kind=Charge.Kind.QUOTA, day=day, reference=reference, created_at=timezone.now())
        params = {"user": user.pk, "day": day, "limit": limit, "charge": charge.pk, "kind": charge.kind}
        with connection.cursor() as cursor:
            cursor.execute(_TAKE_UNIT_SQL, {**params, "reference": reference, "now": charge.created_at})
            row = cursor.fetchone()
        if row is None:
            return None
        used, extra = row
        return quota_taken(charge, limit=limit, used=used, extra=extra)
    # Elsewhere (SQLite), and for a limit of 0 (only the day's extras may be left): the row, then the conditional
    # UPDATE, then the charge.
    DailyUsage.objects.bulk_create([DailyUsage(user=user, day=day)], ignore_conflicts=True)
    taken = DailyUsage.objects.filter(user=user, day=day, used__lt=limit + F("extra")).update(used=F("used") + 1)
    return Charge.objects.create(user=user, kind=Charge.Kind.QUOTA, day=day, reference=reference) if taken else None


@transaction.atomic
def quota_consume(*, user, reference: str = "", membership: selectors.MembershipState | None = None) -> Charge:
    """Take one generation: a unit of today's quota, or else `GENERATION_POINTS_COST` points, or else 40004.

    Run it in the same transaction that creates what is paid for, so that a failure leaves nothing charged.
    `membership`: the user's state when the caller has just read it (saves reading it again).
    """
    return quota_consume_in_transaction(user=user, reference=reference, membership=membership)


def quota_consume_in_transaction(
    *, user, reference: str = "", membership: selectors.MembershipState | None = None
) -> Charge:
    """`quota_consume` for a caller whose own transaction is open and who lets a refusal end it (no savepoint of
    its own: two statements fewer on the create path)."""
    if not connection.in_atomic_block:
        raise RuntimeError("quota_consume_in_transaction needs the caller's transaction")
    day = selectors.business_today()
    limit = selectors.limit_for(membership or selectors.membership_state(user=user))
    charge = _take_unit(user=user, day=day, limit=limit, reference=reference)
    if charge is not None:
        return charge

    cost = settings.GENERATION_POINTS_COST
    balance = selectors.points_balance(user=user)
    exhausted = ApiError(Code.QUOTA_EXHAUSTED, details={"remaining_today": 0, "points": balance, "points_cost": cost})
    if cost <= 0 or balance < cost:
        raise exhausted
    charge = Charge.objects.create(user=user, kind=Charge.Kind.POINTS, day=day, points=cost, reference=reference)
    try:
        with transaction.atomic():
            points_spend(user=user, amount=cost, reason=Reason.GENERATION, charge=charge, reference=reference)
    except ApiError:  # another request spent the points first
        raise exhausted from None
    return charge


@transaction.atomic
def quota_refund(*, charge: Charge) -> bool:
    """Give back what `charge` took, exactly once: True when this call refunded it, False if it already was.

    A quota unit goes back to the day it was taken from.
    """
    claimed = Charge.objects.filter(pk=charge.pk, refunded_at__isnull=True).update(refunded_at=timezone.now())
    if not claimed:
        return False
    ChargeRefund.objects.create(charge_id=charge.pk)  # the database's guarantee: one refund row per charge
    if charge.kind == Charge.Kind.QUOTA:
        DailyUsage.objects.filter(user_id=charge.user_id, day=charge.day, used__gt=0).update(used=F("used") - 1)
    else:
        points_credit(
            user=charge.user,
            amount=charge.points,
            reason=Reason.GENERATION_REFUND,
            charge=charge,
            reference=charge.reference,
        )
    charge.refresh_from_db(fields=["refunded_at"])
    return True


# --- staff controls (each recorded in StaffAdjustment) ---------------------------------------------------------
# Each takes the acting staff member (`actor`; None is the system: a `manage.py` command) and refuses with 403 an
# actor without `membership.add_staffadjustment` (accounts/roles.py). The admin and the commands call them through
# `staff_adjust` (the table at the end of this module).

STAFF_PERMISSION = "membership.add_staffadjustment"


def _staff_check(actor, reason: str) -> None:
    require_permission(actor, STAFF_PERMISSION)
    if not reason or not reason.strip():
        raise ApiError(Code.VALIDATION, details={"reason": ["required"]})


def _record(*, user, actor, action: str, reason: str, **payload) -> StaffAdjustment:
    if not reason or not reason.strip():
        raise ApiError(Code.VALIDATION, details={"reason": ["required"]})
    return StaffAdjustment.objects.create(user=user, actor=actor, action=action, payload=payload, reason=reason)


@transaction.atomic
def quota_set_daily_limit(*, user, limit: int | None, actor, reason: str) -> StaffAdjustment:
    """A personal daily limit replacing the plan's (None goes back to the plan's)."""
    _staff_check(actor, reason)
    if limit is not None and limit < 0:
        raise ApiError(Code.VALIDATION, details={"limit": ["must be 0 or more"]})
    membership = _membership_for_update(user)
    previous = membership.custom_daily_limit
    membership.custom_daily_limit = limit
    membership.save(update_fields=["custom_daily_limit", "updated_at"])
    return _record(
        user=user,
        actor=actor,
        action=StaffAdjustment.Action.SET_DAILY_LIMIT,
        reason=reason,
        limit=limit,
        previous=previous,
    )


@transaction.atomic
def quota_grant_extra(*, user, count: int, actor, reason: str, day: date | None = None) -> StaffAdjustment:
    """Extra generations for today (business day) on top of the limit."""
    _staff_check(actor, reason)
    if count is None or count <= 0:
        raise ApiError(Code.VALIDATION, details={"count": ["must be positive"]})
    day = day or selectors.business_today()
    DailyUsage.objects.bulk_create([DailyUsage(user=user, day=day)], ignore_conflicts=True)
    DailyUsage.objects.filter(user=user, day=day).update(extra=F("extra") + count)
    return _record(
        user=user,
        actor=actor,
        action=StaffAdjustment.Action.GRANT_EXTRA,
        reason=reason,
        count=count,
        day=day.isoformat(),
    )


@transaction.atomic
def quota_reset_today(*, user, actor, reason: str) -> StaffAdjustment:
    _staff_check(actor, reason)
    day = selectors.business_today()
    usage = DailyUsage.objects.select_for_update().filter(user=user, day=day).first()
    previous = usage.used if usage else 0
    if usage:
        usage.used = 0
        usage.save(update_fields=["used"])
    return _record(
        user=user,
        actor=actor,
        action=StaffAdjustment.Action.RESET_TODAY,
        reason=reason,
        day=day.isoformat(),
        previous_used=previous,
    )


@transaction.atomic
def membership_grant(
    *, user, actor, reason: str, plan: Plan | str | None = None, days: int | None = None
) -> StaffAdjustment:
    """Staff gift: a plan's duration, or a number of days of a plan (the highest paid plan when none is named).
    `plan`: a Plan or a plan type ("monthly")."""
    _staff_check(actor, reason)
    if isinstance(plan, str):
        plan = Plan.objects.exclude(type=Plan.Type.FREE).filter(type=plan).first()
        if plan is None:
            raise ApiError(Code.VALIDATION, details={"plan": ["no such paid plan"]})
    if plan is None:
        plan = Plan.objects.exclude(type=Plan.Type.FREE).order_by("-rank").first()
    if plan is None or plan.is_free:
        raise ApiError(Code.VALIDATION, details={"plan": ["a paid plan is required"]})
    if days is not None and days <= 0:
        raise ApiError(Code.VALIDATION, details={"days": ["must be positive"]})
    event = membership_extend(
        user=user,
        plan=plan,
        source="staff",
        days=days,
        kind=MembershipEvent.Kind.STAFF_GRANT,
        actor=actor,
        reason=reason,
    )
    return _record(
        user=user,
        actor=actor,
        action=StaffAdjustment.Action.GRANT_MEMBERSHIP,
        reason=reason,
        plan=plan.type,
        days=event.days,
        expires_at=event.expires_after.isoformat(),
    )


@transaction.atomic
def points_adjust(*, user, amount: int, actor, reason: str) -> StaffAdjustment:
    """Add (positive) or take (negative) points; taking more than the balance is refused with 40000."""
    _staff_check(actor, reason)
    if not amount:
        raise ApiError(Code.VALIDATION, details={"amount": ["must not be 0"]})
    record = _record(user=user, actor=actor, action=StaffAdjustment.Action.ADJUST_POINTS, reason=reason, amount=amount)
    if amount > 0:
        entry = points_credit(
            user=user,
            amount=amount,
            reason=Reason.STAFF_ADJUST,
            actor=actor,
            note=reason,
            reference=f"staff:{record.pk}",
        )
    else:
        entry = points_spend(
            user=user,
            amount=-amount,
            reason=Reason.STAFF_ADJUST,
            actor=actor,
            note=reason,
            reference=f"staff:{record.pk}",
        )
    record.payload["balance"] = entry.balance
    record.save(update_fields=["payload"])
    return record


@transaction.atomic
def membership_revoke_by_staff(*, user, actor, reason: str, days: int | None = None) -> StaffAdjustment:
    """Staff take a running membership back: `days` of it, or all that is left (None), ending it now. Recorded as a
    membership event (kind revoke, with actor and reason) and a staff adjustment. 400 when none is running."""
    _staff_check(actor, reason)
    if days is not None and days <= 0:
        raise ApiError(Code.VALIDATION, details={"days": ["must be positive"]})
    now = timezone.now()
    membership = _membership_for_update(user)
    if membership.expires_at is None or membership.expires_at <= now:
        raise ApiError(Code.VALIDATION, details={"user": ["no running membership"]})
    left = membership.expires_at - now
    taken = days if days is not None else -(-left // timedelta(days=1))  # whole days, rounded up: all of it
    event = membership_revoke(user=user, days=taken, source="staff", actor=actor, reason=reason)
    return _record(
        user=user,
        actor=actor,
        action=StaffAdjustment.Action.REVOKE_MEMBERSHIP,
        reason=reason,
        days=taken,
        level=event.level_after,
        expires_before=event.expires_before.isoformat(),
        expires_after=event.expires_after.isoformat(),
    )


@transaction.atomic
def charge_refund_by_staff(*, charge: Charge, actor, reason: str) -> StaffAdjustment:
    """Staff give back what `charge` took, once (a second time is 11000): its points, or its unit of quota. A unit
    taken on an earlier business day can no longer be used there, so it comes back as an extra generation today.
    The caller (e.g. generation_refund) checks its own permission; this one needs the staff-adjustment one too."""
    _staff_check(actor, reason)
    if not quota_refund(charge=charge):
        raise ApiError(Code.DUPLICATE, details={"charge": ["already refunded"]})
    today = selectors.business_today()
    payload = {"charge": str(charge.pk), "kind": charge.kind, "reference": charge.reference}
    if charge.kind == Charge.Kind.QUOTA:
        payload["day"] = charge.day.isoformat()
        if charge.day != today:
            DailyUsage.objects.bulk_create([DailyUsage(user_id=charge.user_id, day=today)], ignore_conflicts=True)
            DailyUsage.objects.filter(user_id=charge.user_id, day=today).update(extra=F("extra") + 1)
            payload["extra_on"] = today.isoformat()
    else:
        payload["points"] = charge.points
    return _record(
        user=charge.user, actor=actor, action=StaffAdjustment.Action.REFUND_GENERATION, reason=reason, **payload
    )


# The staff adjustments made by picking a user, an action and its fields (admin › Staff adjustments › Add, and the
# `grant_membership`, `adjust_points`, `set_daily_limit` commands): action → (service, the fields it takes).
STAFF_ADJUSTMENTS = {
    StaffAdjustment.Action.SET_DAILY_LIMIT: (quota_set_daily_limit, ("limit",)),
    StaffAdjustment.Action.GRANT_EXTRA: (quota_grant_extra, ("count",)),
    StaffAdjustment.Action.RESET_TODAY: (quota_reset_today, ()),
    StaffAdjustment.Action.GRANT_MEMBERSHIP: (membership_grant, ("plan", "days")),
    StaffAdjustment.Action.REVOKE_MEMBERSHIP: (membership_revoke_by_staff, ("days",)),
    StaffAdjustment.Action.ADJUST_POINTS: (points_adjust, ("amount",)),
}


def staff_adjust(*, action: str, user, actor, reason: str, **fields) -> StaffAdjustment:
    """Make one staff adjustment through its service (STAFF_ADJUSTMENTS); fields the action does not take are
    ignored. Unknown action → 400."""
    try:
        service, names = STAFF_ADJUSTMENTS[StaffAdjustment.Action(action)]
    except (ValueError, KeyError):
        raise ApiError(Code.VALIDATION, details={"action": ["unknown"]}) from None
    return service(user=user, actor=actor, reason=reason, **{name: fields.get(name) for name in names})
