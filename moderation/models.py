"""Content safety: the word list, the log of every verdict, pending media checks, and users' reports.

Moderation knows no other app's models (it sits beside accounts: users only through AUTH_USER_MODEL). What a
verdict or a report is about is named by `subject` (`"work"`, `"avatar"`, …) and `subject_id`; the app that owns
the subject calls moderation's services, and registers in `subjects.py` what to do when a verdict arrives later.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Outcome(models.TextChoices):
    PASS = "pass", "pass"
    REVIEW = "review", "review"
    RISKY = "risky", "risky"


class Label(models.TextChoices):
    ABUSE = "abuse", "abuse"
    ILLEGAL = "illegal", "illegal"
    SEXUAL = "sexual", "sexual"
    VIOLENCE = "violence", "violence"
    SPAM = "spam", "spam"
    POLITICS = "politics", "politics"
    OTHER = "other", "other"


class Word(models.Model):
    """One entry of the local word list; matched on its normalized form (providers.local.normalize)."""

    word = models.CharField(max_length=100)
    normalized = models.CharField(max_length=100, unique=True, editable=False)
    label = models.CharField(max_length=20, choices=Label.choices, default=Label.OTHER)
    outcome = models.CharField(
        max_length=10,
        choices=[(Outcome.RISKY, "risky: refused (60001)"), (Outcome.REVIEW, "review: kept out of the feed")],
        default=Outcome.RISKY,
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
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

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    source = models.CharField(max_length=30, help_text="where: generation, music_task, work, work_vision, profile…")
    field = models.CharField(max_length=30, help_text="prompt, title, description, tags, username, photo, avatar…")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    label = models.CharField(max_length=50, blank=True)
    provider = models.CharField(max_length=20, help_text="local or wechat (local also when WeChat failed)")
    subject = models.CharField(max_length=20, blank=True)
    subject_id = models.CharField(max_length=64, blank=True)
    trace_id = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["subject", "subject_id"], name="moderation_verdict_subject")]

    def __str__(self):
        return f"{self.source}.{self.field}: {self.outcome}"


class MediaCheck(models.Model):
    """A photo or audio sent to WeChat's mediaCheckAsync: pending until the message push brings the verdict."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        DONE = "done", "done"

    created_at = models.DateTimeField(auto_now_add=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    source = models.CharField(max_length=30)
    field = models.CharField(max_length=30)
    subject = models.CharField(max_length=20)
    subject_id = models.CharField(max_length=64)
    file_name = models.CharField(max_length=300)
    media_type = models.PositiveSmallIntegerField(default=2, help_text="1 audio, 2 image")
    openid = models.CharField(max_length=64)
    trace_id = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    label = models.CharField(max_length=50, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
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
        SPAM = "spam", "spam"
        ABUSE = "abuse", "abuse"
        SEXUAL = "sexual", "sexual"
        VIOLENCE = "violence", "violence"
        ILLEGAL = "illegal", "illegal"
        COPYRIGHT = "copyright", "copyright"
        OTHER = "other", "other"

    created_at = models.DateTimeField(auto_now_add=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="moderation_reports")
    subject = models.CharField(max_length=20)
    subject_id = models.CharField(max_length=64)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    resolved_at = models.DateTimeField(null=True, blank=True, help_text="when staff decided on the subject")

    class Meta:
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
