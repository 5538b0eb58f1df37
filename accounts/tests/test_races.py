"""Races on PostgreSQL with real threads: duplicates end as exactly one success and one 11000."""

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User, VerificationCode
from accounts.services.sms import _code_hash
from accounts.tests.clients import client_for
from accounts.tests.factories import UserFactory
from tunee.testing import race_results

# serialized_rollback: the flush after these tests leaves the migrated rows (content types) for the next
# transactional test to restore, instead of recreating them with new ids that clash with its restore.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def race(*calls):
    """Run the calls at the same moment, each in its own thread (and database connection)."""
    return race_results(*calls)


def register(username, email):
    def call():
        response = APIClient().post(
            "/api/users", {"username": username, "email": email, "password": "Melody-Harbor-2024"}, format="json"
        )
        return response.status_code, response.json()["code"]

    return call


@pytest.mark.parametrize("attempt", range(3))
def test_two_registrations_with_the_same_email(attempt):
    results = race(register("alice", "same@example.com"), register("bob", "SAME@example.com"))

    assert sorted(results) == [(201, 0), (409, 11000)]
    assert User.objects.filter(email__iexact="same@example.com").count() == 1


@pytest.mark.parametrize("attempt", range(3))
def test_two_registrations_with_the_same_username(attempt):
    results = race(register("carol", "c1@example.com"), register("Carol", "c2@example.com"))

    assert sorted(results) == [(201, 0), (409, 11000)]
    assert User.objects.filter(username__iexact="carol").count() == 1


@pytest.mark.parametrize("attempt", range(3))
def test_two_accounts_binding_the_same_phone(attempt):
    phone = "13600136000"
    now = timezone.now()
    for code in ("111111", "222222"):
        VerificationCode.objects.create(
            phone=phone,
            purpose="bind_phone",
            code_hash=_code_hash(phone=phone, purpose="bind_phone", code=code),
            created_at=now,
            expires_at=now + datetime.timedelta(minutes=5),
        )
    first, second = client_for(UserFactory()), client_for(UserFactory())

    def bind(client, code):
        def call():
            response = client.post("/api/user/bind-phone", {"phone": phone, "code": code}, format="json")
            return response.status_code, response.json()["code"]

        return call

    results = race(bind(first, "111111"), bind(second, "222222"))

    assert sorted(results) == [(200, 0), (409, 11000)]
    assert User.objects.filter(phone=phone).count() == 1


def send_code(phone, purpose="login"):
    def call():
        response = APIClient().post("/api/auth/send-code", {"phone": phone, "purpose": purpose}, format="json")
        return response.status_code, response.json()["code"]

    return call


@pytest.mark.parametrize("attempt", range(3))
def test_concurrent_codes_from_one_ip_never_pass_the_hourly_cap(settings, attempt):
    settings.SMS_BACKEND = "locmem"
    settings.SMS_HOURLY_LIMIT_PER_IP = 3

    results = race(*[send_code(f"1380013{index:04d}") for index in range(10)])

    assert sorted(results) == [(200, 0)] * 3 + [(429, 429)] * 7
    assert VerificationCode.objects.count() == 3


@pytest.mark.parametrize("attempt", range(3))
def test_concurrent_codes_for_one_phone_never_pass_the_daily_cap(settings, attempt):
    settings.SMS_BACKEND = "locmem"
    settings.SMS_DAILY_LIMIT_PER_PHONE = 2
    purposes = ["login", "register", "reset_password", "bind_phone"]

    results = race(*[send_code("13900139000", purpose) for purpose in purposes])

    assert sorted(results) == [(200, 0)] * 2 + [(429, 429)] * 2
    assert VerificationCode.objects.filter(phone="13900139000").count() == 2
