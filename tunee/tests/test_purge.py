"""`manage.py purge_expired [--dry-run]` and its beat job: what is past its retention goes, the rest stays."""

import io
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import EmailSend, LoginSession, RefreshToken, VerificationCode
from accounts.tests.factories import UserFactory
from moderation.models import Verdict
from notifications.models import Delivery, Subscription
from payments.models import PaymentNotification
from tunee import tasks

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def ago(**kwargs):
    return NOW - timedelta(**kwargs)


def code(*, created):
    return VerificationCode.objects.create(
        phone="13800138000",
        purpose="login",
        code_hash="h",
        created_at=created,
        expires_at=created + timedelta(minutes=5),
    )


def session(user, *, created, refreshed=None, revoked=None):
    row = LoginSession.objects.create(user=user, method="phone")
    LoginSession.objects.filter(pk=row.pk).update(created_at=created, last_refreshed_at=refreshed, revoked_at=revoked)
    return row


def token(row, *, created, expires):
    made = RefreshToken.objects.create(session=row, token_hash=uuid.uuid4().hex, expires_at=NOW + timedelta(days=1))
    RefreshToken.objects.filter(pk=made.pk).update(created_at=created, expires_at=expires)
    return made


def delivery(user, *, created, status):
    made = Delivery.objects.create(
        user=user,
        generation_id=uuid.uuid4(),
        source="api",
        outcome="completed",
        finished_at=created,
        channel="push",
        status=status,
    )
    Delivery.objects.filter(pk=made.pk).update(created_at=created)
    return made


def backdated(model, column, when, /, **fields):
    made = model.objects.create(**fields)
    model.objects.filter(pk=made.pk).update(**{column: when})
    return made


@pytest.fixture
def rows(settings):
    """One row of each kind past its retention (the defaults: 7, 30, 90, 365 and 180 days) and its fresher twins."""
    settings.SMS_CODE_RETENTION_DAYS = 7
    settings.LOGIN_SESSION_RETENTION_DAYS = 30
    settings.NOTIFICATION_RETENTION_DAYS = 90
    settings.PAYMENT_NOTIFICATION_RETENTION_DAYS = 365
    settings.MODERATION_LOG_RETENTION_DAYS = 180
    user = UserFactory()
    old_session = session(user, created=ago(days=60), revoked=ago(days=31))  # logged out a month ago
    lapsed = session(user, created=ago(days=100), refreshed=ago(days=70))  # its last refresh token expired 40 days ago
    active = session(user, created=ago(days=100), refreshed=ago(days=1))  # refreshed yesterday
    recent_logout = session(user, created=ago(days=5), revoked=ago(days=2))
    return {
        "gone": {
            "code": code(created=ago(days=10)),
            "email": backdated(EmailSend, "created_at", ago(days=8), address="a" * 64, kind="verification"),
            "old_session": old_session,
            "old_session_token": token(old_session, created=ago(days=60), expires=ago(days=1)),  # goes with it
            "lapsed": lapsed,
            "lapsed_token": token(lapsed, created=ago(days=70), expires=ago(days=40)),
            "active_spent_token": token(active, created=ago(days=65), expires=ago(days=35)),
            "delivery": delivery(user, created=ago(days=100), status=Delivery.Status.SENT),
            "subscription": backdated(Subscription, "used_at", ago(days=100), user=user, template_id="t"),
            "notification": backdated(PaymentNotification, "received_at", ago(days=400), provider="wechat"),
            "verdict": backdated(
                Verdict, "created_at", ago(days=200), source="work", field="title", outcome="pass", provider="local"
            ),
        },
        "kept": {
            "code": code(created=ago(days=1)),  # expired yesterday: still counted by today's caps
            "email": EmailSend.objects.create(address="b" * 64, kind="verification", created_at=ago(hours=1)),
            "active": active,
            "active_token": token(active, created=ago(days=1), expires=NOW + timedelta(days=29)),
            "recent_logout": recent_logout,
            "delivery": delivery(user, created=ago(days=10), status=Delivery.Status.SENT),
            "pending_delivery": delivery(user, created=ago(days=100), status=Delivery.Status.PENDING),
            "subscription": Subscription.objects.create(user=user, template_id="t"),  # unused
            "notification": backdated(PaymentNotification, "received_at", ago(days=10), provider="alipay"),
            "verdict": Verdict.objects.create(source="work", field="title", outcome="pass", provider="local"),
        },
    }


EXPECTED = (
    "sms_codes=1 email_sends=1 refresh_tokens=2 login_sessions=2 deliveries=1 subscriptions=1 "
    "payment_notifications=1 verdicts=1"
)


def exists(row) -> bool:
    return type(row).objects.filter(pk=row.pk).exists()


def purge(*args) -> str:
    out = io.StringIO()
    call_command("purge_expired", *args, stdout=out)
    return out.getvalue().strip()


def test_dry_run_counts_each_kind_and_deletes_nothing(rows):
    assert purge("--dry-run") == f"would purge {EXPECTED}"
    assert all(exists(row) for group in rows.values() for row in group.values())


def test_purge_deletes_what_is_past_its_retention_and_keeps_the_rest(rows):
    assert purge() == f"purged {EXPECTED}"

    assert [name for name, row in rows["gone"].items() if exists(row)] == []
    assert [name for name, row in rows["kept"].items() if not exists(row)] == []
    assert purge() == "purged " + " ".join(f"{kind.split('=')[0]}=0" for kind in EXPECTED.split())


def test_zero_days_keeps_a_kind_for_ever(rows, settings):
    settings.PAYMENT_NOTIFICATION_RETENTION_DAYS = 0
    settings.SMS_CODE_RETENTION_DAYS = 0

    assert "sms_codes=0 email_sends=0" in purge() and "payment_notifications=0" in purge("--dry-run")
    assert exists(rows["gone"]["notification"]) and exists(rows["gone"]["code"])


def test_a_session_that_may_still_have_a_live_access_token_is_kept(rows, settings):
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "ACCESS_TOKEN_LIFETIME": timedelta(days=80)}  # longer than 70 days

    purge()

    assert exists(rows["gone"]["lapsed"])  # refreshed 70 days ago: an access token of then still works
    assert not exists(rows["gone"]["old_session"])  # revoked: its access tokens are refused anyway


def test_the_daily_beat_job_purges_too(rows):
    report = tasks.purge_expired.apply().get()

    assert report["sms_codes"] == 1 and report["login_sessions"] == 2
    assert not exists(rows["gone"]["code"]) and exists(rows["kept"]["code"])
