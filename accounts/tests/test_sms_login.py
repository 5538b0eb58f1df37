"""SMS codes and phone login: sending through the notifications queue, limits, single use, tries, enumeration."""

import datetime
import hashlib

import pytest
import time_machine
from django.utils import timezone

from accounts.models import LoginSession, User, VerificationCode
from accounts.providers import sms as sms_providers
from accounts.services.sms import _code_hash
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import body

pytestmark = pytest.mark.django_db

PHONE = "13800138000"


def login(api, phone, code, **extra):
    return api.post("/api/auth/phone-login", {"phone": phone, "code": code}, format="json", **extra)


def test_send_code_enqueues_on_notifications_and_sends_nothing_in_the_request(
    api, sms, notifications, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/auth/send-code", {"phone": PHONE, "purpose": "login"}, format="json")

    data = body(response, 200, 0)
    assert data["data"] == {"cooldown": 60}
    assert data["message"] == "验证码已发送"
    assert sms == []  # not sent inside the request
    jobs = notifications.drain()
    assert [(job.task, job.queue) for job in jobs] == [("accounts.send_sms_code", "notifications")]

    for job in jobs:  # what the worker does
        from tunee.celery import app

        app.tasks[job.task].apply(args=job.args, kwargs=job.kwargs, throw=True)
    assert len(sms) == 1 and sms[0].phone == PHONE
    code = sms[0].params["code"]
    assert len(code) == 6 and code.isdigit() and code in sms[0].text
    assert VerificationCode.objects.get().delivery == VerificationCode.Delivery.SENT


def test_delivering_the_same_job_twice_sends_one_sms(api, sms, notifications, django_capture_on_commit_callbacks):
    from tunee.celery import app

    with django_capture_on_commit_callbacks(execute=True):
        api.post("/api/auth/send-code", {"phone": PHONE}, format="json")
    job = notifications.drain()[0]

    app.tasks[job.task].apply(args=job.args, throw=True)
    app.tasks[job.task].apply(args=job.args, throw=True)

    assert len(sms) == 1


def test_code_is_stored_hashed(send_code):
    code = send_code(PHONE)

    row = VerificationCode.objects.get()
    assert code not in row.code_hash and len(row.code_hash) == 64
    assert row.code_hash == _code_hash(phone=PHONE, purpose="login", code=code)  # keyed: not a bare SHA-256
    assert row.code_hash != hashlib.sha256(code.encode()).hexdigest()
    assert row.expires_at - row.created_at == datetime.timedelta(seconds=300)


def test_console_backend_prints_one_line_on_standard_output(settings, capfd):
    settings.SMS_BACKEND = "console"

    sms_providers.get_backend().send(phone=PHONE, text="code 123456", params={"code": "123456"})

    assert capfd.readouterr().out == f"SMS to {PHONE}: code 123456\n"


@pytest.mark.parametrize("phone", ["+8613800138000", "+86 138-0013-8000", "8613800138000"])
def test_plus_86_prefix_is_accepted(send_code, sms, phone):
    send_code(phone)
    assert sms[-1].phone == PHONE


@pytest.mark.parametrize(
    "payload", [{"phone": "12345"}, {"phone": "23800138000"}, {}, {"phone": PHONE, "purpose": "hack"}]
)
def test_send_code_bad_input_is_400_and_creates_nothing(api, payload, notifications):
    data = body(api.post("/api/auth/send-code", payload, format="json"), 400, 400)
    assert data["details"]
    assert VerificationCode.objects.count() == 0
    assert notifications.drain() == []


def test_cooldown_per_phone_and_purpose(api, send_code, sms):
    send_code(PHONE)

    again = body(api.post("/api/auth/send-code", {"phone": PHONE}, format="json"), 429, 429)
    assert 1 <= again["details"]["retryAfter"] <= 60
    assert int(api.post("/api/auth/send-code", {"phone": PHONE}, format="json")["Retry-After"]) >= 1
    assert VerificationCode.objects.count() == 1

    send_code(PHONE, purpose="bind_phone")  # another purpose has its own cooldown
    assert VerificationCode.objects.count() == 2


def test_cooldown_ends(api, send_code):
    send_code(PHONE)
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=61)):
        assert api.post("/api/auth/send-code", {"phone": PHONE}, format="json").status_code == 200


def test_daily_cap_per_phone(api, send_code, settings):
    settings.SMS_DAILY_LIMIT_PER_PHONE = 3
    settings.SMS_COOLDOWN_SECONDS = 1
    with time_machine.travel(timezone.now().replace(hour=2), tick=False) as traveller:
        for _ in range(3):
            send_code(PHONE)
            traveller.shift(2)

        refused = body(api.post("/api/auth/send-code", {"phone": PHONE}, format="json"), 429, 429)

    assert refused["details"]["retryAfter"] > 3600
    assert VerificationCode.objects.count() == 3


def test_hourly_cap_per_ip(api, send_code, settings):
    settings.SMS_HOURLY_LIMIT_PER_IP = 2
    send_code("13800138001")
    send_code("13800138002")

    refused = body(api.post("/api/auth/send-code", {"phone": "13800138003"}, format="json"), 429, 429)
    other_ip = api.post("/api/auth/send-code", {"phone": "13800138003"}, format="json", REMOTE_ADDR="10.0.0.9")

    assert 3500 <= refused["details"]["retryAfter"] <= 3600
    assert other_ip.status_code == 200


