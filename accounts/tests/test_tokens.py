"""Access and refresh tokens: rotation, reuse detection, logout, 2001 vs 2002, disabled accounts, languages."""

import datetime
import hashlib

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import services
from accounts.models import LoginSession, RefreshToken, User
from accounts.tests.clients import client_for
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import body

pytestmark = pytest.mark.django_db


def refresh(api, token):
    return api.post("/api/auth/refresh-token", {"refreshToken": token}, format="json")


def me(api, access=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {access}"} if access else {}
    return api.get("/api/user/me", **headers)


@pytest.fixture
def tokens(user):
    return services.session_start(user=user, method="email")


def test_access_token_authenticates(api, user, tokens):
    data = body(me(api, tokens.access_token), 200, 0)
    assert data["data"]["id"] == str(user.pk)


def test_refresh_rotates_and_the_old_token_stops_working(api, user, tokens):
    data = body(refresh(api, tokens.refresh_token), 200, 0)["data"]

    assert set(data) == {"accessToken", "refreshToken", "expiresIn"}
    assert data["refreshToken"] != tokens.refresh_token
    body(me(api, data["accessToken"]), 200, 0)
    assert RefreshToken.objects.filter(rotated_at__isnull=False).count() == 1
    assert RefreshToken.objects.filter(session=tokens.session).count() == 2


def test_reusing_a_rotated_refresh_token_revokes_the_whole_session(api, user, tokens):
    rotated = body(refresh(api, tokens.refresh_token), 200, 0)["data"]

    body(refresh(api, tokens.refresh_token), 401, 2001)  # the replay

    tokens.session.refresh_from_db()
    assert tokens.session.revoke_reason == "refresh_reuse" and tokens.session.revoked_at is not None
    body(refresh(api, rotated["refreshToken"]), 401, 2001)  # the legitimate holder is out too
    body(me(api, rotated["accessToken"]), 401, 2001)
    body(me(api, tokens.access_token), 401, 2001)


def test_unknown_refresh_token_is_2001(api, tokens):
    body(refresh(api, "not-a-token"), 401, 2001)
    body(refresh(api, ""), 400, 400)


def test_expired_refresh_token_is_2001(api, tokens):
    with time_machine.travel(timezone.now() + datetime.timedelta(days=31)):
        body(refresh(api, tokens.refresh_token), 401, 2001)


def test_logout_revokes_this_session_only(api, user, tokens):
    other = services.session_start(user=user, method="phone")

    data = body(
        api.post("/api/user/logout", {}, format="json", HTTP_AUTHORIZATION=f"Bearer {tokens.access_token}"), 200, 0
    )

    assert data["data"] == {"revokedSessions": 1}
    body(me(api, tokens.access_token), 401, 2001)
    body(refresh(api, tokens.refresh_token), 401, 2001)
    body(me(api, other.access_token), 200, 0)
    body(refresh(api, other.refresh_token), 200, 0)


def test_logout_everywhere_revokes_every_session(api, user, tokens):
    other = services.session_start(user=user, method="phone")
    stranger = services.session_start(user=UserFactory(), method="phone")

    data = body(
        api.post(
            "/api/user/logout", {"revokeAll": True}, format="json", HTTP_AUTHORIZATION=f"Bearer {tokens.access_token}"
        ),
        200,
        0,
    )

    assert data["data"] == {"revokedSessions": 2}
    for bundle in (tokens, other):
        body(me(api, bundle.access_token), 401, 2001)
        body(refresh(api, bundle.refresh_token), 401, 2001)
    body(me(api, stranger.access_token), 200, 0)


def test_logout_needs_authentication(api):
    body(api.post("/api/user/logout", {}, format="json"), 401, 401)


def test_session_check_is_cached_and_revoking_clears_it(api, user, tokens):
    body(me(api, tokens.access_token), 200, 0)
    with CaptureQueriesContext(connection) as queries:
        body(me(api, tokens.access_token), 200, 0)
    assert not any("accounts_loginsession" in q["sql"] for q in queries.captured_queries)

    services.session_revoke(session_id=tokens.session.pk, user=user)

    body(me(api, tokens.access_token), 401, 2001)


def test_expired_access_token_is_2002_and_bad_signature_is_2001(api, tokens):
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=604801)):
        body(me(api, tokens.access_token), 401, 2002)

    header, payload, signature = tokens.access_token.split(".")
    forged = f"{header}.{payload}.{signature[:-4]}AAAA"
    body(me(api, forged), 401, 2001)
    body(me(api, "garbage"), 401, 2001)


def test_token_of_an_unknown_session_is_2001(api, user, tokens):
    LoginSession.objects.filter(pk=tokens.session.pk).delete()
    body(me(api, tokens.access_token), 401, 2001)


def test_no_credentials_is_401(api):
    body(me(api), 401, 401)


