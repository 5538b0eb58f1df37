"""Writes of works: creation from a photo, processing (thumbnail, starting the song, showing what the song's
pipeline read in the photo), edits, deletion, likes, plays and moderation.

A work wraps a generation: creating a work charges one generation like any other route (40004 when none is left:
checked before the photo is even decoded, and charged for real in the transaction that creates the work). The
generation pipeline is the one place that describes the photo and fills the blanks (`generation.pipeline.
_describe`, with its retries and the offline fallback); the work's job makes the thumbnail, starts the song, and
copies what the pipeline filled in into the blanks the creator left (`work_fill`).
"""

import hashlib
import logging
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from accounts.roles import require_permission
from generation.models import Generation
from generation.services import clean_tags, generation_create, generation_fail, generation_start
from membership.selectors import quota_ensure_payable
from moderation import services as moderation
from moderation.models import Outcome
from tunee.api.errors import ApiError, Code
from tunee.api.i18n import T
from tunee.api.ids import parse_id

from . import caching
from .images import PhotoRefused, photo_prepare, thumbnail_make
from .models import Like, Tag, Work, WorkTag, upload_photo, upload_thumbnail
from .selectors import PUBLIC_RULE, normalize_tag, work_get_visible

logger = logging.getLogger(__name__)

DELETED_BEFORE_START = T("作品已删除", "The work was deleted")
NOT_STARTED = T("照片处理失败，请重新上传", "The photo could not be processed, please upload it again")


def _clean_tags(tags: Iterable[str] | None) -> list[str]:
    """Normalized (selectors.normalize_tag), within the generation's tag limits, without blanks or repeats."""
    return clean_tags(tags, normalize=normalize_tag)


def _tags_set(*, work: Work, names: list[str]) -> None:
    WorkTag.objects.filter(work=work).delete()
    if not names:
        return
    Tag.objects.bulk_create([Tag(name=name) for name in names], ignore_conflicts=True)
    by_name = dict(Tag.objects.filter(name__in=names).values_list("name", "pk"))
    WorkTag.objects.bulk_create(
        [WorkTag(work=work, tag_id=by_name[name], position=position) for position, name in enumerate(names)]
    )


def work_create(
    *,
    user,
    image,
    title: str = "",
    description: str = "",
    style: str = "",
    tags: list[str] | None = None,
) -> Work:
    """A work from an uploaded photo: 40004 at once when the user could not pay for it (before a single pixel is
    decoded: refusing costs nothing); the photo is checked and cleaned (30001 when refused, nothing charged),
    stored, and then the work and its generation are created in one transaction, where the charge decides (40004
    when a concurrent request used the last unit: nothing is created and the stored photo is removed again).
    `work_process` is enqueued on commit.

    Not wrapped in one `@transaction.atomic` on purpose: decoding and storing the photo happen before the
    transaction, so that no database transaction stays open during file work.
    """
    quota_ensure_payable(user=user)
    work_id = uuid.uuid4()
    names = _clean_tags(tags)
    # What the creator wrote is screened before anything is charged or stored (60001 when refused).
    screening = moderation.content_screen(
        user=user,
        source="work",
        fields={"title": title, "description": description, "style": style, "tags": names},
        subject="work",
        subject_id=work_id,
    )
    try:
        photo = photo_prepare(image)
    except PhotoRefused as refused:
        raise refused.as_api_error() from None

    stored = default_storage.save(
        upload_photo(Work(pk=work_id), f"photo.{photo.extension}"), ContentFile(photo.content)
    )
    try:
        with transaction.atomic():
            generation = generation_create(
                user=user,
                source=Generation.Source.WORK,
                prompt=description,
                style=style,
                title=title,
                tags=names,
                image=stored,
                enqueue=False,
                screen=False,  # screened above, before the photo was even decoded
            )
            photo_state = moderation.media_screen(
                user=user, source="work", field_name="photo", subject="work", subject_id=work_id, file_name=stored
            )
            state, label = _moderation_state(screening, photo_state)
            work = Work.objects.create(
                id=work_id,
                creator=user,
                generation=generation,
                title=title,
                description=description,
                style=style,
                image=stored,
                moderation=state,
                moderation_label=label,
            )
            _tags_set(work=work, names=names)
            transaction.on_commit(lambda: _enqueue_process(work_id))
    except BaseException:
        default_storage.delete(stored)
        raise
    return work


