"""Photo Song's works: a photo plus the song generated from it.

A work's status is its generation's status, read through the foreign key and never stored twice; its audio and
cover are the generation's files. Tags live in a normalized table so that `?tag=` is a plain indexed join on
SQLite and PostgreSQL alike. Likes are one row per (user, work); `likes` and `plays` are counters kept with F().
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

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

    name = models.CharField(_("name"), max_length=30, unique=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]
        constraints = [models.CheckConstraint(condition=~Q(name=""), name="works_tag_not_blank")]

    def __str__(self):
        return self.name


class Work(models.Model):
    class Visibility(models.TextChoices):
        PUBLIC = "public", _("public")
        PRIVATE = "private", _("private")

    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False)
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="works", verbose_name=_("creator")
    )
    generation = models.OneToOneField(
        "generation.Generation", on_delete=models.CASCADE, related_name="work", verbose_name=_("generation")
    )

    title = models.CharField(_("title"), max_length=100, blank=True)
    description = models.TextField(_("description"), max_length=1000, blank=True)
    style = models.CharField(_("style"), max_length=100, blank=True)
    tags = models.ManyToManyField(Tag, through="WorkTag", related_name="works", blank=True, verbose_name=_("tags"))

    image = models.FileField(
        _("photo"), upload_to=upload_photo, max_length=300, help_text=_("the photo, re-encoded, no metadata")
    )
    thumbnail = models.FileField(_("thumbnail"), upload_to=upload_thumbnail, max_length=300, blank=True)

    plays = models.PositiveIntegerField(_("play count"), default=0)
    likes = models.PositiveIntegerField(_("like count"), default=0)
    visibility = models.CharField(_("visibility"), max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC)
    featured = models.BooleanField(_("featured"), default=False, help_text=_("picked by staff"))
    hidden = models.BooleanField(
        _("hidden"),
        default=False,
        help_text=_(
            "hidden by staff (moderation): out of the feed and the share page, whatever the creator's "
            "visibility, until staff unhide it; the creator still sees it"
        ),
    )

    class Moderation(models.TextChoices):
        APPROVED = "approved", _("approved")
        PENDING = "pending", _("pending (a media verdict is awaited)")
        REVIEW = "review", _("review (staff decide)")
        REJECTED = "rejected", _("rejected")

    moderation = models.CharField(
        _("screening"),
        max_length=10,
        choices=Moderation.choices,
        default=Moderation.APPROVED,
        help_text=_("content screening: only approved works reach the feed and the share page (moderation app)"),
    )
    moderation_label = models.CharField(
        _("screening label"), max_length=200, blank=True, help_text=_("why screening flagged it")
    )

    processed_at = models.DateTimeField(
        _("processed at"),
        null=True,
        blank=True,
        help_text=_("when the photo was thumbnailed and described and the song was started"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("work")
        verbose_name_plural = _("works")
        ordering = ["-created_at"]
        # The moderation queue's decisions and hiding (accounts/roles.py hands it out); editing a work is change_work
        permissions = [("moderate_work", "Can approve, hide and unhide works")]
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
        verbose_name = _("work to review")
        verbose_name_plural = _("moderation queue")


class WorkTag(models.Model):
    work = models.ForeignKey(Work, on_delete=models.CASCADE, related_name="work_tags", verbose_name=_("work"))
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="work_tags", verbose_name=_("tag"))
    position = models.PositiveSmallIntegerField(_("position"), default=0, help_text=_("the order the creator gave"))

    class Meta:
        verbose_name = _("work tag")
        verbose_name_plural = _("work tags")
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["work", "tag"], name="works_tag_once_per_work")]

    def __str__(self):
        return f"{self.work_id} #{self.tag_id}"


class Like(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="work_likes", verbose_name=_("user")
    )
    work = models.ForeignKey(Work, on_delete=models.CASCADE, related_name="like_rows", verbose_name=_("work"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("like")
        verbose_name_plural = _("likes")
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["user", "work"], name="works_like_once")]

    def __str__(self):
        return f"{self.user_id} ♥ {self.work_id}"
