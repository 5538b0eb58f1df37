"""Entitlements: plans, membership state, daily generation usage, the points ledger, and the audit of staff changes.

Invariants live in the database: a points balance never goes negative (CHECK), one usage row per user and
business day (UNIQUE), a charge is refunded at most once (UNIQUE on the refund's ledger entry and a conditional
UPDATE on `refunded_at`).
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class Plan(models.Model):
    """A membership level. The free plan is a row too, so that its daily limit is editable in the admin."""

    class Type(models.TextChoices):
        FREE = "free", "免费"
        MONTHLY = "monthly", "月卡会员"
        YEARLY = "yearly", "年卡会员"

    type = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=50)
    price_fen = models.PositiveIntegerField(default=0, help_text="price in fen (1/100 yuan)")
    duration_days = models.PositiveIntegerField(default=0)
    daily_limit = models.PositiveIntegerField()
    features = models.JSONField(default=list, blank=True)
    rank = models.PositiveSmallIntegerField(default=0, help_text="higher wins when several plans are active")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["rank", "type"]
        constraints = [
            models.CheckConstraint(
                condition=Q(type="free") | (Q(price_fen__gt=0) & Q(duration_days__gt=0)),
                name="plan_paid_has_price_and_duration",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.type})"

    @property
    def is_free(self) -> bool:
        return self.type == self.Type.FREE


class PointPackage(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=50)
    points = models.PositiveIntegerField()
    price_fen = models.PositiveIntegerField()
    sort_order = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["sort_order", "price_fen"]
        constraints = [
            models.CheckConstraint(condition=Q(points__gt=0) & Q(price_fen__gt=0), name="package_positive"),
        ]

    def __str__(self):
        return f"{self.name}: {self.points} points for {self.price_fen / 100:.2f} yuan"


class Membership(models.Model):
    """A user's membership state and personal quota settings (one row per user, created on first need)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="membership"
    )
    level = models.CharField(max_length=20, default=Plan.Type.FREE)
    started_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    custom_daily_limit = models.PositiveIntegerField(
        null=True, blank=True, help_text="set by staff; replaces the plan's daily limit while set"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.user_id}: {self.level} until {self.expires_at}"


class MembershipEvent(models.Model):
    """Append-only log of every change of membership time."""

    class Kind(models.TextChoices):
        PURCHASE = "purchase", "购买"
        STAFF_GRANT = "staff_grant", "客服赠送"
        REVOKE = "revoke", "撤销"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership_events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, null=True, blank=True)
    days = models.IntegerField(help_text="days added (negative when taken back)")
    source = models.CharField(max_length=100, blank=True, help_text='what caused it, e.g. "order:TN2024…"')
    reason = models.CharField(max_length=255, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    level_after = models.CharField(max_length=20)
    expires_before = models.DateTimeField(null=True, blank=True)
    expires_after = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.user_id} {self.kind} {self.days:+d} days"


class DailyUsage(models.Model):
    """Generations used by a user on one business day; `extra` are generations staff granted for that day."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="daily_usage")
    day = models.DateField()
    used = models.PositiveIntegerField(default=0)
    extra = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="daily_usage_one_row_per_day")]

    def __str__(self):
        return f"{self.user_id} {self.day}: {self.used} used, +{self.extra}"


class PointsAccount(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="points_account"
    )
    balance = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(balance__gte=0), name="points_balance_never_negative")]

    def __str__(self):
        return f"{self.user_id}: {self.balance} points"


class Charge(models.Model):
    """What one generation cost: one unit of a day's quota, or points. Refunded at most once."""

    class Kind(models.TextChoices):
        QUOTA = "quota", "每日配额"
        POINTS = "points", "积分"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="charges")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    day = models.DateField(help_text="the business day whose quota was used (or the day points were spent)")
    points = models.PositiveIntegerField(default=0)
    reference = models.CharField(max_length=100, blank=True, help_text="what was paid for, e.g. a generation id")
    created_at = models.DateTimeField(auto_now_add=True)
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="quota") & Q(points=0)) | (Q(kind="points") & Q(points__gt=0)),
                name="charge_kind_matches_points",
            ),
        ]

    def __str__(self):
        return f"{self.kind} charge of {self.user_id} on {self.day}"


class ChargeRefund(models.Model):
    """The refund of a charge. One per charge (the primary key is the charge): a second refund cannot exist."""

    charge = models.OneToOneField(Charge, on_delete=models.PROTECT, primary_key=True, related_name="refund")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"refund of {self.charge_id}"


class PointsEntry(models.Model):
    """The points ledger (Photo Song's PointsHistory): append-only, `balance` is the balance after the change."""

    class Reason(models.TextChoices):
        PURCHASE = "purchase", "购买积分"
        GENERATION = "generation", "生成音乐"
        GENERATION_REFUND = "generation_refund", "生成失败返还"
        ORDER_REFUND = "order_refund", "订单退款扣回"
        STAFF_ADJUST = "staff_adjust", "客服调整"
        BONUS = "bonus", "赠送"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="points_entries")
    amount = models.IntegerField()
    reason = models.CharField(max_length=30, choices=Reason.choices)
    balance = models.IntegerField()
    charge = models.ForeignKey(Charge, on_delete=models.PROTECT, null=True, blank=True, related_name="entries")
    reference = models.CharField(max_length=100, blank=True, help_text='what caused it, e.g. "order:TN…"')
    note = models.CharField(max_length=255, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="points_entry_user_time")]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="points_entry_nonzero"),
            models.CheckConstraint(condition=Q(balance__gte=0), name="points_entry_balance_nonnegative"),
            # A charge is spent once and refunded once, whatever the retries.
            models.UniqueConstraint(
                fields=["charge", "reason"],
                condition=Q(charge__isnull=False),
                name="points_entry_once_per_charge_and_reason",
            ),
        ]

    def __str__(self):
        return f"{self.user_id} {self.amount:+d} ({self.reason}) → {self.balance}"


class StaffAdjustment(models.Model):
    """Audit of every quota, points or membership change made by staff: who, when, what, why."""

    class Action(models.TextChoices):
        SET_DAILY_LIMIT = "set_daily_limit", "设置每日上限"
        GRANT_EXTRA = "grant_extra", "今日额外次数"
        RESET_TODAY = "reset_today", "重置今日用量"
        GRANT_MEMBERSHIP = "grant_membership", "赠送会员"
        ADJUST_POINTS = "adjust_points", "调整积分"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_adjustments")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    action = models.CharField(max_length=30, choices=Action.choices)
    payload = models.JSONField(default=dict)
    reason = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.action} for {self.user_id} by {self.actor_id}"
