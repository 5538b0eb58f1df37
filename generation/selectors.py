"""Reads of generations. Protected rows are fetched through access selectors that answer 404 both when the row is
missing and when it belongs to someone else."""

import uuid

from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet

from membership.selectors import MEMBERSHIP_COLUMNS, is_member, is_member_by, with_membership_columns
from tunee.api.errors import ApiError, Code
from tunee.api.ids import parse_id
from tunee.api.pagination import Page, PageQuery, paginate_queryset
from tunee.cache import version_token

from .models import Favorite, Generation


def _with_favorite_flag(queryset: QuerySet, user) -> QuerySet:
    return queryset.annotate(is_favorite=Exists(Favorite.objects.filter(user=user, generation=OuterRef("pk"))))


def generation_get_for_user(*, user, generation_id) -> Generation:
    pk = parse_id(generation_id)
    generation = _with_favorite_flag(Generation.objects.filter(pk=pk, user=user), user).first()
    if generation is None:
        raise ApiError(Code.NOT_FOUND)
    return generation


def generation_list(*, user, status: str | None = None, source: str | None = None) -> QuerySet:
    queryset = Generation.objects.filter(user=user)
    if status:
        queryset = queryset.filter(status=status)
    if source:
        queryset = queryset.filter(source=source)
    return _with_favorite_flag(queryset.order_by("-created_at"), user)


def favorites_list(*, user) -> QuerySet:
    return _with_favorite_flag(Generation.objects.filter(favorites__user=user).order_by("-favorites__created_at"), user)


# A list row's columns, in the order `serializers.generation_rows_output` reads them (then the page's total).
LIST_COLUMNS = (
    "id",
    "status",
    "source",
    "prompt",
    "style",
    "mood",
    "duration",
    "options",
    "title",
    "tags",
    "negative_tags",
    "audio",
    "audio_hq",
    "cover",
    "result_title",
    "result_duration",
    "lyrics",
    "error_message",
    "error_message_en",
    "created_at",
    "started_at",
    "completed_at",
    "is_favorite",
    *MEMBERSHIP_COLUMNS,
)
# Placeholders the page queries are compiled with (PageQuery): values no request can send.
_USER = uuid.UUID("00000000-0000-4000-8000-0000000a11ce")
_STATUS = "\x00status"
# Each row also carries the requester's membership (who sees the high-quality audio): no second query for it.
_LIST_PAGE = PageQuery(
    lambda user: with_membership_columns(generation_list(user=user), user=user), LIST_COLUMNS, user=_USER
)
_LIST_PAGE_OF_STATUS = PageQuery(
    lambda user, status: with_membership_columns(generation_list(user=user, status=status), user=user),
    LIST_COLUMNS,
    user=_USER,
    status=_STATUS,
)
_FAVORITES_PAGE = PageQuery(
    lambda user: with_membership_columns(favorites_list(user=user), user=user), LIST_COLUMNS, user=_USER
)
_MEMBER_LEVEL = LIST_COLUMNS.index("member_level")


def generation_list_page(*, user, status: str | None, query_params) -> Page:
    """A page of `generation_list` (no source filter) as rows of LIST_COLUMNS, from the ORM's SQL compiled once
    (tunee.api.pagination.PageQuery); a page of Generation instances on databases other than PostgreSQL."""
    if connection.vendor != "postgresql":
        return paginate_queryset(generation_list(user=user, status=status), query_params)
    if status:
        return _LIST_PAGE_OF_STATUS.page(query_params, user=user.pk, status=status)
    return _LIST_PAGE.page(query_params, user=user.pk)


def favorites_list_page(*, user, query_params) -> Page:
    """A page of `favorites_list`, like `generation_list_page`."""
    if connection.vendor != "postgresql":
        return paginate_queryset(favorites_list(user=user), query_params)
    return _FAVORITES_PAGE.page(query_params, user=user.pk)


def shows_hq_audio(*, user) -> bool:
    """Members get the high-quality download; free users get null there."""
    return is_member(user=user)


def page_shows_hq_audio(page: Page, *, user) -> bool:
    """`shows_hq_audio` for a page of `generation_list_page` / `favorites_list_page`: from the membership its rows
    carry (PostgreSQL), else asked."""
    if page.items and isinstance(page.items[0], tuple):
        row = page.items[0]
        return is_member_by(row[_MEMBER_LEVEL], row[_MEMBER_LEVEL + 1])
    return shows_hq_audio(user=user)


FINISHED_VERSION_KEY = "generation:version:finished"


def finished_version() -> str:
    """A token that changes whenever a generation completes or fails (`services.notify_finished`): a cache of
    something that depends on generations' statuses (the works feed) keys its entries by it, instead of asking the
    database whether a song finished. A token evicted from the cache comes back as a new one."""
    return version_token(FINISHED_VERSION_KEY)
