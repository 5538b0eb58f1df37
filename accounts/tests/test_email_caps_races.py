"""The account-mail caps under concurrency, on PostgreSQL with real threads: however many requests race, no cap
is passed (the check and the count happen under a lock on the address)."""

import pytest

from accounts import services
from accounts.models import EmailSend
from accounts.tests.test_races import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def allow(address: str):
    return lambda: services.email_send_allow(address=address, kind=EmailSend.Kind.PASSWORD_RESET)


@pytest.mark.parametrize("attempt", range(2))
def test_racing_requests_do_not_pass_the_daily_cap(settings, attempt):
    settings.EMAIL_COOLDOWN_SECONDS = 0  # only the daily cap (and its lock) stands in the way
    settings.EMAIL_DAILY_LIMIT_PER_ADDRESS = 3

    results = race(*(allow("Race@Example.com" if i % 2 else "race@example.com") for i in range(8)))

    assert results.count(True) == 3
    assert EmailSend.objects.filter(address=services.email_address_key("race@example.com")).count() == 3


@pytest.mark.parametrize("attempt", range(2))
def test_racing_requests_send_one_mail_per_cooldown(settings, attempt):
    settings.EMAIL_COOLDOWN_SECONDS = 60
    settings.EMAIL_DAILY_LIMIT_PER_ADDRESS = 10

    results = race(*(allow("race@example.com") for _ in range(6)))

    assert results.count(True) == 1
