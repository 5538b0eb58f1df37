"""Music generations: Tunee's generations and Photo Song's music tasks are the same row.

A generation owns what it produced (audio at two qualities, a cover) in the service's own storage, the charge
that paid for it (refunded at most once when it fails), and the provider's raw answers for staff.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tunee.api.i18n import is_english
from tunee.storage import PRIVATE_PREFIX, file_token

MIN_DURATION = 10
MAX_DURATION = 240
DEFAULT_DURATION = 30
TAG_MAX = 20  # tags of a generation (and of a work), each at most TAG_LENGTH characters
TAG_LENGTH = 30


def _path(instance, filename: str, kind: str, *, private: bool = False) -> str:
    """`generations/<id>/<kind>-<token>.<ext>`: each file has its own random 128-bit token, so a generation's id or
    one of its URLs reveals no other file. Members' high-quality audio lives under `private/`, which is served only
    through expiring signed URLs (tunee/storage.py). The extension is the one of the name given (the pipeline
    names files by their detected type)."""
    dot = filename.rfind(".")
    suffix = filename[dot:].lower() if dot != -1 else ""
    prefix = PRIVATE_PREFIX if private else ""
    return f"{prefix}generations/{instance.pk}/{kind}-{file_token()}{suffix}"


def upload_audio(instance, filename):
    return _path(instance, filename, "audio")


def upload_audio_hq(instance, filename):
    return _path(instance, filename, "audio-hq", private=True)


def upload_cover(instance, filename):
    return _path(instance, filename, "cover")


class Generation(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("queued")
        PROCESSING = "processing", _("generating")
        COMPLETED = "completed", _("completed")
        FAILED = "failed", _("failed")

    class Source(models.TextChoices):
        API = "api", _("Tunee generation")
        MUSIC_TASK = "music_task", _("music task")
        WORK = "work", _("photo song")

    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="generations", verbose_name=_("user")
    )
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, default=Source.API)

    # what was asked
    prompt = models.TextField(_("prompt"), blank=True)
    style = models.CharField(_("style"), max_length=100, blank=True)
    mood = models.CharField(_("mood"), max_length=100, blank=True)
    duration = models.PositiveSmallIntegerField(_("duration (seconds)"), default=DEFAULT_DURATION)
    title = models.CharField(_("title"), max_length=100, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    negative_tags = models.JSONField(_("negative tags"), default=list, blank=True)
    options = models.JSONField(_("options"), default=dict, blank=True)
    device = models.CharField(_("device"), max_length=100, blank=True)
    image = models.CharField(
        _("source photo"), max_length=500, blank=True, help_text=_("storage name of the source photo, if any")
    )
    image_analysis = models.JSONField(
        _("photo analysis"), null=True, blank=True, help_text=_("what the vision provider saw")
    )

    # how it is going
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    priority = models.BooleanField(
        _("priority"), default=False, help_text=_("a member's generation, on the priority queue")
    )
    provider = models.CharField(_("provider"), max_length=30, blank=True)
    provider_task_id = models.CharField(_("provider task ID"), max_length=200, blank=True, db_index=True)
    provider_response = models.JSONField(
        _("provider response"), null=True, blank=True, help_text=_("the provider's last raw answer")
    )
    attempts = models.PositiveSmallIntegerField(
        _("attempts"), default=0, help_text=_("how many times a worker took the job")
    )
    retries = models.PositiveSmallIntegerField(
        _("retries"), default=0, help_text=_("transient provider errors retried so far")
    )
    queued_at = models.DateTimeField(
        _("queued at"),
        default=timezone.now,
        help_text=_("when it (last) entered pending; GENERATION_TIMEOUT counts from here"),
    )
    locked_until = models.DateTimeField(
        _("locked until"), null=True, blank=True, help_text=_("a worker is on it until then")
    )
    next_check_at = models.DateTimeField(
        _("next check at"),
        null=True,
        blank=True,
        help_text=_("when a scheduled job will look at it; empty while nobody is scheduled"),
    )
    charge = models.OneToOneField(
        "membership.Charge",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="generation",
        verbose_name=_("charge"),
    )

    # what came out
    result_title = models.CharField(_("result title"), max_length=200, blank=True)
    audio = models.FileField(_("audio"), upload_to=upload_audio, max_length=300, blank=True)
    audio_hq = models.FileField(_("high-quality audio"), upload_to=upload_audio_hq, max_length=300, blank=True)
    cover = models.FileField(_("cover"), upload_to=upload_cover, max_length=300, blank=True)
    result_duration = models.FloatField(_("result duration (seconds)"), null=True, blank=True)
    lyrics = models.TextField(_("lyrics"), blank=True)
    error_message = models.CharField(
        _("error message"), max_length=300, blank=True, help_text=_("shown to the user (Chinese)")
    )
    error_message_en = models.CharField(
        _("error message (English)"), max_length=300, blank=True, help_text=_("shown to English-speaking users")
    )
    error_detail = models.TextField(_("error detail"), blank=True, help_text=_("for staff"))

    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("generation")
        verbose_name_plural = _("generations")
        ordering = ["-created_at"]
        # Staff actions (accounts/roles.py hands them out); services check them too
        permissions = [
            ("retry_generation", "Can retry a failed generation for free"),
            ("fail_generation", "Can fail and refund a pending or processing generation"),
            ("refund_generation", "Can refund what a completed generation cost"),
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="generation_user_time")]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration__gte=MIN_DURATION) & Q(duration__lte=MAX_DURATION),
                name="generation_duration_range",
            ),
            models.CheckConstraint(
                condition=~Q(status="completed") | ~Q(audio=""), name="generation_completed_has_audio"
            ),
            models.CheckConstraint(
                condition=~Q(status="completed") | Q(completed_at__isnull=False),
                name="generation_completed_has_time",
            ),
        ]

    def __str__(self):
        return f"{self.pk} ({self.status})"

    @property
    def error_text(self) -> str:
        """The failure reason in the active language (Chinese unless English is active and was stored)."""
        if is_english() and self.error_message_en:
            return self.error_message_en
        return self.error_message


class Favorite(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favorites", verbose_name=_("user")
    )
    generation = models.ForeignKey(
        Generation, on_delete=models.CASCADE, related_name="favorites", verbose_name=_("generation")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("favorite")
        verbose_name_plural = _("favorites")
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["user", "generation"], name="favorite_once")]

    def __str__(self):
        return f"{self.user_id} ♥ {self.generation_id}"
