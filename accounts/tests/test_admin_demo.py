"""The staff console for accounts, and the demo data."""

import pytest
from django.urls import reverse

from accounts import demo, services
from accounts.models import LoginSession, User, VerificationCode
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import body

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, staff):
    client.force_login(staff)
    return client


def test_user_list_masks_phones_and_searches_by_phone_and_openid(admin_client):
    UserFactory(username="phoneuser", phone="13812345678")
    UserFactory(username="wxuser", wechat_openid="o-search-me")
    url = reverse("admin:accounts_user_changelist")

    listing = admin_client.get(url)
    assert b'field-masked_phone">138****5678<' in listing.content and b"13812345678" not in listing.content
    found = admin_client.get(url, {"q": "13812345678"}).content
    assert b"phoneuser" in found and b"wxuser" not in found
    assert b"wxuser" in admin_client.get(url, {"q": "o-search-me"}).content
    assert admin_client.get(url, {"status__exact": "disabled"}).status_code == 200


def test_admin_actions_disable_enable_and_revoke(admin_client, api):
    target = UserFactory()
    tokens = services.session_start(user=target)
    url = reverse("admin:accounts_user_changelist")

    admin_client.post(url, {"action": "disable_users", "_selected_action": [target.pk]})
    target.refresh_from_db()
    assert target.status == User.Status.DISABLED and not target.is_active
    body(api.get("/api/user/me", HTTP_AUTHORIZATION=f"Bearer {tokens.access_token}"), 403, 20003)

    admin_client.post(url, {"action": "enable_users", "_selected_action": [target.pk]})
    body(api.get("/api/user/me", HTTP_AUTHORIZATION=f"Bearer {tokens.access_token}"), 200, 0)

    response = admin_client.post(url, {"action": "revoke_sessions", "_selected_action": [target.pk]}, follow=True)
    assert b"1 login session(s) revoked" in response.content
    body(api.get("/api/user/me", HTTP_AUTHORIZATION=f"Bearer {tokens.access_token}"), 401, 2001)


def test_sessions_and_codes_are_read_only(admin_client, user, send_code):
    services.session_start(user=user)
    send_code("13800138000")
    for model in (LoginSession, VerificationCode):
        name = model._meta.model_name
        assert admin_client.get(reverse(f"admin:accounts_{name}_changelist")).status_code == 200
        row = model.objects.get()
        assert admin_client.get(reverse(f"admin:accounts_{name}_add")).status_code == 403
        assert (
            admin_client.post(reverse(f"admin:accounts_{name}_delete", args=[row.pk]), {"post": "yes"}).status_code
            == 403
        )
    assert VerificationCode.objects.count() == 1 and LoginSession.objects.count() == 1


def test_demo_is_idempotent_and_its_account_logs_in(api, settings):
    settings.DEBUG = True  # the demo account exists only on development machines (test_demo_and_superuser.py)
    lines = demo.load()
    demo.load()

    assert User.objects.filter(email=demo.DEMO_EMAIL).count() == 1
    assert any("send-code" in line for line in lines) and any("SMS to" in line for line in lines)
    body(api.post("/api/login", {"email": demo.DEMO_EMAIL, "password": demo.DEMO_PASSWORD}, format="json"), 200, 0)


def test_user_pages_render_and_search_by_email_and_username(admin_client, user):
    UserFactory(username="findme", email="someone@example.org")
    url = reverse("admin:accounts_user_changelist")

    assert b"findme" in admin_client.get(url, {"q": "someone@example.org"}).content
    assert b"someone@example.org" in admin_client.get(url, {"q": "findme"}).content
    assert admin_client.get(reverse("admin:accounts_user_change", args=[user.pk])).status_code == 200
    assert admin_client.get(reverse("admin:accounts_user_add")).status_code == 200
    session = services.session_start(user=user).session
    assert admin_client.get(reverse("admin:accounts_loginsession_change", args=[session.pk])).status_code == 200


def test_admin_refuses_a_username_that_differs_only_in_case(admin_client):
    UserFactory(username="casey")
    url = reverse("admin:accounts_user_add")
    password = {"password1": "Melody-Harbor-2024", "password2": "Melody-Harbor-2024", "usable_password": "true"}

    refused = admin_client.post(url, {"username": "Casey", **password})
    accepted = admin_client.post(url, {"username": "casey2", **password})

    assert refused.status_code == 200 and list(refused.context["adminform"].form.errors) == ["username"]
    assert accepted.status_code == 302
    assert User.objects.filter(username__iexact="casey").count() == 1
