"""Writes of generations: creation (charged in the same transaction, enqueued on commit), starting one that was
created without its job, failing and refunding, staff retries, the sweeper of stuck generations, favorites.

The pipeline that drives a generation to completed or failed lives in `pipeline.py`. Every state change here is a
conditional UPDATE on the status it leaves, so two callers racing (a worker finishing, the sweeper, staff) cannot
both act; the refund rides in the same transaction as the change to `failed` and `quota_refund` gives back at
most once, whatever the number of failures (a staff retry of a failed generation is not charged again).
"""

import functools
import hashlib
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from accounts.roles import require_permission
from membership.models import Charge
from membership.selectors import MembershipState, business_today, membership_state_with
from membership.services import (
    charge_refund_by_staff,
    quota_consume_in_transaction,
    quota_refund,
    quota_take_sql,
    quota_taken,
)
from moderation.services import content_screen
from tunee import metrics
from tunee.api.errors import ApiError, Code
from tunee.api.i18n import T
from tunee.db import client_binding_cursor

from .models import DEFAULT_DURATION, TAG_LENGTH, TAG_MAX, Favorite, Generation
from .selectors import FINISHED_VERSION_KEY

logger = logging.getLogger(__name__)

TIMED_OUT = T("生成超时，本次消耗已退还", "The generation timed out; what it cost has been refunded")
ACTIVE = (Generation.Status.PENDING, Generation.Status.PROCESSING)
# A generation whose scheduled job is this late (and that no worker holds) lost its job: the sweeper enqueues again.
LOST_JOB_GRACE = timedelta(minutes=2)
# A callback arriving when the next poll is this close (or already due) triggers no extra poll.
CALLBACK_MIN_GAP = timedelta(seconds=2)
CALLBACK_SALT = "generation.callback"


def _screened(create):
    """`generation_create(..., screen=True)`: what the user wrote (prompt, lyrics, title, style, mood, tags) is
    screened BEFORE the transaction that charges: a refused text (60001) costs nothing and enqueues nothing, and its
    verdicts stay in the moderation log. `screen=False` for callers that screened already (a work)."""

    @functools.wraps(create)
    def wrapper(*, screen: bool = True, **kwargs):
        if screen:
            options = kwargs.get("options") or {}
            content_screen(
                user=kwargs["user"],
                source=str(kwargs.get("source") or Generation.Source.API),
                fields={
                    "prompt": kwargs.get("prompt"),
                    "options.lyrics": options.get("lyrics") if isinstance(options.get("lyrics"), str) else "",
                    "title": kwargs.get("title"),
                    "style": kwargs.get("style"),
                    "mood": kwargs.get("mood"),
                    "tags": kwargs.get("tags"),
                },
                subject="generation",
            )
        return create(**kwargs)

    return wrapper


@_screened
def generation_create(
    *,
    user,
    source: str = Generation.Source.API,
    prompt: str = "",
    style: str = "",
    mood: str = "",
    duration: int | None = None,
    title: str = "",
    tags: list[str] | None = None,
    negative_tags: list[str] | None = None,
    options: dict | None = None,
    device: str = "",
    image: str = "",
    enqueue: bool = True,
) -> Generation:
    """Charge one generation (quota or points, else 40004) and create the row, atomically; the pipeline is enqueued
    only once that commits — members on `generation_priority`, others on `generation`.

    `image` is the storage name of a photo to describe and compose from (a work's photo): the pipeline describes
    it and fills the blanks. With `enqueue=False` the row stays pending and nothing runs until `generation_start`;
    the timeout still counts from now, so a generation never started fails and is refunded by the sweeper.

    The usual case (PostgreSQL, a unit of today's quota left) is one round trip (`_create_in_one_statement`);
    paying with points, or any other database, takes the transaction of `_create_in_transaction`.
    """
    generation_id = uuid.uuid4()
    now = timezone.now()
    generation = Generation(
        id=generation_id,
        user=user,
        source=source,
        prompt=prompt,
        style=style,
        mood=mood,
        duration=duration or DEFAULT_DURATION,
        title=title,
        tags=list(tags or []),
        negative_tags=list(negative_tags or []),
        options=dict(options or {}),
        device=device,
        image=image,
        queued_at=now,
        next_check_at=now if enqueue else None,
    )
    if not _create_in_one_statement(generation):
        _create_in_transaction(generation)
    if enqueue:
        _enqueue_on_commit(generation)
    return generation


