"""The O(1) rate limits (GCRA): bursts, spacing, recovery, per-client keys, and one cache round trip each."""

import pytest
import time_machine
from django.core.cache import cache

from tunee import cache as shared_cache
from tunee.api.throttles import parse_rate, rate_hit
from tunee.testing import race_results

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tunee.tests.urls")]


def test_rates_are_parsed_in_drfs_syntax():
    assert parse_rate("30/min") == (30, 60)
    assert parse_rate("20/hour") == (20, 3600)
    assert parse_rate("5/s") == (5, 1)
    assert parse_rate("1000/day") == (1000, 86400)
    assert parse_rate("") is None and parse_rate(None) is None


def test_a_burst_of_the_limit_passes_then_one_per_interval():
    with time_machine.travel(1_900_000_000, tick=False) as clock:
        assert [rate_hit("t:a", limit=3, period=60) for _ in range(3)] == [0, 0, 0]
        wait = rate_hit("t:a", limit=3, period=60)
        assert 19.9 <= wait <= 20.0  # 3/min: one more every 20 s
        assert rate_hit("t:a", limit=3, period=60) == pytest.approx(wait)  # a refusal is not counted

        clock.shift(20)
        assert rate_hit("t:a", limit=3, period=60) == 0
        assert rate_hit("t:a", limit=3, period=60) > 0

        clock.shift(60)  # a full period of rest: the whole burst again
        assert [rate_hit("t:a", limit=3, period=60) for _ in range(3)] == [0, 0, 0]
        assert rate_hit("t:a", limit=3, period=60) > 0


def test_each_key_has_its_own_allowance():
    with time_machine.travel(1_900_000_000, tick=False):
        assert rate_hit("t:one", limit=1, period=60) == 0
        assert rate_hit("t:one", limit=1, period=60) > 0
        assert rate_hit("t:two", limit=1, period=60) == 0


def test_a_limit_of_zero_refuses_everything():
    assert rate_hit("t:zero", limit=0, period=60) == 60


def test_racing_requests_pass_exactly_the_limit(caplog):
    def hit():
        return [rate_hit("t:race", limit=12, period=3600) == 0 for _ in range(5)]

    passed = [ok for hits in race_results(*[hit] * 8) for ok in hits]

    # exactly the limit; a check the cache could not answer lets its request through, and says so
    unchecked = [r for r in caplog.records if "not checked" in r.getMessage()]
    assert sum(passed) == 12 + len(unchecked)
    assert len(unchecked) < 40


def test_one_cache_round_trip_and_no_query_per_throttle(django_assert_num_queries, monkeypatch):
    if shared_cache.redis_client() is None:
        pytest.skip("needs Redis (REDIS_URL)")
    import redis.connection

    sent = []
    original = redis.connection.AbstractConnection.send_command
    monkeypatch.setattr(
        redis.connection.AbstractConnection,
        "send_command",
        lambda self, *args, **kwargs: sent.append(args[0]) or original(self, *args, **kwargs),
    )
    rate_hit("t:rt", limit=5, period=60)  # the script is loaded on the first call
    sent.clear()
    with django_assert_num_queries(0):
        rate_hit("t:rt", limit=5, period=60)

    assert sent == ["EVALSHA"]


def test_the_throttled_view_recovers_after_its_interval(api):
    with time_machine.travel(1_900_000_000, tick=False) as clock:
        assert api.get("/api/_t/throttled").status_code == 200
        refused = api.get("/api/_t/throttled")
        assert refused.status_code == 429
        assert refused.json()["details"]["retryAfter"] == 60

        clock.shift(61)
        assert api.get("/api/_t/throttled").status_code == 200


