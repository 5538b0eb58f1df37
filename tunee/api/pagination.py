"""The contract's pagination: `page` (1-based), `pageSize` (alias `limit`, default 10, clamped to 100).

Response `data` = `{"list": [...], "pagination": {"page", "pageSize", "total", "totalPages"}}`.
"""

import math

from django.db.models import Count, QuerySet, Window
from django.db.models.query import ModelIterable

from .envelope import ok
from .errors import ApiError, Code
from .i18n import T

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100
NOT_POSITIVE_INTEGER = T("必须是大于 0 的整数", "Must be an integer greater than 0")
MAX_VALUE = 2**31 - 1
TOO_LARGE = T("数值过大", "Too large")


def _positive_int(raw, field: str, errors: dict) -> int | None:
    if raw is None or raw == "":
        return None
    try:
        value = int(str(raw).strip())
    except ValueError:
        value = 0
    if value < 1:
        errors[field] = [str(NOT_POSITIVE_INTEGER)]
        return None
    if value > MAX_VALUE:  # no page is that far, and the number could not even be rendered back as JSON
        errors[field] = [str(TOO_LARGE)]
        return None
    return value


def page_params(query_params) -> tuple[int, int]:
    """(page, page_size) from a request's query; 400 with per-field details when either is not a positive int."""
    errors: dict = {}
    page = _positive_int(query_params.get("page"), "page", errors)
    size_field = "pageSize" if query_params.get("pageSize") not in (None, "") else "limit"
    page_size = _positive_int(query_params.get(size_field), size_field, errors)
    if errors:
        raise ApiError(Code.VALIDATION, details=errors)
    return page or 1, min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


class Page:
    def __init__(self, items: list, page: int, page_size: int, total: int):
        self.items = items
        self.page = page
        self.page_size = page_size
        self.total = total

    @property
    def meta(self) -> dict:
        return {
            "page": self.page,
            "pageSize": self.page_size,
            "total": self.total,
            "totalPages": math.ceil(self.total / self.page_size) if self.total else 0,
        }


TOTAL_ATTR = "page_total"


def _counts_in_window(queryset) -> bool:
    """Whether the page's own SELECT can carry the total as `COUNT(*) OVER ()`: a plain model queryset (not
    `values()`, not DISTINCT — the window is computed before DISTINCT —, not a UNION)."""
    query = getattr(queryset, "query", None)
    return (
        isinstance(queryset, QuerySet)
        and issubclass(queryset._iterable_class, ModelIterable)
        and not query.distinct
        and not query.combinator
    )


def paginate_queryset(queryset, query_params) -> Page:
    """Slice a queryset (or list) for one page. A model queryset: one SELECT whose rows carry the total (a COUNT
    follows only when the page is past the end); anything else: one COUNT and one SELECT."""
    page, page_size = page_params(query_params)
    start = (page - 1) * page_size
    if _counts_in_window(queryset):
        items = list(queryset.annotate(**{TOTAL_ATTR: Window(Count("*"))})[start : start + page_size])
        total = getattr(items[0], TOTAL_ATTR) if items else (queryset.count() if start else 0)
        return Page(items, page, page_size, total)
    total = queryset.count() if hasattr(queryset, "count") and not isinstance(queryset, list) else len(queryset)
    items = list(queryset[start : start + page_size]) if start < total else []
    return Page(items, page, page_size, total)


def page_data(page: Page, serialized: list) -> dict:
    return {"list": serialized, "pagination": page.meta}


def paginated(request, queryset, serialize, message=None):
    """A view's whole list answer: `return paginated(request, qs, lambda items: Out(items, many=True).data)`."""
    page = paginate_queryset(queryset, request.query_params)
    return ok(page_data(page, serialize(page.items)), message=message)