def _moderation_state(screening, photo_state: str) -> tuple[str, str]:
    """A new work's review state: review when a text or the photo needs staff, pending while WeChat reads the photo,
    approved otherwise."""
    label = screening.label
    if photo_state == Outcome.REVIEW:
        label = ", ".join(part for part in (label, "photo:manual") if part)
    if screening.outcome == Outcome.REVIEW or photo_state == Outcome.REVIEW:
        return Work.Moderation.REVIEW, label
    if photo_state == "pending":
        return Work.Moderation.PENDING, label
    return Work.Moderation.APPROVED, label


def _enqueue_process(work_id) -> None:
    from .tasks import QUEUE, work_process

    work_process.apply_async(args=[str(work_id)], queue=QUEUE)


def _thumbnail_ensure(work: Work) -> None:
    """Best effort: a work without a thumbnail shows its photo instead (WorkSerializer.thumbnail_url), so nothing
    that goes wrong here may hold up the song."""
    if work.thumbnail:
        return
    try:
        with default_storage.open(work.image.name, "rb") as handle:
            content = thumbnail_make(handle.read())
        name = default_storage.save(upload_thumbnail(work, "thumb.jpg"), ContentFile(content))
    except Exception:
        logger.exception("work %s: no thumbnail could be made", work.pk)
        return
    if not Work.objects.filter(pk=work.pk, thumbnail="").update(thumbnail=name):
        default_storage.delete(name)  # a concurrent run stored one first, or the work is gone


def work_process(*, work_id) -> bool:
    """The work's job; idempotent. Makes the thumbnail and starts the song (the pipeline describes the photo and
    fills the generation's blanks), then copies what it filled into the work (`work_fill`).

    True when nothing is left to do; False while the pipeline has not described the photo yet (the task looks
    again later). A work deleted meanwhile is skipped (its deletion failed and refunded an unstarted generation).
    """
    work = Work.objects.select_related("generation").filter(pk=work_id).first()
    if work is None:
        return True
    if work.processed_at is None:
        _thumbnail_ensure(work)
        _work_start(work_id=work.pk)
    return work_fill(work_id=work.pk)


@transaction.atomic
def _work_start(*, work_id) -> None:
    work = Work.objects.select_for_update().select_related("generation").filter(pk=work_id).first()
    if work is None or work.processed_at is not None:
        return
    work.processed_at = timezone.now()
    work.save(update_fields=["processed_at", "updated_at"])
    generation_start(generation=work.generation)
    caching.invalidate(work.pk)


FINISHED = (Generation.Status.COMPLETED, Generation.Status.FAILED)