def test_phone_with_and_without_account_get_the_same_answers(api, send_code, sms):
    UserFactory(phone="13900139000")

    answers = []
    for phone in ("13900139000", "13900139001"):
        code = send_code(phone)
        first = api.post("/api/auth/send-code", {"phone": phone}, format="json").json()
        wrong = login(api, phone, "000000" if code != "000000" else "111111").json()
        answers.append((first["code"], first["message"], first["details"], wrong["code"], wrong["message"]))

    assert answers[0] == answers[1]


def test_first_phone_login_creates_the_account(api, send_code):
    code = send_code(PHONE)

    data = body(login(api, "+86" + PHONE, code), 200, 0)["data"]

    user = User.objects.get(phone=PHONE)
    assert data["user"]["isNewUser"] is True
    assert data["user"]["id"] == str(user.pk) and data["user"]["phone"] == PHONE
    assert data["expiresIn"] == 604800 and data["accessToken"] and data["refreshToken"]
    assert data["user"]["membership"]["level"] == "free"
    assert LoginSession.objects.get().method == "phone"
    assert not user.has_usable_password()


def test_second_phone_login_finds_the_account(api, send_code):
    existing = UserFactory(phone=PHONE)
    code = send_code(PHONE)

    data = body(login(api, PHONE, code), 200, 0)["data"]

    assert data["user"]["isNewUser"] is False and data["user"]["id"] == str(existing.pk)
    assert User.objects.count() == 1


def test_code_works_once(api, send_code):
    code = send_code(PHONE)
    body(login(api, PHONE, code), 200, 0)

    body(login(api, PHONE, code), 400, 20004)
    assert LoginSession.objects.count() == 1


def test_wrong_code_is_20004_and_counts_a_try(api, send_code):
    code = send_code(PHONE)
    wrong = "000000" if code != "000000" else "111111"

    body(login(api, PHONE, wrong), 400, 20004)

    assert VerificationCode.objects.get().attempts == 1
    assert User.objects.count() == 0


def test_code_dies_after_five_wrong_tries(api, send_code):
    code = send_code(PHONE)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        body(login(api, PHONE, wrong), 400, 20004)

    body(login(api, PHONE, code), 400, 20004)
    assert User.objects.count() == 0


def test_code_expires_after_five_minutes(api, send_code):
    code = send_code(PHONE)
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=301)):
        body(login(api, PHONE, code), 400, 20004)
    assert User.objects.count() == 0


def test_code_of_another_purpose_does_not_log_in(api, send_code):
    code = send_code(PHONE, purpose="bind_phone")
    body(login(api, PHONE, code), 400, 20004)


def test_phone_login_bad_input_is_400(api):
    body(login(api, PHONE, "12ab"), 400, 400)
    body(login(api, "1", "123456"), 400, 400)


def test_disabled_account_cannot_log_in_by_phone(api, send_code):
    UserFactory(phone=PHONE, status=User.Status.DISABLED, is_active=False)
    code = send_code(PHONE)

    body(login(api, PHONE, code), 403, 20003)
    assert LoginSession.objects.count() == 0


def test_login_attempts_are_throttled_per_account(api, settings):
    settings.THROTTLE_LOGIN_ACCOUNT_RATE = "3/min"
    for _ in range(3):
        body(login(api, PHONE, "123456"), 400, 20004)

    refused = body(login(api, PHONE, "123456", REMOTE_ADDR="10.1.1.1"), 429, 429)
    assert refused["details"]["retryAfter"] >= 1
    body(login(api, "13800138009", "123456"), 400, 20004)  # another account is not affected


def test_login_attempts_are_throttled_per_ip(api, settings):
    settings.THROTTLE_LOGIN_IP_RATE = "2/min"
    body(login(api, "13800138001", "123456"), 400, 20004)
    body(login(api, "13800138002", "123456"), 400, 20004)

    body(login(api, "13800138003", "123456"), 429, 429)
    body(login(api, "13800138003", "123456", REMOTE_ADDR="10.1.1.2"), 400, 20004)


def test_every_spelling_of_a_phone_shares_its_login_throttle(api, settings):
    settings.THROTTLE_LOGIN_ACCOUNT_RATE = "3/min"
    for spelling in (PHONE, "+86" + PHONE, "+86 138-0013-8000"):
        body(login(api, spelling, "123456"), 400, 20004)

    for spelling in (PHONE, "86" + PHONE, "0086" + PHONE, "+86 (138) 0013 8000", "1 3 8 0 0 1 3 8 0 0 0"):
        body(login(api, spelling, "123456", REMOTE_ADDR="10.1.1.3"), 429, 429)


def test_a_code_survives_four_wrong_tries(api, send_code):
    code = send_code(PHONE)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(4):
        body(login(api, PHONE, wrong), 400, 20004)

    body(login(api, PHONE, code), 200, 0)
    assert VerificationCode.objects.get().attempts == 5 and User.objects.filter(phone=PHONE).exists()
