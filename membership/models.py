"""Entitlements: plans, membership state, daily generation usage, the points ledger, and the audit of staff changes.

Invariants live in the database: a points balance never goes negative (CHECK), one usage row per user and
business day (UNIQUE), a charge is refunded at most once (UNIQUE on the refund's ledger entry and a conditional
UPDATE on `refunded_at`).
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tunee.money import fen_to_yuan


class Plan(models.Model):
    """A membership level. The free plan is a row too, so that its daily limit is editable in the admin."""

    class Type(models.TextChoices):
        FREE = "free", _("free")
        MONTHLY = "monthly", _("monthly membership")
        YEARLY = "yearly", _("yearly membership")

    type = models.CharField(_("type"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=50)
    price_fen = models.PositiveIntegerField(_("price (fen)"), default=0, help_text=_("price in fen (1/100 yuan)"))
    duration_days = models.PositiveIntegerField(_("duration (days)"), default=0)
    daily_limit = models.PositiveIntegerField(_("daily limit"))
    features = models.JSONField(_("features"), default=list, blank=True)
    rank = models.PositiveSmallIntegerField(
        _("rank"), default=0, help_text=_("higher wins when several plans are active")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("membership plan")
        verbose_name_plural = _("membership plans")
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
    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=50)
    points = models.PositiveIntegerField(_("points"))
    price_fen = models.PositiveIntegerField(_("price (fen)"))
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("point package")
        verbose_name_plural = _("point packages")
        ordering = ["sort_order", "price_fen"]
        constraints = [
            models.CheckConstraint(condition=Q(points__gt=0) & Q(price_fen__gt=0), name="package_positive"),
        ]

    def __str__(self):
        return f"{self.name}: {self.points} points for {fen_to_yuan(self.price_fen)} yuan"


class Membership(models.Model):
    """A user's membership state and personal quota settings (one row per user, created on first need)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="membership",
        verbose_name=_("user"),
    )
    level = models.CharField(_("level"), max_length=20, default=Plan.Type.FREE)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    custom_daily_limit = models.PositiveIntegerField(
        _("custom daily limit"),
        null=True,
        blank=True,
        help_text=_("set by staff; replaces the plan's daily limit while set"),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self):
        return f"{self.user_id}: {self.level} until {self.expires_at}"


class MembershipEvent(models.Model):
    """Append-only log of every change of membership time."""

    class Kind(models.TextChoices):
        PURCHASE = "purchase", _("purchase")
        STAFF_GRANT = "staff_grant", _("granted by staff")
        REVOKE = "revoke", _("revoked")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership_events", verbose_name=_("user")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("plan"))
    days = models.IntegerField(_("days"), help_text=_("days added (negative when taken back)"))
    source = models.CharField(
        _("source"), max_length=100, blank=True, help_text=_('what caused it, e.g. "order:TN2024…"')
    )
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("staff member"),
    )
    level_after = models.CharField(_("level after"), max_length=20)
    expires_before = models.DateTimeField(_("expiry before"), null=True, blank=True)
    expires_after = models.DateTimeField(_("expiry after"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("membership event")
        verbose_name_plural = _("membership events")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.user_id} {self.kind} {self.days:+d} days"


class DailyUsage(models.Model):
    """Generations used by a user on one business day; `extra` are generations staff granted for that day."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="daily_usage", verbose_name=_("user")
    )
    day = models.DateField(_("business day"))
    used = models.PositiveIntegerField(_("used"), default=0)
    extra = models.PositiveIntegerField(_("extra granted"), default=0)

    class Meta:
        verbose_name = _("daily usage")
        verbose_name_plural = _("daily usage")
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="daily_usage_one_row_per_day")]

    def __str__(self):
        return f"{self.user_id} {self.day}: {self.used} used, +{self.extra}"


class PointsAccount(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="points_account",
        verbose_name=_("user"),
    )
    balance = models.IntegerField(_("balance"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("points account")
        verbose_name_plural = _("points accounts")
        constraints = [models.CheckConstraint(condition=Q(balance__gte=0), name="points_balance_never_negative")]

    def __str__(self):
        return f"{self.user_id}: {self.balance} points"


class Charge(models.Model):
    """What one generation cost: one unit of a day's quota, or points. Refunded at most once."""

    class Kind(models.TextChoices):
        QUOTA = "quota", _("daily quota")
        POINTS = "points", _("points")

    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="charges", verbose_name=_("user")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    day = models.DateField(
        _("business day"), help_text=_("the business day whose quota was used (or the day points were spent)")
    )
    points = models.PositiveIntegerField(_("points"), default=0)
    reference = models.CharField(
        _("reference"), max_length=100, blank=True, help_text=_("what was paid for, e.g. a generation id")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    refunded_at = models.DateTimeField(_("refunded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("charge")
        verbose_name_plural = _("charges")
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

    charge = models.OneToOneField(
        Charge, on_delete=models.PROTECT, primary_key=True, related_name="refund", verbose_name=_("charge")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("charge refund")
        verbose_name_plural = _("charge refunds")

    def __str__(self):
        return f"refund of {self.charge_id}"


class PointsEntry(models.Model):
    """The points ledger (Photo Song's PointsHistory): append-only, `balance` is the balance after the change."""

    class Reason(models.TextChoices):
        PURCHASE = "purchase", _("points purchase")
        GENERATION = "generation", _("music generation")
        GENERATION_REFUND = "generation_refund", _("returned for a failed generation")
        ORDER_REFUND = "order_refund", _("taken back at an order refund")
        STAFF_ADJUST = "staff_adjust", _("staff adjustment")
        BONUS = "bonus", _("bonus")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="points_entries", verbose_name=_("user")
    )
    amount = models.IntegerField(_("amount"))
    reason = models.CharField(_("reason"), max_length=30, choices=Reason.choices)
    balance = models.IntegerField(_("balance after"))
    charge = models.ForeignKey(
        Charge, on_delete=models.PROTECT, null=True, blank=True, related_name="entries", verbose_name=_("charge")
    )
    reference = models.CharField(
        _("reference"), max_length=100, blank=True, help_text=_('what caused it, e.g. "order:TN…"')
    )
    note = models.CharField(_("note"), max_length=255, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("staff member"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")
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
        SET_DAILY_LIMIT = "set_daily_limit", _("set daily limit")
        GRANT_EXTRA = "grant_extra", _("extra generations today")
        RESET_TODAY = "reset_today", _("reset today's usage")
        GRANT_MEMBERSHIP = "grant_membership", _("grant membership")
        ADJUST_POINTS = "adjust_points", _("adjust points")
        REVOKE_MEMBERSHIP = "revoke_membership", _("revoke membership")
        REFUND_GENERATION = "refund_generation", _("refund a generation")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_adjustments", verbose_name=_("user")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("staff member")
    )
    action = models.CharField(_("action"), max_length=30, choices=Action.choices)
    payload = models.JSONField(_("details"), default=dict)
    reason = models.CharField(_("reason"), max_length=255)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("staff adjustment")
        verbose_name_plural = _("staff adjustments")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.action} for {self.user_id} by {self.actor_id}"