@transaction.atomic
def work_fill(*, work_id) -> bool:
    """Show in the blanks the creator left (title, description, style, tags) what the pipeline filled in from the
    photo: the generation's title, style and tags, the analysis's description. What the creator typed stays.

    True when done: copied, or the work is gone, or its song finished without an analysis. False while the
    pipeline has not described the photo yet.
    """
    work = Work.objects.select_for_update().filter(pk=work_id).first()
    if work is None:
        return True
    generation = (
        Generation.objects.filter(pk=work.generation_id).values("status", "title", "style", "tags", "image_analysis")
    ).get()
    analysis = generation["image_analysis"]
    if not isinstance(analysis, dict):
        return generation["status"] in FINISHED
    candidates = {}
    for field, value in (
        ("title", generation["title"]),
        ("description", analysis.get("description")),
        ("style", generation["style"]),
    ):
        if not getattr(work, field) and isinstance(value, str) and value.strip():
            candidates[field] = value.strip()[: Work._meta.get_field(field).max_length]
    if not work.work_tags.exists():
        names = _clean_tags(generation["tags"] if isinstance(generation["tags"], list) else [])
        if names:
            candidates["tags"] = names
    # The vision model's text is screened like the creator's before it is shown: a field flagged risky or for review
    # is simply not used (the blank stays). With WeChat this holds the row lock during its calls; a job, not a request.
    screening = moderation.content_check(
        user=work.creator, source="work_vision", fields=candidates, subject="work", subject_id=work.pk
    )
    for field in (*screening.risky, *screening.review):
        candidates.pop(field, None)
    names = candidates.pop("tags", None)
    for field, value in candidates.items():
        setattr(work, field, value)
    if candidates:
        work.save(update_fields=[*candidates, "updated_at"])
    if names:
        _tags_set(work=work, names=names)
    caching.invalidate(work.pk)
    return True


def work_abandon(*, work_id) -> None:
    """The work's job broke before the song started (a bug, the database down): fail the generation and refund
    it, so that nobody waits for a song that will never start. Nothing happens to a song already started."""
    work = Work.objects.select_related("generation").filter(pk=work_id).first()
    if work is None or work.processed_at is not None:
        return
    generation_fail(generation=work.generation, message=NOT_STARTED)
    caching.invalidate(work.pk)


@transaction.atomic
def work_update(
    *,
    work: Work,
    title: str | None = None,
    description: str | None = None,
    tags: list[str] | None = None,
    visibility: str | None = None,
) -> Work:
    """Edit what the creator may edit; fields left as None stay as they are. New text is screened first (60001,
    nothing changed); text that needs a review sends the work back to the staff queue."""
    names = _clean_tags(tags) if tags is not None else None
    screening = moderation.content_screen(
        user=work.creator,
        source="work",
        fields={
            "title": title if title is not None and title != work.title else "",
            "description": description if description is not None and description != work.description else "",
            "tags": names or [],
        },
        subject="work",
        subject_id=work.pk,
    )
    changed = []
    if screening.outcome == Outcome.REVIEW and work.moderation != Work.Moderation.REJECTED:
        work.moderation = Work.Moderation.REVIEW
        work.moderation_label = screening.label
        changed += ["moderation", "moderation_label"]
    for field, value in (("title", title), ("description", description), ("visibility", visibility)):
        if value is not None and getattr(work, field) != value:
            setattr(work, field, value)
            changed.append(field)
    if changed:
        work.save(update_fields=[*changed, "updated_at"])
    if names is not None:
        _tags_set(work=work, names=names)
    caching.invalidate(work.pk)
    return work


@transaction.atomic
def work_delete(*, work: Work) -> None:
    """Delete a work; its photo and thumbnail leave the storage once the deletion has committed (`files_delete`), so
    a deletion that rolls back deletes no file, and a storage failure afterwards leaves the work deleted (the files
    it could not remove are logged as orphans, never served by the API again). The song stays in the creator's
    generation history; a song that had not started yet is failed and refunded instead."""
    work = Work.objects.select_for_update().select_related("generation").filter(pk=work.pk).first()
    if work is None:
        raise ApiError(Code.WORK_NOT_FOUND)
    if work.processed_at is None:
        generation_fail(generation=work.generation, message=DELETED_BEFORE_START)
    names = [name for name in (work.image.name, work.thumbnail.name) if name]
    work_id = work.pk
    work.delete()
    caching.invalidate(work_id)
    transaction.on_commit(lambda: files_delete(names=names, owner=f"work {work_id}"))


def files_delete(*, names: Iterable[str], owner: str = "") -> list[str]:
    """Remove stored files, each on its own; returns (and logs) the names the storage failed to delete."""
    left = []
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:
            logger.exception("%s: deleting %s from the storage failed, the file stays as an orphan", owner, name)
            left.append(name)
    return left


