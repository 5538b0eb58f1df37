import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class SandboxTrade(models.Model):
    """A trade held by the payment sandbox (payments/sandbox/): the sandbox's side of a payment, as the provider
    would keep it. Exists only in installations where a provider runs without merchant credentials."""

    class Provider(models.TextChoices):
        WECHAT = "wechat", "微信支付 WeChat Pay"
        ALIPAY = "alipay", "支付宝 Alipay"

    class Status(models.TextChoices):
        PENDING = "pending", "待支付 pending"
        PAID = "paid", "已支付 paid"
        CLOSED = "closed", "已关闭 closed"
        REFUNDED = "refunded", "已退款 refunded"

    provider = models.CharField(max_length=16, choices=Provider.choices)
    out_trade_no = models.CharField(max_length=64)
    amount_fen = models.PositiveIntegerField()
    subject = models.CharField(max_length=256)
    trade_type = models.CharField(max_length=32)  # JSAPI / APP / NATIVE / MWEB, alipay.trade.app.pay / …
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    transaction_id = models.CharField(max_length=64, blank=True)  # WeChat: set when paid; Alipay: at creation
    prepay_id = models.CharField(max_length=64, blank=True)
    openid = models.CharField(max_length=128, blank=True)
    app_id = models.CharField(max_length=32)
    merchant_id = models.CharField(max_length=32)
    notify_url = models.URLField(max_length=500)
    request_fingerprint = models.CharField(max_length=64)  # the order's parameters, to spot a reused order number
    refunded_fen = models.PositiveIntegerField(default=0)
    refunds = models.JSONField(default=list, blank=True)  # [{refund_no, refund_id, amount_fen, at}]
    expire_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    notify_count = models.PositiveIntegerField(default=0)
    last_notified_at = models.DateTimeField(null=True, blank=True)
    last_notify_result = models.TextField(blank=True)
    notify_acknowledged = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "out_trade_no"], name="sandboxtrade_unique_out_trade_no"),
            models.UniqueConstraint(
                fields=["provider", "transaction_id"],
                condition=~Q(transaction_id=""),
                name="sandboxtrade_unique_transaction_id",
            ),
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="sandboxtrade_amount_positive"),
            models.CheckConstraint(
                condition=Q(refunded_fen__lte=F("amount_fen")), name="sandboxtrade_refund_within_amount"
            ),
            models.CheckConstraint(condition=Q(provider__in=["wechat", "alipay"]), name="sandboxtrade_provider_valid"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "paid", "closed", "refunded"]), name="sandboxtrade_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "closed"]) | Q(paid_at__isnull=False),
                name="sandboxtrade_paid_has_paid_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.out_trade_no} ({self.status})"

    @property
    def amount_yuan(self) -> str:
        return f"{self.amount_fen // 100}.{self.amount_fen % 100:02d}"


# --- Orders -------------------------------------------------------------------------------------------------------


