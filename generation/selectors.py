"""Reads of generations. Protected rows are fetched through access selectors that answer 404 both when the row is
missing and when it belongs to someone else."""

from django.db.models import Exists, OuterRef, QuerySet

from membership.selectors import is_member
from tunee.api.errors import ApiError, Code
from tunee.api.ids import parse_id
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


def shows_hq_audio(*, user) -> bool:
    """Members get the high-quality download; free users get null there."""
    return is_member(user=user)


FINISHED_VERSION_KEY = "generation:version:finished"


def finished_version() -> str:
    """A token that changes whenever a generation completes or fails (`services.notify_finished`): a cache of
    something that depends on generations' statuses (the works feed) keys its entries by it, instead of asking the
    database whether a song finished. A token evicted from the cache comes back as a new one."""
    return version_token(FINISHED_VERSION_KEY)