def test_the_general_user_rate_counts_per_user_and_trips(auth_api, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "user": "3/min"},
    }
    with time_machine.travel(1_900_000_000, tick=False) as clock:
        statuses = [auth_api.get("/api/generation/quota").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        clock.shift(20)
        assert auth_api.get("/api/generation/quota").status_code == 200


def _redis_commands(monkeypatch) -> list:
    import redis.connection

    sent = []
    original = redis.connection.AbstractConnection.send_command
    monkeypatch.setattr(
        redis.connection.AbstractConnection,
        "send_command",
        lambda self, *args, **kwargs: sent.append(args[0]) or original(self, *args, **kwargs),
    )
    return sent


def test_an_authenticated_request_reads_its_session_and_counts_its_rate_in_one_round_trip(auth_api, monkeypatch):
    if shared_cache.redis_client() is None:
        pytest.skip("needs Redis (REDIS_URL)")
    assert auth_api.get("/api/generation/quota").status_code == 200  # caches the session's state, loads the script
    sent = _redis_commands(monkeypatch)

    assert auth_api.get("/api/generation/quota").status_code == 200
    assert sent == ["EVALSHA"]


def test_a_create_counts_the_user_and_generation_rates_in_the_authentications_round_trip(
    auth_api, monkeypatch, settings
):
    if shared_cache.redis_client() is None:
        pytest.skip("needs Redis (REDIS_URL)")
    from generation import tasks

    monkeypatch.setattr(tasks.generation_run, "apply_async", lambda *args, **kwargs: None)
    settings.THROTTLE_GENERATION_RATE = "2/min"
    body = {"prompt": "a song about the sea"}
    with time_machine.travel(1_900_000_000, tick=False):
        assert auth_api.post("/api/generation/create", body, format="json").status_code == 201  # caches the session
        sent = _redis_commands(monkeypatch)
        assert auth_api.post("/api/generation/create", body, format="json").status_code == 201
        assert sent.count("EVALSHA") == 1  # the session's state, the user rate and the generation rate
        assert auth_api.post("/api/generation/create", body, format="json").status_code == 429  # counted once each


def test_requests_of_a_revoked_session_do_not_use_up_the_users_rate(user, settings):
    from accounts.services import session_revoke
    from accounts.tests.clients import client_for

    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "user": "2/min"},
    }
    revoked, live = client_for(user), client_for(user)
    session_revoke(session_id=revoked.tokens.session.pk, user=user)
    with time_machine.travel(1_900_000_000, tick=False):
        refused = [revoked.get("/api/generation/quota").status_code for _ in range(3)]
        statuses = [live.get("/api/generation/quota").status_code for _ in range(3)]

    assert refused == [401, 401, 401]
    assert statuses == [200, 200, 429]


def test_the_general_anonymous_rate_counts_per_address(api, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "2/min"},
    }
    with time_machine.travel(1_900_000_000, tick=False):
        first = [api.get("/api/points/packages", REMOTE_ADDR="203.0.113.1").status_code for _ in range(3)]
        other = api.get("/api/points/packages", REMOTE_ADDR="203.0.113.2").status_code

    assert first == [200, 200, 429]
    assert other == 200


def test_without_redis_the_same_algorithm_runs_on_the_local_cache(monkeypatch):
    monkeypatch.setattr(shared_cache, "redis_client", lambda: None)
    cache.clear()
    with time_machine.travel(1_900_000_000, tick=False) as clock:
        assert [rate_hit("t:local", limit=2, period=10) for _ in range(2)] == [0, 0]
        assert rate_hit("t:local", limit=2, period=10) == pytest.approx(5)
        clock.shift(5)
        assert rate_hit("t:local", limit=2, period=10) == 0


def test_a_cache_outage_lets_requests_through(monkeypatch):
    class Broken:
        def register_script(self, script):
            raise ConnectionError("redis is down")

    monkeypatch.setattr(shared_cache, "redis_client", lambda: Broken())
    monkeypatch.setattr(shared_cache, "_scripts", {})

    assert rate_hit("t:down", limit=1, period=60) == 0
    assert rate_hit("t:down", limit=1, period=60) == 0


def test_a_clock_that_went_back_does_not_lock_a_client_out():
    with time_machine.travel(1_900_000_000, tick=False) as clock:
        assert rate_hit("t:back", limit=2, period=60) == 0
        clock.move_to(1_800_000_000)  # another worker's clock, or the test's, is behind
        assert rate_hit("t:back", limit=2, period=60) == 0
