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


TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")


def test_generation_create_is_five_statements_and_a_transaction(auth_api, transactional_db):
    """Outside a test transaction, as in production. The five: the moderation verdict of the prompt, the in-flight
    lock, the membership with the in-flight count, the quota's one-statement charge (which also answers the quota
    left), the row. BEGIN and COMMIT frame them."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    body = {"prompt": "a song about the sea"}
    assert auth_api.post("/api/generation/create", body, format="json").status_code == 201  # warms the word list
    with CaptureQueriesContext(connection) as captured:
        response = auth_api.post("/api/generation/create", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["data"]["quota"] == {"remaining": 1, "used": 2, "total": 3}
    statements = [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(TRANSACTION_CONTROL)]
    assert len(statements) <= 5, statements
    assert len(captured.captured_queries) - len(statements) <= 2  # BEGIN, COMMIT: no savepoint


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
