"""Pagination of a model queryset: the page's own SELECT carries the total (COUNT(*) OVER ()); a COUNT only for a page
past the end. The totals stay what a separate COUNT says."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tunee.api.pagination import paginate_queryset

pytestmark = pytest.mark.django_db


@pytest.fixture
def generations(user):
    from generation.models import Generation

    Generation.objects.bulk_create(Generation(user=user, prompt=f"song {n}") for n in range(25))
    return Generation.objects.filter(user=user).order_by("prompt")


@pytest.mark.parametrize(
    ("page", "items", "queries"), [(1, 10, 1), (3, 5, 1), (4, 0, 2)]
)  # the last page is short; page 4 is past the end
def test_the_total_comes_with_the_page(generations, page, items, queries):
    with CaptureQueriesContext(connection) as captured:
        result = paginate_queryset(generations, {"page": str(page), "pageSize": "10"})
    assert len(result.items) == items
    assert result.meta == {"page": page, "pageSize": 10, "total": 25, "totalPages": 3}
    assert len(captured) == queries
    if items:
        assert [g.prompt for g in result.items] == [g.prompt for g in generations][(page - 1) * 10 : page * 10]


def test_distinct_and_values_querysets_count_separately(generations):
    result = paginate_queryset(generations.values("prompt"), {"pageSize": "10"})
    assert result.total == 25 and isinstance(result.items[0], dict) and set(result.items[0]) == {"prompt"}
    result = paginate_queryset(generations.distinct(), {"page": "3", "pageSize": "10"})
    assert result.total == 25 and len(result.items) == 5


def test_an_empty_list_is_one_query(user):
    from generation.models import Generation

    with CaptureQueriesContext(connection) as captured:
        result = paginate_queryset(Generation.objects.filter(user=user), {})
    assert result.items == [] and result.total == 0 and len(captured) == 1
