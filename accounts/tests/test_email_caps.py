"""Account mails (password reset, signup verification): a cooldown and a daily cap per address, whatever its case
and whether or not it has an account. Over them nothing is sent, and `POST /api/requestPasswordReset` still
answers the same success (it must not tell who is registered)."""

import datetime
import zoneinfo

import pytest
import time_machine
from django.core import mail

from accounts.tests.factories import UserFactory
from accounts.tests.helpers import body

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
MORNING = datetime.datetime(2030, 3, 4, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def caps(settings):
    settings.EMAIL_COOLDOWN_SECONDS = 60
    settings.EMAIL_DAILY_LIMIT_PER_ADDRESS = 3
    settings.THROTTLE_LOGIN_ACCOUNT_RATE = "1000/min"  # the per-email login throttle is not what is tested here
    settings.THROTTLE_LOGIN_IP_RATE = "1000/min"
    return settings


@pytest.fixture
def clock():
    with time_machine.travel(MORNING, tick=False) as traveller:
        yield traveller


@pytest.fixture
def reset(api, notifications, django_capture_on_commit_callbacks):
    """`reset(email)` → the answer's body, after the queued mail jobs ran as a worker would."""

    def ask(email: str) -> dict:
        with django_capture_on_commit_callbacks(execute=True):
            answer = body(api.post("/api/requestPasswordReset", {"email": email}, format="json"), 200, 0)
        notifications.deliver()
        return answer

    return ask


def test_second_request_within_the_cooldown_sends_no_mail_and_answers_the_same(reset, clock):
    UserFactory(email="known@example.com")

    first = reset("known@example.com")
    clock.shift(59)
    second = reset("known@example.com")

    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["known@example.com"]
    assert (second["message"], second["data"]) == (first["message"], first["data"])


def test_after_the_cooldown_another_mail_is_sent(reset, clock):
    UserFactory(email="known@example.com")

    reset("known@example.com")
    clock.shift(61)
    reset("known@example.com")

    assert len(mail.outbox) == 2


def test_case_variants_are_one_address(reset, clock):
    UserFactory(email="known@example.com")

    reset("Known@Example.com")
    reset("known@EXAMPLE.COM ")
    reset("KNOWN@example.com")

    assert len(mail.outbox) == 1


def test_daily_cap_then_the_next_business_day_mails_again(reset, clock):
    UserFactory(email="known@example.com")

    for _ in range(5):
        reset("known@example.com")
        clock.shift(61)
    assert len(mail.outbox) == 3  # EMAIL_DAILY_LIMIT_PER_ADDRESS

    clock.move_to(datetime.datetime(2030, 3, 5, 0, 0, 30, tzinfo=SHANGHAI))  # just past midnight in Shanghai
    reset("known@example.com")
    assert len(mail.outbox) == 4


def test_requests_for_an_address_without_account_count_too(reset, clock):
    for _ in range(3):
        reset("later@example.com")
        clock.shift(61)
    assert mail.outbox == []

    UserFactory(email="later@example.com")
    reset("later@example.com")

    assert mail.outbox == []  # the day's cap was used up before the account existed


def test_other_addresses_are_not_affected(reset, clock):
    UserFactory(email="a@example.com")
    UserFactory(email="b@example.com")

    reset("a@example.com")
    reset("b@example.com")

    assert sorted(m.to[0] for m in mail.outbox) == ["a@example.com", "b@example.com"]


def test_signup_verification_mail_counts_against_the_same_cap(
    api, reset, clock, notifications, django_capture_on_commit_callbacks
):
    for _ in range(3):
        reset("Alice@Example.com")  # no account yet: nothing sent, each counted
        clock.shift(61)

    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(
            "/api/users",
            {"username": "alice", "email": "alice@example.com", "password": "Melody-Harbor-2024"},
            format="json",
        )
    body(created, 201, 0)
    assert notifications.deliver() == [] and mail.outbox == []


def test_signup_verification_mail_is_sent_below_the_cap(api, clock, notifications, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(
            "/api/users",
            {"username": "alice", "email": "alice@example.com", "password": "Melody-Harbor-2024"},
            format="json",
        )
    body(created, 201, 0)
    notifications.deliver()

    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
