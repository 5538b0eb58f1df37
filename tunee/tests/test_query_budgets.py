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


@pytest.mark.postgres  # the one-statement path is PostgreSQL's; other databases take the ORM's
def test_generation_create_is_two_queries(auth_api, transactional_db):
    """Outside a test transaction, as in production. The two: the moderation verdict of the prompt, then one round
    trip that takes the in-flight lock and, in its second statement, reads the membership, counts the generations
    in flight, takes the unit of quota (which also answers the quota left) and inserts the row. No BEGIN, COMMIT or
    savepoint: the two statements of that round trip are one implicit transaction."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from generation.models import Generation

    body = {"prompt": "a song about the sea"}
    assert auth_api.post("/api/generation/create", body, format="json").status_code == 201  # warms the word list
    with CaptureQueriesContext(connection) as captured:
        response = auth_api.post("/api/generation/create", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["data"]["quota"] == {"remaining": 1, "used": 2, "total": 3}
    queries = [q["sql"] for q in captured.captured_queries]
    assert len(queries) <= 2, queries
    assert not [sql for sql in queries if sql.startswith(TRANSACTION_CONTROL)]
    assert Generation.objects.filter(user=auth_api.user).count() == 2


@pytest.mark.postgres  # the one-statement path is PostgreSQL's; other databases take the ORM's
def test_work_like_is_one_query(auth_api, django_assert_max_num_queries):
    """The access check and the toggle are one statement."""
    from accounts.tests.factories import UserFactory
    from works.tests.factories import completed_work

    work = completed_work(creator=UserFactory())
    assert auth_api.post(f"/api/works/{work.pk}/like").json()["data"] == {"liked": True, "likes": 1}  # warms
    for liked in (False, True):
        with django_assert_max_num_queries(1):
            response = auth_api.post(f"/api/works/{work.pk}/like")
        assert response.status_code == 200
        assert response.json()["data"] == {"liked": liked, "likes": int(liked)}


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


@pytest.mark.postgres  # the one-statement path is PostgreSQL's; other databases take the ORM's
def test_wechat_notify_of_a_fresh_order_takes_at_most_six_queries(
    auth_api, client, settings, tmp_path, django_assert_max_num_queries
):
    """A signed "paid" notification of a pending points order. The six: the transaction's BEGIN and COMMIT (here,
    inside the test's transaction, a savepoint and its release), the conditional UPDATE that marks the order paid
    and writes its event, the one-statement credit with its ledger entry, the grant, the stored notification."""
    from membership.selectors import points_balance
    from payments.models import Order, PaymentNotification
    from payments.tests.helpers import place_points_order, wechat_notification

    settings.VAR_DIR, settings.PAYMENT_SANDBOX = tmp_path / "var", True
    for name in ("WECHAT_PAY_MCH_ID", "WECHAT_PAY_API_KEY", "WECHAT_PAY_CERT_PATH", "WECHAT_PAY_KEY_PATH"):
        setattr(settings, name, "")
    order = Order.objects.get(order_no=place_points_order(auth_api)["orderNo"])
    path = "/api/payment/wechat/notify"
    warm = client.post(path, wechat_notification(order, result_code="FAIL"), content_type="text/xml")
    assert b"SUCCESS" in warm.content  # not a payment: acknowledged, nothing settled
    with django_assert_max_num_queries(6):
        response = client.post(path, wechat_notification(order), content_type="text/xml")
    assert b"<return_code><![CDATA[SUCCESS]]></return_code>" in response.content
    assert PaymentNotification.objects.filter(order=order, outcome="settled").count() == 1
    assert points_balance(user=auth_api.user) == 60


@pytest.mark.postgres  # the one-statement path is PostgreSQL's; other databases take the ORM's
def test_generation_list_is_one_query_with_the_membership_in_its_rows(auth_api, member, django_assert_num_queries):
    """The page is one query: its total and the requester's membership (who sees the high-quality audio) are in its
    rows."""
    from accounts.tests.clients import client_for
    from generation.tests.factories import GenerationFactory, complete

    for _ in range(3):
        complete(GenerationFactory(user=auth_api.user))
    mine = client_for(member)
    complete(GenerationFactory(user=member))
    for client, hq_shown in ((auth_api, False), (mine, True)):
        warm(client, "/api/generation?pageSize=20")
        with django_assert_num_queries(1):
            response = client.get("/api/generation?pageSize=20")
        assert response.json()["data"]["list"]
        assert bool(response.json()["data"]["list"][0]["result"]["hqAudioUrl"]) is hq_shown


def test_the_works_feed_first_page_from_the_cache_is_one_query_or_none(auth_api, api, django_assert_num_queries):
    """A hit of the cached first page: the requester's likes (one query), nothing for an anonymous request."""
    from works.tests.factories import completed_work

    for _ in range(3):
        completed_work(creator=auth_api.user)
    for client, queries in ((auth_api, 1), (api, 0)):
        warm(client, "/api/works?pageSize=20")
        with django_assert_num_queries(queries):
            response = client.get("/api/works?pageSize=20")
        assert len(response.json()["data"]["list"]) == 3


@pytest.mark.postgres
def test_hot_queries_are_kept_prepared_on_the_server(auth_api, settings):
    """DB_PREPARED_STATEMENTS (on by default): after a few requests the profile's one query runs as a statement
    PostgreSQL keeps prepared on this connection (parsed and planned once), with its parameters bound on the
    server (`$1`), not written into the text."""
    from django.db import connection

    assert settings.DATABASES["default"]["OPTIONS"]["server_side_binding"] is True
    for _ in range(6):
        assert auth_api.get("/api/user/me").status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE NOT from_sql")
        prepared = [row[0] for row in cursor.fetchall()]
    profile = [sql for sql in prepared if "FROM accounts_user u LEFT JOIN membership_membership" in sql]
    assert profile, prepared
    assert "$1" in profile[0] and str(auth_api.user.pk.hex) not in profile[0]
