"""The contract's pagination: `page` (1-based), `pageSize` (alias `limit`, default 10, clamped to 100).

Response `data` = `{"list": [...], "pagination": {"page", "pageSize", "total", "totalPages"}}`.
"""

import math

from django.db import connection
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


class PageQuery:
    """A list's page SELECT compiled by the ORM once per process, then run with each request's values.

    Building and compiling a queryset costs more CPU than the query itself on a hot list. So `build(**placeholders)`
    is compiled once: the SQL is the ORM's own (tables, columns, joins and ordering from the models), with the
    page's total as a last column `COUNT(*) OVER ()` and `LIMIT %s OFFSET %s` after it. Each placeholder (a value
    no request could send, e.g. a made-up UUID) is found among the compiled parameters and replaced by the request's
    value there, so every value stays a parameter. Rows are the driver's tuples, in the order of `columns` then the
    total, without the ORM's converters: PostgreSQL only (aware datetimes, UUIDs and booleans; JSON as text); other
    databases take the queryset path (`paginate_queryset`).
    """

    def __init__(self, build, columns: tuple[str, ...], **placeholders):
        self._build = build
        self._columns = columns
        self._placeholders = placeholders
        self._compiled = None

    def _compile(self) -> tuple[str, list]:
        queryset = self._build(**self._placeholders).values_list(*self._columns)
        queryset = queryset.annotate(**{TOTAL_ATTR: Window(Count("*"))})
        query = queryset.query
        selected = (*query.extra_select, *query.values_select, *query.annotation_select)
        if selected != (*self._columns, TOTAL_ATTR) or query.distinct or query.combinator or query.is_sliced:
            raise ValueError(f"PageQuery: the query selects {selected}, not {self._columns} and the total")
        sql, params = query.sql_with_params()
        slots, found = [], set()
        for value in params:
            name = next((key for key, mark in self._placeholders.items() if value == mark), None)
            slots.append((name, value))
            found.add(name)
        if missing := set(self._placeholders) - found:
            raise ValueError(f"PageQuery: {sorted(missing)} were not compiled into parameters")
        return sql, slots

    def page(self, query_params, **values) -> Page:
        """The page `query_params` asks for (`page_params`: 400 when they are not positive integers), its items the
        rows; the values replace the placeholders of the same names."""
        if self._compiled is None:
            self._compiled = self._compile()  # a race compiles twice, to the same SQL
        sql, slots = self._compiled
        page, page_size = page_params(query_params)
        start = (page - 1) * page_size
        params = [value if name is None else values[name] for name, value in slots]
        with connection.cursor() as cursor:
            cursor.execute(f"{sql} LIMIT %s OFFSET %s", [*params, page_size, start])
            rows = cursor.fetchall()
            if rows:
                total = rows[0][-1]
            elif start:  # past the end: the rows are gone, the total is still asked for
                cursor.execute(f"SELECT COUNT(*) FROM ({sql}) AS page_rows", params)  # noqa: S608  # nosec B608
                total = cursor.fetchone()[0]
            else:
                total = 0
        return Page(rows, page, page_size, total)


def page_data(page: Page, serialized: list) -> dict:
    return {"list": serialized, "pagination": page.meta}


def paginated(request, queryset, serialize, message=None):
    """A view's whole list answer: `return paginated(request, qs, lambda items: Out(items, many=True).data)`."""
    page = paginate_queryset(queryset, request.query_params)
    return ok(page_data(page, serialize(page.items)), message=message)