def test_disabled_account_is_20003_on_requests_and_refresh(api, user, tokens):
    services.user_disable(user=user)

    body(me(api, tokens.access_token), 403, 20003)
    body(refresh(api, tokens.refresh_token), 403, 20003)

    services.user_enable(user=user)
    body(me(api, tokens.access_token), 200, 0)


def test_users_english_setting_makes_messages_english(api, user, tokens):
    User.objects.filter(pk=user.pk).update(language="en")

    response = api.post(
        "/api/user/bind-phone", {"phone": "1"}, format="json", HTTP_AUTHORIZATION=f"Bearer {tokens.access_token}"
    )

    assert body(response, 400, 400)["message"] == "Invalid parameters"
    assert body(me(api, tokens.access_token), 200, 0)["message"] == "Success"


def test_chinese_by_default_and_accept_language_for_anonymous(api, tokens):
    assert body(me(api, tokens.access_token), 200, 0)["message"] == "操作成功"
    english = api.post(
        "/api/login", {"email": "x@example.com", "password": "x"}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert body(english, 401, 20001)["message"] == "Wrong email or password"


def test_auth_api_fixture_uses_a_real_token(auth_api, user):
    assert auth_api._credentials["HTTP_AUTHORIZATION"].startswith("Bearer ")
    assert body(auth_api.get("/api/user/me"), 200, 0)["data"]["id"] == str(user.pk)
    with time_machine.travel(datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)):
        assert auth_api.get("/api/user/me").status_code == 200  # fixtures survive time travel


def test_client_for_another_user(user):
    other = UserFactory()
    assert body(client_for(other).get("/api/user/me"), 200, 0)["data"]["id"] == str(other.pk)


def test_refresh_tokens_are_stored_hashed_with_the_device_and_ip_seen(api, send_code):
    code = send_code("13800138000")
    login = api.post(
        "/api/auth/phone-login",
        {"phone": "13800138000", "code": code, "device": "iPhone 15"},
        format="json",
        REMOTE_ADDR="10.3.3.3",
    )
    first = body(login, 200, 0)["data"]

    row = RefreshToken.objects.get()
    assert row.token_hash == hashlib.sha256(first["refreshToken"].encode()).hexdigest()
    assert not RefreshToken.objects.filter(token_hash=first["refreshToken"]).exists()
    assert (row.device, row.ip, row.session.created_ip, row.session.method) == (
        "iPhone 15",
        "10.3.3.3",
        "10.3.3.3",
        "phone",
    )

    second = body(
        api.post(
            "/api/auth/refresh-token", {"refreshToken": first["refreshToken"]}, format="json", REMOTE_ADDR="10.4.4.4"
        ),
        200,
        0,
    )["data"]

    newer = RefreshToken.objects.get(token_hash=hashlib.sha256(second["refreshToken"].encode()).hexdigest())
    assert (newer.session_id, newer.device, newer.ip) == (row.session_id, "iPhone 15", "10.4.4.4")
    assert LoginSession.objects.get().last_ip == "10.4.4.4"


def test_access_token_carries_the_session_and_lives_expires_in_seconds(api, user, settings):
    from rest_framework_simplejwt.tokens import AccessToken

    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "ACCESS_TOKEN_LIFETIME": datetime.timedelta(hours=1)}
    bundle = services.session_start(user=user, method="email")

    token = AccessToken(bundle.access_token)
    assert (token["sid"], token["sub"]) == (str(bundle.session.pk), str(user.pk))
    assert token["exp"] - token["iat"] == bundle.expires_in == 3600
    data = body(refresh(api, bundle.refresh_token), 200, 0)["data"]
    assert data["expiresIn"] == 3600
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=3601)):
        body(me(api, data["accessToken"]), 401, 2002)


def test_a_token_verified_once_is_not_verified_again_but_still_expires_and_can_be_revoked(
    api, user, tokens, monkeypatch
):
    from accounts import tokens as token_module

    verified = []
    real_verify = token_module._access_token_verify
    monkeypatch.setattr(token_module, "_access_token_verify", lambda raw: verified.append(raw) or real_verify(raw))

    body(me(api, tokens.access_token), 200, 0)
    body(me(api, tokens.access_token), 200, 0)
    assert verified == [tokens.access_token]  # the second request reused the first one's verification

    header, payload, signature = tokens.access_token.split(".")
    body(me(api, f"{header}.{payload}.{signature[:-4]}AAAA"), 401, 2001)  # another string: verified, refused

    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=604801)):
        body(me(api, tokens.access_token), 401, 2002)  # the remembered token expired all the same
    body(me(api, tokens.access_token), 200, 0)

    services.session_revoke(session_id=tokens.session.pk, user=user)
    body(me(api, tokens.access_token), 401, 2001)  # revocation is read on every request, never remembered
