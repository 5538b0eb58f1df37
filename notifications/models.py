"""Telling users their song is ready: the app devices they registered, the WeChat one-time subscriptions they
granted, and one delivery row per finished generation, channel and outcome.

Generations are named by id only (no foreign key): notifications sits below generation and works and never imports
them (generation calls `tasks.enqueue_song_finished` with what the message needs).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Device(models.Model):
    """A phone app installation that JPush can reach. A registration id belongs to one user at a time: the newest
    user who registers it (the phone changed hands, or another account logged in on it)."""

    class Platform(models.TextChoices):
        IOS = "ios", "iOS"
        ANDROID = "android", "Android"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_devices", verbose_name=_("user")
    )
    platform = models.CharField(_("platform"), max_length=10, choices=Platform.choices)
    registration_id = models.CharField(_("registration ID"), max_length=128, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("push device")
        verbose_name_plural = _("push devices")
        ordering = ["-updated_at"]
        constraints = [models.CheckConstraint(condition=Q(platform__in=["ios", "android"]), name="device_platform")]

    def __str__(self):
        return f"{self.platform} {self.registration_id}"


class Subscription(models.Model):
    """One WeChat one-time subscription the mini program obtained (`wx.requestSubscribeMessage`): it allows one
    subscribe message of `template_id` to the user, and is used up (`used_at`) by the message that WeChat took."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wechat_subscriptions", verbose_name=_("user")
    )
    template_id = models.CharField(_("template ID"), max_length=128)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("WeChat subscription")
        verbose_name_plural = _("WeChat subscriptions")
        ordering = ["created_at"]
        indexes = [
            models.Index(
                fields=["user", "template_id", "created_at"],
                condition=Q(used_at__isnull=True),
                name="subscription_unused",
            )
        ]

    def __str__(self):
        return f"{self.user_id} {self.template_id} ({'used' if self.used_at else 'unused'})"


class Delivery(models.Model):
    """One message about one finished generation on one channel, created before anything is sent.

    The unique constraint makes every duplicate (a redelivered job, a duplicate completion) find the row that is
    already there, and the conditional claim (`pending → sending`) lets one job send it. The outcome is part of the
    key: a generation that failed and that staff retried successfully is told about both, once each.
    """

    class Channel(models.TextChoices):
        WECHAT = "wechat", _("WeChat subscribe message")
        PUSH = "push", _("App push")

    class Outcome(models.TextChoices):
        COMPLETED = "completed", _("completed")
        FAILED = "failed", _("failed")

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        SKIPPED = "skipped", _("skipped")  # nobody to send to: opted out, no subscription, no device, not configured
        REJECTED = "rejected", _("rejected")  # the provider said no for good
        FAILED = "failed", _("failed")  # transient errors until the retries ran out

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("user")
    )
    generation_id = models.UUIDField(_("generation ID"), db_index=True)
    source = models.CharField(
        _("source"), max_length=20, help_text=_("the generation's source: api, music_task or work")
    )
    title = models.CharField(_("title"), max_length=200, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    finished_at = models.DateTimeField(_("finished at"))
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    locked_until = models.DateTimeField(
        _("locked until"), null=True, blank=True, help_text=_("a worker is sending it until then")
    )
    sent_to = models.JSONField(
        _("sent to"), default=list, blank=True, help_text=_("registration ids (push) reached so far")
    )
    detail = models.CharField(
        _("detail"), max_length=300, blank=True, help_text=_("why it was skipped, rejected or failed")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        ordering = ["-created_at"]
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(fields=["generation_id", "channel", "outcome"], name="delivery_once"),
        ]

    def __str__(self):
        return f"{self.channel} {self.outcome} {self.generation_id} ({self.status})"
