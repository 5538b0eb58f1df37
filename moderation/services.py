"""Writes of moderation: screening text and media, the verdicts that arrive later, reports, the word list's version
and the log's retention.

Callers screen before they charge or show anything: `content_screen` raises 60001 (HTTP 422, `details.fields` the
refused fields, never the word that matched) when a field is risky, and tells which fields need a review; the
caller decides what "review" means for its subject (a work is kept out of the feed until staff approve it).

Every field screened leaves a `Verdict` row and counts in `tunee_moderation_verdicts_total`. Screening runs the
local word list always (staff's list applies whatever the provider) and, with MODERATION_PROVIDER=wechat, WeChat's
msgSecCheck too for users with an openid; the worse answer wins. A WeChat failure or timeout leaves the local
answer alone.
"""

import functools
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from tunee.api.errors import ApiError, Code

from . import subjects
from .metrics import VERDICTS
from .models import MediaCheck, Outcome, Report, Verdict
from .providers import MEDIA_IMAGE, SCENE_SOCIAL, Check, ModerationUnavailable, provider_name
from .providers import local as local_provider
from .providers import wechat as wechat_provider

logger = logging.getLogger(__name__)

SEVERITY = {Outcome.PASS: 0, Outcome.REVIEW: 1, Outcome.RISKY: 2}
WECHAT_TEXT_LIMIT = 2500  # msgSecCheck's longest content; longer texts are checked in pieces


@dataclass
class Screening:
    """The verdicts on a set of fields: `risky` and `review` name the fields, `labels` their labels."""

    risky: list[str] = field(default_factory=list)
    review: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def outcome(self) -> str:
        if self.risky:
            return Outcome.RISKY
        return Outcome.REVIEW if self.review else Outcome.PASS

    @property
    def label(self) -> str:
        """A short summary for staff: `title:abuse, tags:spam`."""
        return ", ".join(f"{name}:{label}" for name, label in self.labels.items() if label)[:200]


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "，".join(str(item) for item in value)
    return str(value)


def _openid(user) -> str:
    return (getattr(user, "wechat_openid", None) or "") if user is not None else ""


def _wechat_on(user) -> bool:
    return provider_name() == "wechat" and wechat_provider.is_configured() and bool(_openid(user))


def _verdict(*, user, source, field_name, check: Check, subject="", subject_id="", trace_id="") -> Verdict:
    return Verdict(
        user=user if getattr(user, "pk", None) else None,
        source=source,
        field=field_name,
        outcome=check.outcome,
        label=check.label[:50],
        provider=check.provider,
        subject=subject,
        subject_id=str(subject_id or ""),
        trace_id=trace_id or check.trace_id,
    )


@functools.cache
def _verdict_columns() -> tuple[tuple, str, str]:
    fields = tuple(f for f in Verdict._meta.local_concrete_fields if f is not Verdict._meta.pk)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    return fields, columns, "(" + ", ".join(["%s"] * len(fields)) + ")"


def _write(verdicts: list[Verdict]) -> None:
    """Insert the verdict rows in one statement and count them. On PostgreSQL a plain INSERT of the values
    Model.save() would send (each field's pre_save and database value; the ids are not read back, nobody uses
    them): a screening is on every create, and the ORM's insert machinery costs more than the round trip."""
    if not verdicts:
        return
    if connection.vendor == "postgresql":
        fields, columns, row = _verdict_columns()
        params = [f.get_db_prep_save(f.pre_save(v, True), connection) for v in verdicts for f in fields]
        table = connection.ops.quote_name(Verdict._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * len(verdicts))}", params)  # noqa: S608  # nosec B608
    else:
        Verdict.objects.bulk_create(verdicts)
    for verdict in verdicts:
        VERDICTS.labels(source=verdict.source, outcome=verdict.outcome).inc()


def _log(*, user, source, field_name, check: Check, subject="", subject_id="", trace_id="") -> None:
    _write(
        [
            _verdict(
                user=user,
                source=source,
                field_name=field_name,
                check=check,
                subject=subject,
                subject_id=subject_id,
                trace_id=trace_id,
            )
        ]
    )


