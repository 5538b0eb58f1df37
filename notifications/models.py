"""Telling users their song is ready: the app devices they registered, the WeChat one-time subscriptions they
granted, and one delivery row per finished generation, channel and outcome.

Generations are named by id only (no foreign key): notifications sits below generation and works and never imports
them (generation calls `tasks.enqueue_song_finished` with what the message needs).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Device(models.Model):
    """A phone app installation that JPush can reach. A registration id belongs to one user at a time: the newest
    user who registers it (the phone changed hands, or another account logged in on it)."""

    class Platform(models.TextChoices):
        IOS = "ios", "iOS"
        ANDROID = "android", "Android"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_devices")
    platform = models.CharField(max_length=10, choices=Platform.choices)
    registration_id = models.CharField(max_length=128, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        constraints = [models.CheckConstraint(condition=Q(platform__in=["ios", "android"]), name="device_platform")]

    def __str__(self):
        return f"{self.platform} {self.registration_id}"


class Subscription(models.Model):
    """One WeChat one-time subscription the mini program obtained (`wx.requestSubscribeMessage`): it allows one
    subscribe message of `template_id` to the user, and is used up (`used_at`) by the message that WeChat took."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wechat_subscriptions")
    template_id = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
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
        WECHAT = "wechat", "WeChat subscribe message"
        PUSH = "push", "App push"

    class Outcome(models.TextChoices):
        COMPLETED = "completed", "completed"
        FAILED = "failed", "failed"

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        SENDING = "sending", "sending"
        SENT = "sent", "sent"
        SKIPPED = "skipped", "skipped"  # nobody to send to: opted out, no subscription, no device, not configured
        REJECTED = "rejected", "rejected"  # the provider said no for good
        FAILED = "failed", "failed"  # transient errors until the retries ran out

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="deliveries")
    generation_id = models.UUIDField(db_index=True)
    source = models.CharField(max_length=20, help_text="the generation's source: api, music_task or work")
    title = models.CharField(max_length=200, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    finished_at = models.DateTimeField()
    channel = models.CharField(max_length=10, choices=Channel.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True, help_text="a worker is sending it until then")
    sent_to = models.JSONField(default=list, blank=True, help_text="registration ids (push) reached so far")
    detail = models.CharField(max_length=300, blank=True, help_text="why it was skipped, rejected or failed")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["generation_id", "channel", "outcome"], name="delivery_once"),
        ]

    def __str__(self):
        return f"{self.channel} {self.outcome} {self.generation_id} ({self.status})"
