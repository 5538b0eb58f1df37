import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tunee.money import fen_to_yuan

# --- Orders -------------------------------------------------------------------------------------------------------


class Order(models.Model):
    """One purchase: a membership plan or a point package, paid once through WeChat Pay or Alipay.

    States (API.md §4): pending → paid → refunded; pending → closed (cancelled or expired). Money that arrives for a
    closed order is still settled (paid) and `paid_after_close` is set for staff. Amounts are integer fen.
    """

    class Kind(models.TextChoices):
        MEMBERSHIP = "membership", _("membership")
        POINTS = "points", _("points")

    class Method(models.TextChoices):
        WECHAT = "wechat", _("WeChat Pay")
        ALIPAY = "alipay", _("Alipay")

    class Device(models.TextChoices):
        MINIPROGRAM = "miniprogram", _("mini program")
        APP = "app", _("mobile app")
        WEB = "web", _("web")

    class Status(models.TextChoices):
        PENDING = "pending", _("awaiting payment")
        PAID = "paid", _("paid")
        CLOSED = "closed", _("closed")
        REFUNDED = "refunded", _("refunded")

    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False)
    order_no = models.CharField(_("order number"), max_length=32, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders", verbose_name=_("user")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    plan = models.ForeignKey(
        "membership.Plan", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("plan")
    )
    package = models.ForeignKey(
        "membership.PointPackage",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("point package"),
    )
    points = models.PositiveIntegerField(
        _("points"), default=0, help_text=_("points bought (points orders), fixed at ordering")
    )
    subject = models.CharField(_("subject"), max_length=128)
    amount_fen = models.PositiveIntegerField(
        _("amount (fen)"), help_text=_("price in fen (1/100 yuan), fixed at ordering")
    )
    payment_method = models.CharField(_("payment method"), max_length=16, choices=Method.choices)
    device = models.CharField(_("device"), max_length=16, choices=Device.choices)
    trade_type = models.CharField(
        _("trade type"), max_length=32, help_text=_("JSAPI / APP / NATIVE, or Alipay app / page / wap pay")
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    transaction_id = models.CharField(
        _("transaction ID"), max_length=64, blank=True, help_text=_("the provider's transaction / trade number")
    )
    pay_params = models.JSONField(_("payment parameters"), default=dict, blank=True)
    client_ip = models.GenericIPAddressField(_("client IP"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    expire_at = models.DateTimeField(_("expires at"))
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    close_reason = models.CharField(_("close reason"), max_length=255, blank=True)
    refunded_at = models.DateTimeField(_("refunded at"), null=True, blank=True)
    refund_no = models.CharField(_("refund number"), max_length=64, blank=True)
    paid_after_close = models.BooleanField(
        _("paid after close"),
        default=False,
        help_text=_("the money arrived after the order was closed: settled anyway, for staff to check"),
    )

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at"]
        permissions = [("refund", "Can refund paid orders")]
        indexes = [models.Index(fields=["user", "-created_at"], name="order_user_time")]
        constraints = [
            models.UniqueConstraint(
                fields=["payment_method", "transaction_id"],
                condition=~Q(transaction_id=""),
                name="order_unique_transaction_per_provider",
            ),
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="order_amount_positive"),
            models.CheckConstraint(condition=Q(kind__in=["membership", "points"]), name="order_kind_valid"),
            models.CheckConstraint(condition=Q(payment_method__in=["wechat", "alipay"]), name="order_method_valid"),
            models.CheckConstraint(condition=Q(device__in=["miniprogram", "app", "web"]), name="order_device_valid"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "paid", "closed", "refunded"]), name="order_status_valid"
            ),
            models.CheckConstraint(
                condition=(Q(kind="membership") & Q(plan__isnull=False) & Q(package__isnull=True) & Q(points=0))
                | (Q(kind="points") & Q(package__isnull=False) & Q(plan__isnull=True) & Q(points__gt=0)),
                name="order_kind_matches_item",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["paid", "refunded"]) | (Q(paid_at__isnull=False) & ~Q(transaction_id="")),
                name="order_paid_has_payment",
            ),
            models.CheckConstraint(
                condition=~Q(status="closed") | Q(closed_at__isnull=False), name="order_closed_has_closed_at"
            ),
            models.CheckConstraint(
                condition=~Q(status="refunded") | Q(refunded_at__isnull=False), name="order_refunded_has_refunded_at"
            ),
            models.CheckConstraint(
                condition=Q(paid_after_close=False) | Q(status__in=["paid", "refunded"]),
                name="order_late_flag_only_when_paid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_no} ({self.status})"

    @property
    def amount_yuan(self) -> Decimal:
        return fen_to_yuan(self.amount_fen)

    amount_yuan.fget.short_description = _("amount (yuan)")  # the admin's column title

    @property
    def item_type(self) -> str:
        """The contract's `type`: the plan type (monthly / yearly) or "points"."""
        return self.plan.type if self.kind == self.Kind.MEMBERSHIP else self.Kind.POINTS


class OrderEvent(models.Model):
    """Append-only log of everything that happened to an order (who, when, what, with which data)."""

    class Kind(models.TextChoices):
        CREATED = "created", _("created")
        PAY_PARAMS = "pay_params", _("placed with the provider")
        PROVIDER_FAILED = "provider_failed", _("provider failed")
        PAID = "paid", _("paid")
        PAID_AFTER_CLOSE = "paid_after_close", _("paid after closing")
        DUPLICATE = "duplicate", _("duplicate notification")
        SETTLE_REFUSED = "settle_refused", _("settlement refused")
        CLOSED = "closed", _("closed")
        CLOSE_FAILED = "close_failed", _("close failed")
        REFUNDED = "refunded", _("refunded")
        REFUND_FAILED = "refund_failed", _("refund failed")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events", verbose_name=_("order"))
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    source = models.CharField(
        _("source"), max_length=32, blank=True, help_text=_("api / notify / query / reconcile / expiry / admin")
    )
    data = models.JSONField(_("data"), default=dict, blank=True)
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
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind}"