# The toggle in one statement (PostgreSQL): the user's like deleted if there is one, else inserted (a concurrent
# insert of the same like wins and this one does nothing), and the counter moved by exactly what happened to the rows.
_LIKE_TOGGLE_SQL = f"""
WITH gone AS (
    DELETE FROM {Like._meta.db_table} WHERE user_id = %(user)s AND work_id = %(work)s RETURNING 1
), added AS (
    INSERT INTO {Like._meta.db_table} (user_id, work_id, created_at)
    SELECT %(user)s, %(work)s, %(now)s WHERE NOT EXISTS (SELECT 1 FROM gone)
    ON CONFLICT (user_id, work_id) DO NOTHING RETURNING 1
)
UPDATE {Work._meta.db_table} SET likes = likes + (SELECT count(*) FROM added) - (SELECT count(*) FROM gone)
WHERE id = %(work)s RETURNING NOT EXISTS (SELECT 1 FROM gone), likes
"""  # noqa: S608  # nosec B608  (table names from the models; every value is a parameter)


def work_like_toggle(*, user, work: Work) -> tuple[bool, int]:
    """Like or unlike; returns (liked, likes). The counter moves exactly when a Like row is created or deleted, so
    however many requests race it equals the number of rows. One statement on PostgreSQL."""
    if connection.vendor == "postgresql":
        try:
            with connection.cursor() as cursor:
                cursor.execute(_LIKE_TOGGLE_SQL, {"user": user.pk, "work": work.pk, "now": timezone.now()})
                row = cursor.fetchone()
        except IntegrityError:  # the work was deleted since it was read (the new like's foreign key)
            row = None
        if row is None:  # the work is gone: nothing to like, and nothing changed
            raise ApiError(Code.NOT_FOUND)
        liked, likes = row
        caching.invalidate(work.pk)
        return liked, likes
    with transaction.atomic():
        return _like_toggle_orm(user=user, work=work)


def _public_rule_sql() -> tuple[str, dict]:
    """`selectors.PUBLIC_RULE` as SQL over `w` (the work) and `g` (its generation), with its values as parameters:
    the rule stays written once; a lookup this cannot translate fails at import, not silently."""
    terms, params = [], {}
    for n, (lookup, value) in enumerate(PUBLIC_RULE.items()):
        related = lookup.startswith("generation__")
        model, alias, name = (Generation, "g", lookup.removeprefix("generation__")) if related else (Work, "w", lookup)
        if "__" in name:
            raise ImproperlyConfigured(f"PUBLIC_RULE lookup {lookup!r}: only a work's or its generation's field")
        terms.append(f"{alias}.{connection.ops.quote_name(model._meta.get_field(name).column)} = %(rule_{n})s")
        params[f"rule_{n}"] = value
    return " AND ".join(terms), params


_PUBLIC_SQL, _PUBLIC_PARAMS = _public_rule_sql()

# The toggle of the like API in one statement (PostgreSQL), with the access check of `selectors.work_get_visible`
# in it (the work public by `PUBLIC_RULE`, or the requester's own): `target` is the work when the requester may see
# it, and nothing is written otherwise. The same toggle as `_LIKE_TOGGLE_SQL`, on `target`.
_LIKE_TOGGLE_VISIBLE_SQL = f"""
WITH target AS (
    SELECT w.id FROM {Work._meta.db_table} w JOIN {Generation._meta.db_table} g ON g.id = w.generation_id
    WHERE w.id = %(work)s AND (({_PUBLIC_SQL}) OR w.creator_id = %(user)s)
), gone AS (
    DELETE FROM {Like._meta.db_table} WHERE user_id = %(user)s AND work_id IN (SELECT id FROM target) RETURNING 1
), added AS (
    INSERT INTO {Like._meta.db_table} (user_id, work_id, created_at)
    SELECT %(user)s, id, %(now)s FROM target WHERE NOT EXISTS (SELECT 1 FROM gone)
    ON CONFLICT (user_id, work_id) DO NOTHING RETURNING 1
)
UPDATE {Work._meta.db_table} SET likes = likes + (SELECT count(*) FROM added) - (SELECT count(*) FROM gone)
WHERE id IN (SELECT id FROM target) RETURNING NOT EXISTS (SELECT 1 FROM gone), likes
"""  # noqa: S608  # nosec B608  (table and column names from the models; every value is a parameter)