def _charge_reference(generation: Generation) -> str:
    return f"generation:{generation.pk}"


@transaction.atomic
def _create_in_transaction(generation: Generation) -> None:
    """The in-flight check, the charge (quota, else points, else 40004) and the row, in one transaction."""
    state = _in_flight_check(user=generation.user)
    generation.priority = state.is_valid
    generation.charge = quota_consume_in_transaction(
        user=generation.user, reference=_charge_reference(generation), membership=state
    )
    generation.save(force_insert=True)


IN_FLIGHT_RETRY_AFTER = 10  # seconds: about how soon a short generation finishes and frees a place
TOO_MANY_IN_FLIGHT = T(
    "进行中的生成任务过多，请等待完成后再试", "Too many generations in progress; try again when one has finished"
)


def _in_flight_lock_key(user) -> int:
    digest = hashlib.sha256(f"generation:in-flight:{user.pk}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _too_many_in_flight(*, in_flight: int, limit: int) -> ApiError:
    wait = IN_FLIGHT_RETRY_AFTER
    return ApiError(
        Code.THROTTLED,
        TOO_MANY_IN_FLIGHT,
        details={"retryAfter": wait, "inFlight": in_flight, "limit": limit},
        headers={"Retry-After": str(wait)},
    )


def _in_flight_limit(state: MembershipState) -> int:
    return settings.GENERATION_IN_FLIGHT_MEMBER if state.is_valid else settings.GENERATION_IN_FLIGHT_FREE


def _in_flight_check(*, user) -> MembershipState:
    """At most GENERATION_IN_FLIGHT_MEMBER / _FREE pending or processing generations per user, else 429; answers
    the user's membership, read in the same query as the count.

    The count and the insert that follows are serialized per user until the transaction ends (a PostgreSQL
    transaction-level advisory lock, as accounts does for its SMS caps), so parallel creates cannot all read "below
    the limit"; raised before anything is charged. SQLite's writers are serialized by the database file.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_in_flight_lock_key(user)])
    active = Generation.objects.filter(user=OuterRef("pk"), status__in=ACTIVE).order_by().values("user")
    state, extra = membership_state_with(user=user, in_flight=Subquery(active.annotate(n=Count("id")).values("n")))
    in_flight = extra["in_flight"] or 0
    limit = _in_flight_limit(state)
    if in_flight >= limit:
        raise _too_many_in_flight(in_flight=in_flight, limit=limit)
    return state


# The one round trip of a create (PostgreSQL): two statements in one query string, which PostgreSQL runs as one
# transaction (an implicit one in autocommit; inside the caller's transaction if there is one), each statement with
# a snapshot of its own. The first takes the advisory lock of `_in_flight_check`, held until that transaction ends;
# the second, whose snapshot is taken only once the lock is held (so it sees every create that held it before),
# reads the membership (`entitled`), counts the user's generations in flight and, only while they are below the
# limit, takes a unit of today's quota (membership's `quota_take_sql`) and inserts the row paid by that charge.
# Nothing is written when no unit was taken: the caller then raises 429, or pays with points in
# `_create_in_transaction`, which checks again.
_ONE_STATEMENT_SQL = """SELECT pg_advisory_xact_lock(%(g_lock)s);
WITH {entitled}, flight AS (
    SELECT count(*) AS n FROM {generations} WHERE user_id = %(user)s AND status = ANY(%(g_active)s)
), {take}, made AS (
    INSERT INTO {generations} ({columns}) SELECT {values} FROM charged, entitled RETURNING 1
)
SELECT flight.n, entitled.member, entitled.daily_limit, taken.used, taken.extra
FROM entitled CROSS JOIN flight LEFT JOIN taken ON true"""


@functools.cache
def _insert_columns() -> tuple[tuple, str, str]:
    """The row's columns (every concrete field, as Django's INSERT writes them) and their values: a parameter each,
    but `priority`, which is the membership the statement read."""
    fields = tuple(f for f in Generation._meta.local_concrete_fields if f.name != "priority")
    columns = ", ".join(connection.ops.quote_name(f.column) for f in (*fields, Generation._meta.get_field("priority")))
    values = ", ".join([*(f"%(g_{n})s" for n in range(len(fields))), "entitled.member"])
    return fields, columns, values


def _one_statement_possible() -> bool:
    return connection.vendor == "postgresql"


def _create_in_one_statement(generation: Generation) -> bool:
    """The in-flight check, the quota charge and the row in one round trip (see _ONE_STATEMENT_SQL); 429 when too
    many are in flight. False (and nothing written) when this path cannot charge: not PostgreSQL, a daily limit of
    0, or no unit of today's quota left."""
    if not _one_statement_possible():
        return False
    user = generation.user
    # The limits are written into the SQL (integers from the settings): psycopg keeps the parsed form of a query of
    # at most 50 parameters, and this one is close to that.
    member_limit, free_limit = int(settings.GENERATION_IN_FLIGHT_MEMBER), int(settings.GENERATION_IN_FLIGHT_FREE)
    sql = quota_take_sql(
        user=user,
        day=business_today(),
        reference=_charge_reference(generation),
        tables=", flight",
        condition=f"flight.n < CASE WHEN entitled.member THEN {member_limit} ELSE {free_limit} END",
    )
    params, charge = sql.params, sql.charge
    generation.charge = charge
    fields, columns, values = _insert_columns()
    # what Model.save() would send: each field's pre_save (auto_now stamps) and database value
    for n, f in enumerate(fields):
        params[f"g_{n}"] = f.get_db_prep_save(f.pre_save(generation, True), connection)
    params.update(g_lock=_in_flight_lock_key(user), g_active=[status.value for status in ACTIVE])
    table = connection.ops.quote_name(Generation._meta.db_table)
    statement = _ONE_STATEMENT_SQL.format(
        entitled=sql.entitled, take=sql.take, generations=table, columns=columns, values=values
    )
    # several statements in one query string need the parameters bound on the client (DB_PREPARED_STATEMENTS binds
    # the other queries on the server)
    with client_binding_cursor() as cursor:
        cursor.execute(statement, params)
        cursor.nextset()
        in_flight, member, limit, used, extra = cursor.fetchone()
    generation.priority = member
    if used is None:
        generation.charge = None
        flight_limit = settings.GENERATION_IN_FLIGHT_MEMBER if member else settings.GENERATION_IN_FLIGHT_FREE
        if in_flight >= flight_limit:
            raise _too_many_in_flight(in_flight=in_flight, limit=flight_limit)
        return False
    quota_taken(charge, limit=limit, used=used, extra=extra)
    generation._state.adding, generation._state.db = False, connection.alias
    return True