class PaymentNotification(models.Model):
    """Every notification a provider (or anybody) posted to a notify endpoint, stored raw with what became of it (in
    the transaction that settled it, when it settled something)."""

    class Outcome(models.TextChoices):
        RECEIVED = "received", _("received")  # stored, not processed (yet)
        SETTLED = "settled", _("settled")
        SETTLED_LATE = "settled_late", _("settled after close")
        DUPLICATE = "duplicate", _("duplicate")
        NOT_PAID = "not_paid", _("not a payment")
        REFUSED = "refused", _("refused")
        ERROR = "error", _("error")

    provider = models.CharField(_("provider"), max_length=16, choices=Order.Method.choices)
    body = models.TextField(_("body"), blank=True, help_text=_("the raw body (UTF-8, undecodable bytes replaced)"))
    body_size = models.PositiveIntegerField(_("body size"), default=0)
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    remote_addr = models.GenericIPAddressField(_("remote address"), null=True, blank=True)
    verified = models.BooleanField(_("verified"), default=False)
    reason = models.TextField(
        _("reason"), blank=True, help_text=_("why it was not verified, or why settling refused it")
    )
    order_no = models.CharField(_("order number"), max_length=64, blank=True, db_index=True)
    transaction_id = models.CharField(_("transaction ID"), max_length=64, blank=True)
    order = models.ForeignKey(
        Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="notifications", verbose_name=_("order")
    )
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, default=Outcome.RECEIVED)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("payment notification")
        verbose_name_plural = _("payment notifications")
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.provider} notification {self.pk} ({self.outcome})"


class OrderGrant(models.Model):
    """What a paid order gave: membership days or points. One per order, enforced by the one-to-one key."""

    order = models.OneToOneField(
        Order, on_delete=models.PROTECT, primary_key=True, related_name="grant", verbose_name=_("order")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("user")
    )
    days = models.PositiveIntegerField(_("days"), default=0)
    points = models.PositiveIntegerField(_("points"), default=0)
    membership_event = models.ForeignKey(
        "membership.MembershipEvent",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("membership event"),
    )
    points_entry = models.ForeignKey(
        "membership.PointsEntry",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("points entry"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_points = models.PositiveIntegerField(
        _("points taken back"), default=0, help_text=_("points taken back at the refund")
    )

    class Meta:
        verbose_name = _("order grant")
        verbose_name_plural = _("order grants")
        constraints = [
            models.CheckConstraint(
                condition=(Q(days__gt=0) & Q(points=0)) | (Q(days=0) & Q(points__gt=0)),
                name="ordergrant_days_or_points",
            ),
            models.CheckConstraint(condition=Q(revoked_points__lte=F("points")), name="ordergrant_revoke_within"),
        ]

    def __str__(self) -> str:
        what = f"{self.days} days" if self.days else f"{self.points} points"
        return f"{self.order_id}: {what}"