def work_like_toggle_visible(*, user, work_id) -> tuple[bool, int]:
    """The like API: like or unlike a work the requester may see (`selectors.work_get_visible`: else 30000, and
    nothing changes); returns (liked, likes), exact however many requests race, like `work_like_toggle`. On
    PostgreSQL the access check and the toggle are one statement: no work row is loaded, the toggle needs only its
    id."""
    work_id = parse_id(work_id)
    if connection.vendor != "postgresql":
        return work_like_toggle(user=user, work=work_get_visible(user=user, work_id=work_id))
    params = {"user": user.pk, "work": work_id, "now": timezone.now(), **_PUBLIC_PARAMS}
    try:
        with connection.cursor() as cursor:
            cursor.execute(_LIKE_TOGGLE_VISIBLE_SQL, params)
            row = cursor.fetchone()
    except IntegrityError:  # the work was deleted while the statement ran (the new like's foreign key)
        row = None
    if row is None:  # missing, not visible to the requester, or just deleted: nothing changed
        raise ApiError(Code.WORK_NOT_FOUND)
    liked, likes = row
    caching.invalidate(work_id)
    return liked, likes


def _like_toggle_orm(*, user, work: Work) -> tuple[bool, int]:
    deleted, _ = Like.objects.filter(user=user, work=work).delete()
    if deleted:
        Work.objects.filter(pk=work.pk).update(likes=F("likes") - 1)
        liked = False
    else:
        liked = True
        try:
            with transaction.atomic():
                Like.objects.create(user=user, work=work)
        except IntegrityError:
            pass  # the same user's concurrent request liked it first, and counted it
        else:
            Work.objects.filter(pk=work.pk).update(likes=F("likes") + 1)
    likes = Work.objects.filter(pk=work.pk).values_list("likes", flat=True).get()
    caching.invalidate(work.pk)
    return liked, likes


def work_play(*, work: Work, client: str) -> int:
    """Count a play, at most once per client (IP) and work within WORKS_PLAY_WINDOW_SECONDS; returns the plays.

    The window is a cache key added atomically (`cache.add`), so concurrent refreshes count once. A counted play
    changes what the work's detail and the feed show, so both caches are invalidated."""
    digest = hashlib.sha256(client.encode()).hexdigest()[:32]
    if cache.add(f"works:play:{work.pk}:{digest}", 1, timeout=settings.WORKS_PLAY_WINDOW_SECONDS):
        Work.objects.filter(pk=work.pk).update(plays=F("plays") + 1)
        caching.invalidate_now(work.pk)
    return Work.objects.filter(pk=work.pk).values_list("plays", flat=True).get()


@transaction.atomic
def works_moderate(*, work_ids: Iterable, hidden: bool | None = None, featured: bool | None = None, actor=None) -> int:
    """Staff moderation: hide, unhide, feature or unfeature works. Returns how many changed.

    Hiding is its own flag, not the creator's `visibility`: a creator cannot undo it by making the work public
    again, and unhiding gives back the visibility the creator chose. An `actor` (None: the system) needs
    `works.moderate_work` to hide or unhide and `works.change_work` to feature (accounts/roles.py), else 403."""
    changes = {}
    if hidden is not None:
        require_permission(actor, "works.moderate_work")
        changes["hidden"] = hidden
    if featured is not None:
        require_permission(actor, "works.change_work")
        changes["featured"] = featured
    ids = list(work_ids)
    if not changes or not ids:
        return 0
    count = Work.objects.filter(pk__in=ids).update(**changes, updated_at=timezone.now())
    caching.invalidate(*ids)
    return count


