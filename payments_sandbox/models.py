"""The payment sandbox's trade book (its only model)."""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from tunee.money import fen_to_yuan


class SandboxTrade(models.Model):
    """A trade held by the payment sandbox: the sandbox's side of a payment, as the provider would keep it. Its
    table exists only in databases migrated with this app installed, that is with PAYMENT_SANDBOX on (the
    settings install `payments_sandbox` only then); a production schema has none."""

    class Provider(models.TextChoices):
        WECHAT = "wechat", _("WeChat Pay")
        ALIPAY = "alipay", _("Alipay")

    class Status(models.TextChoices):
        PENDING = "pending", _("awaiting payment")
        PAID = "paid", _("paid")
        CLOSED = "closed", _("closed")
        REFUNDED = "refunded", _("refunded")

    provider = models.CharField(_("provider"), max_length=16, choices=Provider.choices)
    out_trade_no = models.CharField(_("merchant order number"), max_length=64)
    amount_fen = models.PositiveIntegerField(_("amount (fen)"))
    subject = models.CharField(_("subject"), max_length=256)
    trade_type = models.CharField(
        _("trade type"), max_length=32
    )  # JSAPI / APP / NATIVE / MWEB, alipay.trade.app.pay / …
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    transaction_id = models.CharField(
        _("transaction ID"), max_length=64, blank=True
    )  # WeChat: set when paid; Alipay: at creation
    prepay_id = models.CharField(_("prepay ID"), max_length=64, blank=True)
    openid = models.CharField(_("openid"), max_length=128, blank=True)
    app_id = models.CharField(_("app ID"), max_length=32)
    merchant_id = models.CharField(_("merchant ID"), max_length=32)
    notify_url = models.URLField(_("notify URL"), max_length=500)
    request_fingerprint = models.CharField(
        _("request fingerprint"), max_length=64
    )  # the order's parameters, to spot a reused order number
    refunded_fen = models.PositiveIntegerField(_("refunded (fen)"), default=0)
    refunds = models.JSONField(_("refunds"), default=list, blank=True)  # [{refund_no, refund_id, amount_fen, at}]
    expire_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    notify_count = models.PositiveIntegerField(_("notifications sent"), default=0)
    last_notified_at = models.DateTimeField(_("last notified at"), null=True, blank=True)
    last_notify_result = models.TextField(_("last notify result"), blank=True)
    notify_acknowledged = models.BooleanField(_("notification acknowledged"), default=False)

    class Meta:
        verbose_name = _("sandbox trade")
        verbose_name_plural = _("sandbox trades")
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
        return str(fen_to_yuan(self.amount_fen))