def _enqueue_on_commit(generation: Generation) -> None:
    from .tasks import enqueue_generation

    transaction.on_commit(lambda: enqueue_generation(generation))


def fill_from_analysis(generation: Generation, analysis: dict) -> list[str]:
    """Keep `analysis` on the row and fill the blank title/style/mood/tags from it (what the user typed wins).
    Changes the instance only; returns the names of the fields it changed. The pipeline's `_describe` is its one
    caller: a work copies what this filled from its generation (works.services.work_fill)."""
    generation.image_analysis = analysis
    changed = ["image_analysis"]
    for name in ("title", "style", "mood"):
        value = analysis.get(name)
        if not getattr(generation, name) and isinstance(value, str) and value.strip():
            limit = Generation._meta.get_field(name).max_length
            setattr(generation, name, value.strip()[:limit])
            changed.append(name)
    tags = analysis.get("tags")
    if not generation.tags and isinstance(tags, list | tuple):
        generation.tags = clean_tags(str(tag) for tag in tags)
        changed.append("tags")
    return changed


def clean_tags(tags: Iterable[str] | None, *, normalize: Callable[[str], str] = str.strip) -> list[str]:
    """Tags within the API's limits (TAG_MAX of at most TAG_LENGTH characters): each `normalize`d and cut, without
    blanks or repeats, in the order given."""
    out: list[str] = []
    for raw in tags or ():
        name = normalize(raw)[:TAG_LENGTH]
        if name and name not in out:
            out.append(name)
    return out[:TAG_MAX]


@transaction.atomic
def generation_start(*, generation: Generation) -> None:
    """Start a generation created with `enqueue=False` (a work's, once its job has run): enqueue the pipeline once
    the transaction commits. The pipeline then describes the photo and fills the blanks (`pipeline._describe`).

    Does nothing to a generation that is no longer pending (started already, failed, …), so calling it twice is
    harmless. `generation` is updated in place.
    """
    row = Generation.objects.select_for_update().get(pk=generation.pk)
    if row.status != Generation.Status.PENDING or row.next_check_at is not None:
        return
    row.next_check_at = timezone.now()
    row.save(update_fields=["next_check_at", "updated_at"])
    generation.next_check_at = row.next_check_at
    _enqueue_on_commit(row)