# --- content safety (moderation app) ------------------------------------------------------------------------------


def work_report(*, user, work: Work, reason: str) -> None:
    """A user reports a work (once: a second report of the same work is 11000). Reported by
    MODERATION_REPORT_THRESHOLD distinct users, an approved work goes to the staff queue, out of the feed."""
    count = moderation.report_create(user=user, subject="work", subject_id=work.pk, reason=reason)
    if count >= settings.MODERATION_REPORT_THRESHOLD:
        updated = Work.objects.filter(pk=work.pk, moderation=Work.Moderation.APPROVED).update(
            moderation=Work.Moderation.REVIEW, moderation_label=f"reports:{count}", updated_at=timezone.now()
        )
        if updated:
            caching.invalidate(work.pk)


@transaction.atomic
def work_moderation_verdict(*, subject_id, field: str, outcome: str, label: str, file_name: str = "") -> None:
    """A verdict that arrived later (WeChat's media push, a media check timing out): risky rejects the work (out of
    the feed and the share page), review sends it to staff, pass approves one that was only waiting for it."""
    work = Work.objects.select_for_update().filter(pk=subject_id).first()
    if work is None:
        return
    note = f"{field}:{label or outcome}"
    if outcome == Outcome.RISKY:
        state = Work.Moderation.REJECTED
    elif outcome == Outcome.REVIEW:
        state = work.moderation if work.moderation == Work.Moderation.REJECTED else Work.Moderation.REVIEW
    else:
        state = Work.Moderation.APPROVED if work.moderation == Work.Moderation.PENDING else work.moderation
        note = ""
    label_text = ", ".join(part for part in (work.moderation_label, note) if part)[:200]
    if state != work.moderation or label_text != work.moderation_label:
        work.moderation, work.moderation_label = state, label_text
        work.save(update_fields=["moderation", "moderation_label", "updated_at"])
        caching.invalidate(work.pk)


def work_audio_verdict(*, subject_id, field: str, outcome: str, label: str, file_name: str = "") -> None:
    """A later verdict on a finished song (subject "generation", generation/pipeline.py): when the song is a work's,
    risky rejects the work and review sends it to staff, as for its photo. A pass changes nothing: the work's own
    screening (its text, its photo) decides whether it is approved."""
    if outcome == Outcome.PASS:
        return
    work_id = Work.objects.filter(generation_id=subject_id).values_list("pk", flat=True).first()
    if work_id is not None:
        work_moderation_verdict(subject_id=work_id, field=field, outcome=outcome, label=label, file_name=file_name)


@transaction.atomic
def works_review_decide(*, work_ids: Iterable, approve: bool, disable_creators: bool = False, actor=None) -> int:
    """Staff decide on works in the queue: approve (back to the feed, unhidden) or hide (rejected and hidden), and
    optionally disable their creators. The works' open reports are closed. Returns how many works changed.
    An `actor` (None: the system) needs `works.moderate_work`, which covers disabling the creators, else 403."""
    require_permission(actor, "works.moderate_work")
    from accounts.models import User
    from accounts.services import user_disable

    ids = list(work_ids)
    if not ids:
        return 0
    state = Work.Moderation.APPROVED if approve else Work.Moderation.REJECTED
    count = Work.objects.filter(pk__in=ids).update(moderation=state, hidden=not approve, updated_at=timezone.now())
    moderation.reports_resolve(subject="work", subject_ids=ids)
    if disable_creators:
        for creator in User.objects.filter(works__pk__in=ids).distinct():
            user_disable(user=creator)
    caching.invalidate(*ids)
    return count
