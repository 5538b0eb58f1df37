"""Content safety: the word list, the log of every verdict, pending media checks, and users' reports.

Moderation knows no other app's models (it sits beside accounts: users only through AUTH_USER_MODEL). What a
verdict or a report is about is named by `subject` (`"work"`, `"avatar"`, …) and `subject_id`; the app that owns
the subject calls moderation's services, and registers in `subjects.py` what to do when a verdict arrives later.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Outcome(models.TextChoices):
    PASS = "pass", _("pass")
    REVIEW = "review", _("review")
    RISKY = "risky", _("risky")


class Label(models.TextChoices):
    ABUSE = "abuse", _("abuse")
    ILLEGAL = "illegal", _("illegal")
    SEXUAL = "sexual", _("sexual")
    VIOLENCE = "violence", _("violence")
    SPAM = "spam", _("spam")
    POLITICS = "politics", _("politics")
    OTHER = "other", _("other")


class Word(models.Model):
    """One entry of the local word list; matched on its normalized form (providers.local.normalize)."""

    word = models.CharField(_("word"), max_length=100)
    normalized = models.CharField(_("normalized form"), max_length=100, unique=True, editable=False)
    label = models.CharField(_("label"), max_length=20, choices=Label.choices, default=Label.OTHER)
    outcome = models.CharField(
        _("outcome"),
        max_length=10,
        choices=[(Outcome.RISKY, _("risky: refused (60001)")), (Outcome.REVIEW, _("review: kept out of the feed"))],
        default=Outcome.RISKY,
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("word")
        verbose_name_plural = _("word list")
        ordering = ["label", "word"]
        constraints = [
            models.CheckConstraint(condition=~Q(normalized=""), name="moderation_word_not_blank"),
            models.CheckConstraint(condition=Q(outcome__in=["risky", "review"]), name="moderation_word_outcome"),
        ]

    def __str__(self):
        return self.word

    def save(self, *args, **kwargs):
        from .providers.local import normalize

        self.normalized = normalize(self.word)[:100]
        if kwargs.get("update_fields") is not None and "word" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "normalized"}
        super().save(*args, **kwargs)


class Verdict(models.Model):
    """The log of every verdict (kept MODERATION_LOG_RETENTION_DAYS days): what was screened where, and the answer.
    The screened text itself is not kept."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("user")
    )
    source = models.CharField(
        _("source"), max_length=30, help_text=_("where: generation, music_task, work, work_vision, profile…")
    )
    field = models.CharField(
        _("field"), max_length=30, help_text=_("prompt, title, description, tags, username, photo, avatar…")
    )
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    label = models.CharField(_("label"), max_length=50, blank=True)
    provider = models.CharField(
        _("provider"), max_length=20, help_text=_("local or wechat (local also when WeChat failed)")
    )
    subject = models.CharField(_("subject"), max_length=20, blank=True)
    subject_id = models.CharField(_("subject ID"), max_length=64, blank=True)
    trace_id = models.CharField(_("trace ID"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("verdict")
        verbose_name_plural = _("verdicts")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["subject", "subject_id"], name="moderation_verdict_subject")]

    def __str__(self):
        return f"{self.source}.{self.field}: {self.outcome}"


class MediaCheck(models.Model):
    """A photo or audio sent to WeChat's mediaCheckAsync: pending until the message push brings the verdict."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        DONE = "done", _("done")

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("user")
    )
    source = models.CharField(_("source"), max_length=30)
    field = models.CharField(_("field"), max_length=30)
    subject = models.CharField(_("subject"), max_length=20)
    subject_id = models.CharField(_("subject ID"), max_length=64)
    file_name = models.CharField(_("file name"), max_length=300)
    media_type = models.PositiveSmallIntegerField(_("media type"), default=2, help_text=_("1 audio, 2 image"))
    openid = models.CharField(_("openid"), max_length=64)
    trace_id = models.CharField(_("trace ID"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True)
    label = models.CharField(_("label"), max_length=50, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("media check")
        verbose_name_plural = _("media checks")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["trace_id"], condition=~Q(trace_id=""), name="moderation_trace_once")
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="moderation_media_pending")]

    def __str__(self):
        return f"{self.subject}:{self.subject_id} {self.field} ({self.status})"


class Report(models.Model):
    """A user's report of something published; once per user and subject."""

    class Reason(models.TextChoices):
        SPAM = "spam", _("spam")
        ABUSE = "abuse", _("abuse")
        SEXUAL = "sexual", _("sexual")
        VIOLENCE = "violence", _("violence")
        ILLEGAL = "illegal", _("illegal")
        COPYRIGHT = "copyright", _("copyright")
        OTHER = "other", _("other")

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="moderation_reports", verbose_name=_("user")
    )
    subject = models.CharField(_("subject"), max_length=20)
    subject_id = models.CharField(_("subject ID"), max_length=64)
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    resolved_at = models.DateTimeField(
        _("resolved at"), null=True, blank=True, help_text=_("when staff decided on the subject")
    )

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["subject", "subject_id", "user"], name="moderation_report_once"),
            models.CheckConstraint(
                condition=Q(reason__in=["spam", "abuse", "sexual", "violence", "illegal", "copyright", "other"]),
                name="moderation_report_reason",
            ),
        ]
        indexes = [models.Index(fields=["subject", "subject_id"], name="moderation_report_subject")]

    def __str__(self):
        return f"{self.user_id} reported {self.subject}:{self.subject_id} ({self.reason})"
