from django.db import models
from django.db.models import F, Q


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
