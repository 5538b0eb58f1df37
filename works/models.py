"""Photo Song's works: a photo plus the song generated from it.

A work's status is its generation's status, read through the foreign key and never stored twice; its audio and
cover are the generation's files. Tags live in a normalized table so that `?tag=` is a plain indexed join on
SQLite and PostgreSQL alike. Likes are one row per (user, work); `likes` and `plays` are counters kept with F().
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from tunee.storage import file_token


def _path(instance, filename: str, kind: str) -> str:
    """`works/<id>/<kind>-<token>.<ext>`: a random 128-bit token per file, so that the photo of a private or hidden
    work cannot be fetched by guessing its name from the work's id."""
    dot = filename.rfind(".")
    suffix = filename[dot:].lower() if dot != -1 else ".jpg"
    return f"works/{instance.pk}/{kind}-{file_token()}{suffix}"


def upload_photo(instance, filename: str) -> str:
    return _path(instance, filename, "photo")


def upload_thumbnail(instance, filename: str) -> str:
    return _path(instance, filename, "thumb")


class Tag(models.Model):
    """A tag, stored once in normalized form (trimmed, lower case)."""

    name = models.CharField(max_length=30, unique=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.CheckConstraint(condition=~Q(name=""), name="works_tag_not_blank")]

    def __str__(self):
        return self.name


class Work(models.Model):
    class Visibility(models.TextChoices):
        PUBLIC = "public", "公开"
        PRIVATE = "private", "私密"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    creator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="works")
    generation = models.OneToOneField("generation.Generation", on_delete=models.CASCADE, related_name="work")

    title = models.CharField(max_length=100, blank=True)
    description = models.TextField(max_length=1000, blank=True)
    style = models.CharField(max_length=100, blank=True)
    tags = models.ManyToManyField(Tag, through="WorkTag", related_name="works", blank=True)

    image = models.FileField(upload_to=upload_photo, max_length=300, help_text="the photo, re-encoded, no metadata")
    thumbnail = models.FileField(upload_to=upload_thumbnail, max_length=300, blank=True)

    plays = models.PositiveIntegerField(default=0)
    likes = models.PositiveIntegerField(default=0)
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC)
    featured = models.BooleanField(default=False, help_text="picked by staff")
    hidden = models.BooleanField(
        default=False,
        help_text="hidden by staff (moderation): out of the feed and the share page, whatever the creator's "
        "visibility, until staff unhide it; the creator still sees it",
    )

    class Moderation(models.TextChoices):
        APPROVED = "approved", "approved"
        PENDING = "pending", "pending (a media verdict is awaited)"
        REVIEW = "review", "review (staff decide)"
        REJECTED = "rejected", "rejected"

    moderation = models.CharField(
        max_length=10,
        choices=Moderation.choices,
        default=Moderation.APPROVED,
        help_text="content screening: only approved works reach the feed and the share page (moderation app)",
    )
    moderation_label = models.CharField(max_length=200, blank=True, help_text="why screening flagged it")

    processed_at = models.DateTimeField(
        null=True, blank=True, help_text="when the photo was thumbnailed and described and the song was started"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["visibility", "hidden", "-created_at"], name="works_feed"),
            models.Index(fields=["creator", "-created_at"], name="works_creator_time"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(visibility__in=["public", "private"]), name="works_visibility_valid"),
            models.CheckConstraint(condition=Q(plays__gte=0) & Q(likes__gte=0), name="works_counters_not_negative"),
            models.CheckConstraint(condition=~Q(image=""), name="works_has_image"),
        ]

    def __str__(self):
        return self.title or str(self.pk)

    @property
    def status(self) -> str:
        """The work's status is its generation's: pending → processing → completed | failed."""
        return self.generation.status


class WorkInReview(Work):
    """The staff's moderation queue (works/admin.py): works under review or reported, newest first."""

    class Meta:
        proxy = True
        verbose_name = "work to review"
        verbose_name_plural = "moderation queue"


class WorkTag(models.Model):
    work = models.ForeignKey(Work, on_delete=models.CASCADE, related_name="work_tags")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="work_tags")
    position = models.PositiveSmallIntegerField(default=0, help_text="the order the creator gave")

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["work", "tag"], name="works_tag_once_per_work")]

    def __str__(self):
        return f"{self.work_id} #{self.tag_id}"


class Like(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="work_likes")
    work = models.ForeignKey(Work, on_delete=models.CASCADE, related_name="like_rows")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["user", "work"], name="works_like_once")]

    def __str__(self):
        return f"{self.user_id} ♥ {self.work_id}"