def _message_pair(message: T | str) -> tuple[str, str]:
    if isinstance(message, T):
        return message.zh[:300], message.en[:300]
    return str(message)[:300], ""


@transaction.atomic
def generation_fail(*, generation: Generation, message: T | str, detail: str = "") -> bool:
    """Fail a pending or processing generation with a reason the user can read, and refund its charge — once.

    `message`: a `T` pair (both languages are kept, the API shows the reader's) or a plain string (shown as is).
    `detail` is for staff. True when this call failed it; False when it was already completed or failed (then
    nothing changes). The status change and the refund commit together.
    """
    zh, en = _message_pair(message)
    now = timezone.now()
    failed = Generation.objects.filter(pk=generation.pk, status__in=ACTIVE).update(
        status=Generation.Status.FAILED,
        error_message=zh,
        error_message_en=en,
        error_detail=detail[:5000],
        locked_until=None,
        next_check_at=None,
        updated_at=now,
    )
    if not failed:
        return False
    charge_id = Generation.objects.filter(pk=generation.pk).values_list("charge_id", flat=True).get()
    if charge_id is not None:
        quota_refund(charge=Charge.objects.get(pk=charge_id))
    generation.refresh_from_db()
    metrics.generation_ended(generation, "failed")
    logger.info("generation %s failed: %s (%s)", generation.pk, en or zh, detail[:200])
    notify_finished(generation=generation, outcome=Generation.Status.FAILED, title=generation.title, at=now)
    return True


def notify_finished(*, generation: Generation, outcome: str, title: str, at: datetime) -> None:
    """A generation completed or failed: once the change commits, tell the owner (notifications app; plain values
    only: notifications knows no generation; `robust`: a notification that cannot be enqueued is logged there and
    never fails the generation), and replace the token of `selectors.finished_version` (readers that cache what
    depends on a generation's status, such as the works feed, key their entries by it)."""
    from notifications.tasks import enqueue_song_finished

    transaction.on_commit(lambda: cache.set(FINISHED_VERSION_KEY, uuid.uuid4().hex, timeout=None), robust=True)

    values = {
        "user_id": generation.user_id,
        "generation_id": generation.pk,
        "source": generation.source,
        "title": title,
        "outcome": str(outcome),
        "finished_at": at,
    }
    transaction.on_commit(lambda: enqueue_song_finished(**values), robust=True)


@transaction.atomic
def generation_retry(*, generation: Generation, actor=None) -> bool:
    """Staff: run a failed generation again, from the start and without a new charge (`actor` needs
    `generation.retry_generation`; None is the system).

    Its charge was refunded when it failed and stays refunded (`quota_refund` never pays twice), so the retry is
    free for the user; if it fails again nothing more is refunded. The timeout counts from the retry. True when
    this call put it back in the queue.
    """
    require_permission(actor, "generation.retry_generation")
    now = timezone.now()
    retried = Generation.objects.filter(pk=generation.pk, status=Generation.Status.FAILED).update(
        status=Generation.Status.PENDING,
        provider="",
        provider_task_id="",
        error_message="",
        error_message_en="",
        error_detail="",
        retries=0,
        started_at=None,
        completed_at=None,
        queued_at=now,
        next_check_at=now,
        locked_until=None,
        updated_at=now,
    )
    if not retried:
        return False
    generation.refresh_from_db()
    _enqueue_on_commit(generation)
    return True


@dataclass
class SweepReport:
    failed: list[str] = field(default_factory=list)
    requeued: list[str] = field(default_factory=list)