class Order(models.Model):
    """One purchase: a membership plan or a point package, paid once through WeChat Pay or Alipay.

    States (API.md §4): pending → paid → refunded; pending → closed (cancelled or expired). Money that arrives for a
    closed order is still settled (paid) and `paid_after_close` is set for staff. Amounts are integer fen.
    """

    class Kind(models.TextChoices):
        MEMBERSHIP = "membership", "会员 membership"
        POINTS = "points", "积分 points"

    class Method(models.TextChoices):
        WECHAT = "wechat", "微信支付 WeChat Pay"
        ALIPAY = "alipay", "支付宝 Alipay"

    class Device(models.TextChoices):
        MINIPROGRAM = "miniprogram", "小程序 mini program"
        APP = "app", "App"
        WEB = "web", "网页 web"

    class Status(models.TextChoices):
        PENDING = "pending", "待支付 pending"
        PAID = "paid", "已支付 paid"
        CLOSED = "closed", "已关闭 closed"
        REFUNDED = "refunded", "已退款 refunded"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order_no = models.CharField(max_length=32, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    plan = models.ForeignKey("membership.Plan", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    package = models.ForeignKey(
        "membership.PointPackage", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    points = models.PositiveIntegerField(default=0, help_text="points bought (points orders), fixed at ordering")
    subject = models.CharField(max_length=128)
    amount_fen = models.PositiveIntegerField(help_text="price in fen (1/100 yuan), fixed at ordering")
    payment_method = models.CharField(max_length=16, choices=Method.choices)
    device = models.CharField(max_length=16, choices=Device.choices)
    trade_type = models.CharField(max_length=32, help_text="JSAPI / APP / NATIVE, or Alipay app / page / wap pay")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    transaction_id = models.CharField(max_length=64, blank=True, help_text="the provider's transaction / trade number")
    pay_params = models.JSONField(default=dict, blank=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expire_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=255, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    refund_no = models.CharField(max_length=64, blank=True)
    paid_after_close = models.BooleanField(
        default=False, help_text="the money arrived after the order was closed: settled anyway, for staff to check"
    )

    class Meta:
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
        return (Decimal(self.amount_fen) / 100).quantize(Decimal("0.01"))

    @property
    def item_type(self) -> str:
        """The contract's `type`: the plan type (monthly / yearly) or "points"."""
        return self.plan.type if self.kind == self.Kind.MEMBERSHIP else self.Kind.POINTS


class OrderEvent(models.Model):
    """Append-only log of everything that happened to an order (who, when, what, with which data)."""

    class Kind(models.TextChoices):
        CREATED = "created", "创建 created"
        PAY_PARAMS = "pay_params", "已下单 placed with the provider"
        PROVIDER_FAILED = "provider_failed", "下单失败 provider failed"
        PAID = "paid", "已支付 paid"
        PAID_AFTER_CLOSE = "paid_after_close", "关闭后支付 paid after closing"
        DUPLICATE = "duplicate", "重复通知 duplicate"
        SETTLE_REFUSED = "settle_refused", "拒绝结算 settlement refused"
        CLOSED = "closed", "已关闭 closed"
        CLOSE_FAILED = "close_failed", "关闭失败 close failed"
        REFUNDED = "refunded", "已退款 refunded"
        REFUND_FAILED = "refund_failed", "退款失败 refund failed"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    source = models.CharField(max_length=32, blank=True, help_text="api / notify / query / reconcile / expiry / admin")
    data = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind}"


class PaymentNotification(models.Model):
    """Every notification a provider (or anybody) posted to a notify endpoint, stored raw before anything else."""

    class Outcome(models.TextChoices):
        RECEIVED = "received", "已接收 received"  # stored, not processed (yet)
        SETTLED = "settled", "已结算 settled"
        SETTLED_LATE = "settled_late", "关闭后结算 settled after close"
        DUPLICATE = "duplicate", "重复 duplicate"
        NOT_PAID = "not_paid", "非成功状态 not a payment"
        REFUSED = "refused", "已拒绝 refused"
        ERROR = "error", "处理出错 error"

    provider = models.CharField(max_length=16, choices=Order.Method.choices)
    body = models.TextField(blank=True, help_text="the raw body (UTF-8, undecodable bytes replaced)")
    body_size = models.PositiveIntegerField(default=0)
    headers = models.JSONField(default=dict, blank=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    verified = models.BooleanField(default=False)
    reason = models.TextField(blank=True, help_text="why it was not verified, or why settling refused it")
    order_no = models.CharField(max_length=64, blank=True, db_index=True)
    transaction_id = models.CharField(max_length=64, blank=True)
    order = models.ForeignKey(Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="notifications")
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.RECEIVED)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.provider} notification {self.pk} ({self.outcome})"


class OrderGrant(models.Model):
    """What a paid order gave: membership days or points. One per order, enforced by the one-to-one key."""

    order = models.OneToOneField(Order, on_delete=models.PROTECT, primary_key=True, related_name="grant")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    days = models.PositiveIntegerField(default=0)
    points = models.PositiveIntegerField(default=0)
    membership_event = models.ForeignKey(
        "membership.MembershipEvent", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    points_entry = models.ForeignKey(
        "membership.PointsEntry", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_points = models.PositiveIntegerField(default=0, help_text="points taken back at the refund")

    class Meta:
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
