"""Limits that answer 429 with `retryAfter`: generation creates per user (THROTTLE_GENERATION_RATE) and generations
in flight per user (GENERATION_IN_FLIGHT_FREE / _MEMBER: nothing charged), each tripping at its configured value and
recovering; the in-flight limit holds under parallel creates on PostgreSQL."""

import pytest
import time_machine

from accounts.tests.clients import client_for
from accounts.tests.factories import UserFactory
from generation.models import Generation
from generation.services import generation_create, generation_fail
from membership.models import Charge, DailyUsage
from tunee.api.errors import ApiError
from tunee.testing import race_results

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    from generation import tasks

    monkeypatch.setattr(tasks.generation_run, "apply_async", lambda *args, **kwargs: None)


@pytest.fixture
def in_flight(settings):
    settings.GENERATION_IN_FLIGHT_FREE = 2
    settings.GENERATION_IN_FLIGHT_MEMBER = 4
    return settings


def create(client, path="/api/generation/create"):
    body = {"prompt": "雨后的城市"} if path.endswith("create") else {"title": "t", "prompt": "雨后的城市"}
    return client.post(path, body, format="json")


def assert_throttled(response):
    body = response.json()
    assert response.status_code == 429 and body["code"] == 429, body
    assert body["details"]["retryAfter"] >= 1
    assert response["Retry-After"] == str(body["details"]["retryAfter"])
    return body


@pytest.mark.parametrize("path", ["/api/generation/create", "/api/music/tasks"])
def test_generation_creates_trip_at_the_configured_rate_and_recover(settings, path):
    settings.THROTTLE_GENERATION_RATE = "2/min"
    client = client_for(UserFactory())
    with time_machine.travel(1_900_000_000, tick=False) as clock:
        assert [create(client, path).status_code for _ in range(2)] == [201, 201]
        body = assert_throttled(create(client, path))
        assert 29 <= body["details"]["retryAfter"] <= 30
        assert client.get("/api/generation").status_code == 200  # other endpoints are not held

        clock.shift(30)
        assert create(client, path).status_code == 201


def test_the_generation_rate_is_per_user(settings):
    settings.THROTTLE_GENERATION_RATE = "1/min"
    with time_machine.travel(1_900_000_000, tick=False):
        one, two = client_for(UserFactory()), client_for(UserFactory())
        assert create(one).status_code == 201
        assert create(one).status_code == 429
        assert create(two).status_code == 201


def test_the_general_user_rate_trips_and_recovers(settings, auth_api):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK}
    settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"anon": "1000/min", "user": "3/min"}
    with time_machine.travel(1_900_000_000, tick=False) as clock:
        assert [auth_api.get("/api/generation").status_code for _ in range(3)] == [200] * 3
        assert_throttled(auth_api.get("/api/generation"))
        clock.shift(20)
        assert auth_api.get("/api/generation").status_code == 200


def test_the_in_flight_limit_refuses_with_429_and_charges_nothing(in_flight, auth_api):
    assert [create(auth_api).status_code for _ in range(2)] == [201, 201]
    charges = Charge.objects.count()
    used = DailyUsage.objects.get(user=auth_api.user).used

    body = assert_throttled(create(auth_api))
    assert body["details"]["limit"] == 2 and body["details"]["inFlight"] == 2
    assert assert_throttled(create(auth_api, "/api/music/tasks"))
    assert Charge.objects.count() == charges
    assert DailyUsage.objects.get(user=auth_api.user).used == used
    assert Generation.objects.filter(user=auth_api.user).count() == 2


def test_a_finished_generation_frees_its_place(in_flight, auth_api):
    create(auth_api), create(auth_api)
    assert create(auth_api).status_code == 429

    generation_fail(generation=Generation.objects.filter(user=auth_api.user).first(), message="test")

    assert create(auth_api).status_code == 201


def test_members_may_have_more_in_flight(in_flight, member):
    client = client_for(member)
    assert [create(client).status_code for _ in range(4)] == [201] * 4
    assert_throttled(create(client))


def test_the_limit_counts_every_route(in_flight, user):
    generation_create(user=user, prompt="a", enqueue=False)  # a work's generation, not started yet
    generation_create(user=user, prompt="b")
    with pytest.raises(ApiError) as refused:
        generation_create(user=user, prompt="c")
    assert refused.value.status == 429


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_creates_never_pass_the_in_flight_limit(settings):
    settings.GENERATION_IN_FLIGHT_FREE = 2
    settings.GENERATION_IN_FLIGHT_MEMBER = 2
    person = UserFactory()
    from membership.services import quota_set_daily_limit

    quota_set_daily_limit(user=person, limit=100, actor=None, reason="race")

    def attempt():
        try:
            generation_create(user=person, prompt="race")
        except ApiError as exc:
            return exc.status
        return 201

    outcomes = race_results(*[attempt] * 8)

    assert sorted(outcomes) == [201, 201] + [429] * 6
    assert Generation.objects.filter(user=person).count() == 2
    assert Charge.objects.filter(user=person).count() == 2
    assert DailyUsage.objects.get(user=person).used == 2