def generations_sweep(*, now: datetime | None = None, dry_run: bool = False) -> SweepReport:
    """The beat job (and `manage.py fail_stuck_generations`): fail and refund every pending or processing
    generation queued more than GENERATION_TIMEOUT ago, and enqueue again the younger ones whose scheduled job is
    long overdue and that no worker holds (a job lost with its broker or its worker).

    Not one transaction: each generation fails in its own (`generation_fail`), so one bad row does not hold back
    the others, and a concurrent finisher simply wins or loses each conditional update.
    """
    from .tasks import enqueue_generation

    now = now or timezone.now()
    report = SweepReport()
    deadline = now - timedelta(seconds=settings.GENERATION_TIMEOUT)
    stuck = Generation.objects.filter(status__in=ACTIVE, queued_at__lt=deadline).order_by("queued_at")
    for generation in stuck.only("pk", "status", "queued_at").iterator():
        detail = f"swept: {generation.status} since {generation.queued_at.isoformat()}, past GENERATION_TIMEOUT"
        if dry_run or generation_fail(generation=generation, message=TIMED_OUT, detail=detail):
            report.failed.append(str(generation.pk))
    lost = Generation.objects.filter(
        Q(locked_until__isnull=True) | Q(locked_until__lt=now),
        status__in=ACTIVE,
        queued_at__gte=deadline,
        next_check_at__lt=now - LOST_JOB_GRACE,
    )
    for generation in lost.only("pk", "priority", "next_check_at"):
        if dry_run:
            report.requeued.append(str(generation.pk))
            continue
        claimed = Generation.objects.filter(
            pk=generation.pk, status__in=ACTIVE, next_check_at=generation.next_check_at
        ).update(next_check_at=now)
        if claimed:
            enqueue_generation(generation)
            report.requeued.append(str(generation.pk))
    return report


def favorite_toggle(*, user, generation: Generation) -> bool:
    """Favorite or unfavorite; returns whether it is now a favorite. Safe against double taps."""
    deleted, _ = Favorite.objects.filter(user=user, generation=generation).delete()
    if deleted:
        return False
    try:
        with transaction.atomic():
            Favorite.objects.create(user=user, generation=generation)
    except IntegrityError:  # a concurrent tap created it first
        pass
    return True


def callback_token(generation: Generation) -> str:
    return signing.Signer(salt=CALLBACK_SALT).sign(str(generation.pk)).rsplit(":", 1)[1]


def generation_callback(*, provider_name: str, task_id: str, token: str) -> bool:
    """A provider called back about `task_id`: a hint only. When it names a generation we are waiting for, and
    `token` (from the callback URL we gave) is that generation's, move its next poll to now (the poll, not the
    callback, decides). Repeated callbacks within a few seconds of a check trigger nothing more. True when the
    callback was accepted."""
    from .tasks import enqueue_generation

    generation = (
        Generation.objects.filter(provider=provider_name, provider_task_id=task_id, status=Generation.Status.PROCESSING)
        .only("pk", "priority")
        .first()
    )
    if generation is None or not constant_time_compare(token, callback_token(generation)):
        return False
    now = timezone.now()
    moved = Generation.objects.filter(
        Q(next_check_at__isnull=True) | Q(next_check_at__gt=now + CALLBACK_MIN_GAP),
        pk=generation.pk,
        status=Generation.Status.PROCESSING,
    ).update(next_check_at=now)
    if moved:
        enqueue_generation(generation)
    return True


# --- staff ---------------------------------------------------------------------------------------------------------

FAILED_BY_STAFF = T("生成已被取消，本次消耗已退还", "The generation was cancelled; what it cost has been refunded")


def generation_fail_by_staff(*, generation: Generation, actor, reason: str = "") -> bool:
    """Staff fail and refund a pending or processing generation (`generation.fail_generation`): the user reads
    FAILED_BY_STAFF, staff read who and why in `error_detail`. False when it had already finished."""
    require_permission(actor, "generation.fail_generation")
    detail = f"failed by {actor or 'the system'}" + (f": {reason}" if reason else "")
    return generation_fail(generation=generation, message=FAILED_BY_STAFF, detail=detail)


@transaction.atomic
def generation_refund(*, generation: Generation, actor, reason: str):
    """Staff give back what a completed generation cost (`generation.refund_generation`), once: its points, or its
    unit of quota (membership.services.charge_refund_by_staff records who and why as a staff adjustment). Not
    completed or not charged → 400 (a failed one was refunded when it failed); refunded already → 11000."""
    require_permission(actor, "generation.refund_generation")
    row = Generation.objects.select_for_update().get(pk=generation.pk)
    if row.status != Generation.Status.COMPLETED:
        raise ApiError(Code.VALIDATION, details={"status": [f"only a completed generation, not {row.status}"]})
    if row.charge_id is None:
        raise ApiError(Code.VALIDATION, details={"charge": ["the generation was not charged"]})
    return charge_refund_by_staff(charge=Charge.objects.get(pk=row.charge_id), actor=actor, reason=reason)
