"""Music generations: Tunee's generations and Photo Song's music tasks are the same row.

A generation owns what it produced (audio at two qualities, a cover) in the service's own storage, the charge
that paid for it (refunded at most once when it fails), and the provider's raw answers for staff.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

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
        PENDING = "pending", "排队中"
        PROCESSING = "processing", "生成中"
        COMPLETED = "completed", "已完成"
        FAILED = "failed", "失败"

    class Source(models.TextChoices):
        API = "api", "Tunee 生成"
        MUSIC_TASK = "music_task", "音乐任务"
        WORK = "work", "照片作品"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="generations")
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.API)

    # what was asked
    prompt = models.TextField(blank=True)
    style = models.CharField(max_length=100, blank=True)
    mood = models.CharField(max_length=100, blank=True)
    duration = models.PositiveSmallIntegerField(default=DEFAULT_DURATION)
    title = models.CharField(max_length=100, blank=True)
    tags = models.JSONField(default=list, blank=True)
    negative_tags = models.JSONField(default=list, blank=True)
    options = models.JSONField(default=dict, blank=True)
    device = models.CharField(max_length=100, blank=True)
    image = models.CharField(max_length=500, blank=True, help_text="storage name of the source photo, if any")
    image_analysis = models.JSONField(null=True, blank=True, help_text="what the vision provider saw")

    # how it is going
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    priority = models.BooleanField(default=False, help_text="a member's generation, on the priority queue")
    provider = models.CharField(max_length=30, blank=True)
    provider_task_id = models.CharField(max_length=200, blank=True, db_index=True)
    provider_response = models.JSONField(null=True, blank=True, help_text="the provider's last raw answer")
    attempts = models.PositiveSmallIntegerField(default=0, help_text="how many times a worker took the job")
    retries = models.PositiveSmallIntegerField(default=0, help_text="transient provider errors retried so far")
    queued_at = models.DateTimeField(
        default=timezone.now, help_text="when it (last) entered pending; GENERATION_TIMEOUT counts from here"
    )
    locked_until = models.DateTimeField(null=True, blank=True, help_text="a worker is on it until then")
    next_check_at = models.DateTimeField(
        null=True, blank=True, help_text="when a scheduled job will look at it; empty while nobody is scheduled"
    )
    charge = models.OneToOneField(
        "membership.Charge", on_delete=models.PROTECT, null=True, blank=True, related_name="generation"
    )

    # what came out
    result_title = models.CharField(max_length=200, blank=True)
    audio = models.FileField(upload_to=upload_audio, max_length=300, blank=True)
    audio_hq = models.FileField(upload_to=upload_audio_hq, max_length=300, blank=True)
    cover = models.FileField(upload_to=upload_cover, max_length=300, blank=True)
    result_duration = models.FloatField(null=True, blank=True)
    lyrics = models.TextField(blank=True)
    error_message = models.CharField(max_length=300, blank=True, help_text="shown to the user (Chinese)")
    error_message_en = models.CharField(max_length=300, blank=True, help_text="shown to English-speaking users")
    error_detail = models.TextField(blank=True, help_text="for staff")

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
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
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favorites")
    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="favorites")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["user", "generation"], name="favorite_once")]

    def __str__(self):
        return f"{self.user_id} ♥ {self.generation_id}"