def text_check(*, user, text: str, scene: int = SCENE_SOCIAL) -> Check:
    """One text through the local list, and WeChat when it applies (falling back to the local answer alone)."""
    check = local_provider.check_text(text)
    if check.outcome == Outcome.RISKY or not _wechat_on(user):
        return check
    try:
        for start in range(0, len(text), WECHAT_TEXT_LIMIT):
            answer = wechat_provider.check_text(
                text=text[start : start + WECHAT_TEXT_LIMIT], scene=scene, openid=_openid(user)
            )
            check = answer if SEVERITY[answer.outcome] >= SEVERITY[check.outcome] else check  # ties: WeChat's
            if check.outcome == Outcome.RISKY:
                break
    except ModerationUnavailable as exc:
        logger.warning("moderation: WeChat unavailable, local checks only: %s", exc)
    return check


def content_check(
    *, user, source: str, fields: dict, subject: str = "", subject_id="", scene: int = SCENE_SOCIAL
) -> Screening:
    """Screen each non-blank field; log every verdict (one INSERT for them all). Never raises for a verdict (see
    `content_screen`)."""
    screening = Screening()
    verdicts = []
    for name, value in fields.items():
        text = _text(value).strip()
        if not text:
            continue
        check = text_check(user=user, text=text, scene=scene)
        verdicts.append(
            _verdict(user=user, source=source, field_name=name, check=check, subject=subject, subject_id=subject_id)
        )
        if check.outcome == Outcome.RISKY:
            screening.risky.append(name)
        elif check.outcome == Outcome.REVIEW:
            screening.review.append(name)
        if check.outcome != Outcome.PASS:
            screening.labels[name] = check.label or check.outcome
    _write(verdicts)
    return screening


def content_screen(
    *, user, source: str, fields: dict, subject: str = "", subject_id="", scene: int = SCENE_SOCIAL
) -> Screening:
    """`content_check`, and 60001 when any field is risky: `details.fields` names them (camelCase, like the
    request), and nothing says which word matched."""
    screening = content_check(
        user=user, source=source, fields=fields, subject=subject, subject_id=subject_id, scene=scene
    )
    if screening.risky:
        raise ApiError(Code.CONTENT_REFUSED, details={"fields": [_camel(name) for name in screening.risky]})
    return screening


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


# --- media ------------------------------------------------------------------------------------------------------


def media_screen(
    *,
    user,
    source: str,
    field_name: str,
    subject: str,
    subject_id,
    file_name: str,
    media_type: int = MEDIA_IMAGE,
    scene: int = SCENE_SOCIAL,
) -> str:
    """Screen a stored photo or audio file: "pass" or "review" at once (local), or "pending" when WeChat checks it
    asynchronously (submitted once the caller's transaction commits; the verdict comes back through
    `subjects.dispatch`). Photos: works and avatars; audio: every finished song (generation/pipeline.py)."""
    if _wechat_on(user):
        check = MediaCheck.objects.create(
            user=user,
            source=source,
            field=field_name,
            subject=subject,
            subject_id=str(subject_id),
            file_name=file_name,
            media_type=media_type,
            openid=_openid(user),
        )
        transaction.on_commit(lambda: _enqueue_submit(check.pk, scene))
        return "pending"
    verdict = local_provider.check_media(media_type)
    _log(user=user, source=source, field_name=field_name, check=verdict, subject=subject, subject_id=subject_id)
    return verdict.outcome


def _enqueue_submit(check_id: int, scene: int) -> None:
    from .tasks import QUEUE, media_check_submit

    media_check_submit.apply_async(args=[check_id, scene], queue=QUEUE)


def media_check_submit(*, check_id: int, scene: int = SCENE_SOCIAL) -> None:
    """The task's body: send the file to WeChat's mediaCheckAsync; idempotent (a submitted check is left alone).
    When WeChat fails, the local media verdict decides at once."""
    from tunee.storage import public_url

    check = MediaCheck.objects.filter(pk=check_id, status=MediaCheck.Status.PENDING, trace_id="").first()
    if check is None:
        return
    try:
        trace_id = wechat_provider.submit_media(
            url=public_url(check.file_name), media_type=check.media_type, scene=scene, openid=check.openid
        )
    except ModerationUnavailable as exc:
        logger.warning("moderation: media check %s not submitted, local verdict: %s", check_id, exc)
        _media_decide(check=check, verdict=local_provider.check_media(check.media_type))
        return
    MediaCheck.objects.filter(pk=check.pk, trace_id="").update(trace_id=trace_id)


