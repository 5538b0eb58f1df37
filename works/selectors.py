"""Reads of works. Protected works are fetched through access selectors that answer 30000 both when the work is
missing and when the requester may not see it (someone else's private or unfinished work)."""

import uuid

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from generation.models import Generation
from tunee.api.errors import ApiError, Code
from tunee.api.ids import parse_id

from .models import Like, Work, WorkTag

# Columns of the generation a work never shows: left out of the feed's join.
_UNUSED_GENERATION_FIELDS = (
    "generation__provider_response",
    "generation__image_analysis",
    "generation__options",
    "generation__error_detail",
    "generation__lyrics",
    "generation__prompt",
)


def normalize_tag(name: str) -> str:
    """Tags are stored and matched trimmed, with single spaces, in lower case ("  Summer  Sea" → "summer sea")."""
    return " ".join(str(name).split()).lower()


def _works() -> QuerySet:
    """Works with everything the output needs, in a constant number of queries: the creator and the generation
    joined; the tags in the same query on PostgreSQL (`tag_names`, an array subquery), prefetched in one more
    query elsewhere."""
    queryset = Work.objects.select_related("creator", "generation").defer(*_UNUSED_GENERATION_FIELDS)
    if connection.vendor == "postgresql":
        names = WorkTag.objects.filter(work=OuterRef("pk")).order_by("position", "id").values("tag__name")
        return queryset.annotate(tag_names=ArraySubquery(names))
    return queryset.prefetch_related(
        Prefetch("work_tags", queryset=WorkTag.objects.select_related("tag").order_by("position", "id"))
    )


def tag_names(work: Work) -> list[str]:
    """The work's tags in their order, from `_works()`'s annotation or prefetch."""
    if hasattr(work, "tag_names"):
        return list(work.tag_names)
    return [link.tag.name for link in work.work_tags.all()]


def with_liked(queryset: QuerySet, user) -> QuerySet:
    """Annotate `liked`: whether `user` likes each work (false for anonymous requests)."""
    if user is None or not user.is_authenticated:
        return queryset
    return queryset.annotate(liked=Exists(Like.objects.filter(user=user, work=OuterRef("pk"))))


# What anybody may see, written once: public works whose song is finished, unless staff hid them, once screening
# approved them (works under review, awaiting a media verdict or rejected stay out: moderation app). Keys are the
# query's lookups; `CACHED_FIELDS` names the serialized work's field that holds each (`is_visible_to` reads those).
PUBLIC_RULE = {
    "visibility": Work.Visibility.PUBLIC,
    "hidden": False,
    "moderation": Work.Moderation.APPROVED,
    "generation__status": Generation.Status.COMPLETED,
}
CACHED_FIELDS = {
    "visibility": "visibility",
    "hidden": "hidden",
    "moderation": "moderation",
    "generation__status": "status",
}


def public_q() -> Q:
    """`PUBLIC_RULE` as a filter."""
    return Q(**PUBLIC_RULE)


def visible_q(user) -> Q:
    if user is not None and user.is_authenticated:
        return public_q() | Q(creator=user)
    return public_q()


def work_feed(*, user, creator: uuid.UUID | str | None = None, tag: str | None = None) -> QuerySet:
    """The feed, newest first: completed public works; `creator="me"` is the requester's own works in every
    status and visibility; `creator=<id>` that user's public ones; `tag` one normalized tag."""
    queryset = _works()
    if creator == "me":
        queryset = queryset.filter(creator=user)
    else:
        queryset = queryset.filter(public_q())
        if creator:
            queryset = queryset.filter(creator_id=creator)
    if tag:
        queryset = queryset.filter(work_tags__tag__name=normalize_tag(tag))
    return with_liked(queryset.order_by("-created_at", "-id"), user)


def work_get(*, work_id) -> Work | None:
    """One work with everything its output needs, whoever may see it (None when there is none)."""
    return _works().filter(pk=parse_id(work_id)).first()


def work_get_visible(*, user, work_id) -> Work:
    """A work the requester may see: public and finished, or their own in any state. Otherwise 30000."""
    work = with_liked(_works().filter(visible_q(user), pk=parse_id(work_id)), user).first()
    if work is None:
        raise ApiError(Code.WORK_NOT_FOUND)
    return work


def work_get_owned(*, user, work_id) -> Work:
    """One of the requester's own works; someone else's answers 30000 exactly like a missing one."""
    work = with_liked(_works().filter(pk=parse_id(work_id), creator=user), user).first()
    if work is None:
        raise ApiError(Code.WORK_NOT_FOUND)
    return work


def work_get_public(*, work_id) -> Work | None:
    """A work for the share page: public, finished, approved and not hidden by staff, else None (a friendly 404)."""
    try:
        pk = uuid.UUID(str(work_id))
    except ValueError:
        return None
    return _works().filter(public_q(), pk=pk).first()


def is_visible_to(*, data: dict, user) -> bool:
    """The access rule of `work_get_visible` (`PUBLIC_RULE`, or the requester's own), applied to a cached serialized
    work."""
    if all(data.get(CACHED_FIELDS[lookup]) == value for lookup, value in PUBLIC_RULE.items()):
        return True
    return user is not None and user.is_authenticated and str(data["creator"]["id"]) == str(user.pk)


# `liked_ids` on PostgreSQL, asked on every feed request: the ORM would build and compile an `IN (...)` of as many
# parameters as ids each time. Table and columns come from the model; both values are parameters.
_LIKE_WORK = Like._meta.get_field("work").column
_LIKE_USER = Like._meta.get_field("user").column
_LIKED_SQL = (
    f"SELECT CAST({_LIKE_WORK} AS text) FROM {Like._meta.db_table} "  # noqa: S608  # nosec B608
    f"WHERE {_LIKE_USER} = %s AND {_LIKE_WORK} = ANY(CAST(%s AS uuid[]))"
)


def liked_ids(*, user, work_ids) -> set:
    """Which of these works the user likes, as strings (one query; empty for anonymous requests)."""
    if user is None or not user.is_authenticated or not work_ids:
        return set()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_LIKED_SQL, [user.pk, [str(pk) for pk in work_ids]])
            return {pk for (pk,) in cursor.fetchall()}
    return {str(pk) for pk in Like.objects.filter(user=user, work_id__in=work_ids).values_list("work_id", flat=True)}
