"""Query budgets of the hot endpoints (issue: performance): pinned so that an N+1 or an extra lookup fails here.

Each endpoint is called once to warm the caches a real client keeps warm (the login session's state, the plan
catalog), then counted. Timings are never asserted: bench/http.py measures speed.
"""

import pytest

pytestmark = pytest.mark.django_db


def warm(client, path):
    assert client.get(path).status_code == 200


def test_user_me_is_one_query(auth_api, django_assert_max_num_queries):
    warm(auth_api, "/api/user/me")
    with django_assert_max_num_queries(1):
        response = auth_api.get("/api/user/me")
    assert response.status_code == 200
    assert response.json()["data"]["dailyStats"]["totalCount"] == 3


def test_generation_quota_is_one_query(auth_api, member, django_assert_max_num_queries):
    from accounts.tests.clients import client_for

    for client, limit in ((auth_api, 3), (client_for(member), 50)):
        warm(client, "/api/generation/quota")
        with django_assert_max_num_queries(1):
            response = client.get("/api/generation/quota")
        assert response.json()["data"]["dailyLimit"] == limit


def test_generation_list_is_at_most_three_queries_whatever_the_page_size(auth_api, django_assert_max_num_queries):
    from django.utils import timezone

    from generation.models import Generation

    user, now = auth_api.user, timezone.now()
    Generation.objects.bulk_create(
        Generation(
            user=user, prompt=f"song {n}", status=Generation.Status.COMPLETED, audio=f"a/{n}.mp3", completed_at=now
        )
        for n in range(25)
    )
    warm(auth_api, "/api/generation?pageSize=5")
    for size in (5, 20):
        with django_assert_max_num_queries(3):
            response = auth_api.get(f"/api/generation?pageSize={size}")
        assert len(response.json()["data"]["list"]) == size


# The performance issue asks for at most 5. Today's 14 (savepoints of the test's transaction included): screening
# (word-list version, verdict log), the in-flight limit (lock, count), membership read twice, the quota's one-statement
# charge, the row. Pinned here so that it only goes down; folding them is open work (see the README, Performance).
CREATE_BUDGET = 14


def test_generation_create_query_budget(auth_api, django_assert_max_num_queries):
    warm(auth_api, "/api/generation/quota")
    with django_assert_max_num_queries(CREATE_BUDGET):
        response = auth_api.post("/api/generation/create", {"prompt": "a song about the sea"}, format="json")
    assert response.status_code in (200, 201), response.json()


def test_the_works_feed_is_at_most_three_queries_whatever_the_page_size(auth_api, django_assert_max_num_queries):
    from accounts.tests.factories import UserFactory
    from works.tests.factories import completed_work

    for n in range(45):
        completed_work(creator=UserFactory() if n % 3 else auth_api.user, tags=["t", f"x{n}"])
    warm(auth_api, "/api/works?pageSize=5")
    for query in ("pageSize=5", "pageSize=20", "pageSize=20&page=2", "pageSize=50&tag=t"):
        with django_assert_max_num_queries(3):
            response = auth_api.get(f"/api/works?{query}")
        assert response.status_code == 200 and response.json()["data"]["list"]