def _media_decide(*, check: MediaCheck, verdict: Check) -> bool:
    """Record the verdict of a pending check once (a conditional update), log it, and tell the subject's owner."""
    with transaction.atomic():
        claimed = MediaCheck.objects.filter(pk=check.pk, status=MediaCheck.Status.PENDING).update(
            status=MediaCheck.Status.DONE, outcome=verdict.outcome, label=verdict.label[:50], decided_at=timezone.now()
        )
        if not claimed:
            return False
        _log(
            user=check.user,
            source=check.source,
            field_name=check.field,
            check=verdict,
            subject=check.subject,
            subject_id=check.subject_id,
            trace_id=check.trace_id,
        )
        subjects.dispatch(
            subject=check.subject,
            subject_id=check.subject_id,
            field=check.field,
            outcome=verdict.outcome,
            label=verdict.label,
            file_name=check.file_name,
        )
    return True


def media_push_receive(*, body: dict) -> bool:
    """A verified `wxa_media_check` message push: apply its verdict to the check it names. False when the push
    names no check of ours or one already decided (a duplicate push)."""
    trace_id, outcome, label = wechat_provider.push_verdict(body)
    check = MediaCheck.objects.filter(trace_id=trace_id).first()
    if check is None:
        logger.info("moderation: push for unknown trace_id %s", trace_id)
        return False
    return _media_decide(check=check, verdict=Check(outcome, label, provider="wechat", trace_id=trace_id))


def media_checks_expire(*, now=None) -> int:
    """Checks without a verdict after MODERATION_MEDIA_TIMEOUT go to the staff queue (review, label "timeout")."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.MODERATION_MEDIA_TIMEOUT)
    count = 0
    for check in MediaCheck.objects.filter(status=MediaCheck.Status.PENDING, created_at__lt=cutoff):
        count += _media_decide(check=check, verdict=Check(Outcome.REVIEW, "timeout", provider=provider_name()))
    return count


# --- reports ----------------------------------------------------------------------------------------------------


def report_create(*, user, subject: str, subject_id, reason: str) -> int:
    """Record a user's report (11000 when this user reported this subject already); returns how many distinct users
    reported it since staff last decided."""
    try:
        with transaction.atomic():
            Report.objects.create(user=user, subject=subject, subject_id=str(subject_id), reason=reason)
    except IntegrityError:
        raise ApiError(Code.DUPLICATE, details={"report": ["already reported"]}) from None
    return Report.objects.filter(subject=subject, subject_id=str(subject_id), resolved_at__isnull=True).count()


def reports_resolve(*, subject: str, subject_ids: Iterable) -> int:
    """Staff decided: the open reports of these subjects are closed (they no longer count towards the threshold)."""
    ids = [str(pk) for pk in subject_ids]
    return Report.objects.filter(subject=subject, subject_id__in=ids, resolved_at__isnull=True).update(
        resolved_at=timezone.now()
    )


# --- word list and log --------------------------------------------------------------------------------------------


def word_list_changed() -> None:
    """Called after any change of the word list (admin saves and deletes): every process rebuilds its matcher."""
    transaction.on_commit(local_provider.forget_version)


def verdicts_expired(*, now=None):
    """The log rows, and the decided media checks, older than MODERATION_LOG_RETENTION_DAYS (two querysets)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.MODERATION_LOG_RETENTION_DAYS)
    return (
        Verdict.objects.filter(created_at__lt=cutoff),
        MediaCheck.objects.filter(status=MediaCheck.Status.DONE, created_at__lt=cutoff),
    )


def verdicts_purge(*, now=None) -> int:
    """Delete log rows (and decided media checks) older than MODERATION_LOG_RETENTION_DAYS; returns the rows deleted."""
    verdicts, media_checks = verdicts_expired(now=now)
    deleted, _ = verdicts.delete()
    media_checks.delete()
    return deleted
