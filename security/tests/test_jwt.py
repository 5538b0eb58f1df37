"""Access tokens that must not let anyone in: `alg: none`, another key, HS512/RS-style algorithm swaps, expired."""

import base64
import datetime
import json

import jwt
import pytest

from accounts.services import session_start
from accounts.tokens import access_token_issue

pytestmark = pytest.mark.django_db


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims_of(user):
    session = session_start(user=user).session
    raw = access_token_issue(user_id=user.pk, session_id=session.pk)
    return jwt.decode(raw, options={"verify_signature": False})


def call(api, token):
    return api.get("/api/user/me", HTTP_AUTHORIZATION=f"Bearer {token}")


def assert_refused(response, code):
    body = response.json()
    assert response.status_code == 401 and body["code"] == code, body


def test_a_real_token_works(api, user):
    session = session_start(user=user).session
    assert call(api, access_token_issue(user_id=user.pk, session_id=session.pk)).status_code == 200


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_alg_none_is_refused(api, user, alg):
    token = f"{b64({'alg': alg, 'typ': 'JWT'})}.{b64(claims_of(user))}."
    assert_refused(call(api, token), 2001)


def test_a_token_signed_with_another_key_is_refused(api, user):
    token = jwt.encode(claims_of(user), "x" * 64, algorithm="HS256")
    assert_refused(call(api, token), 2001)


def test_another_algorithm_with_our_key_is_refused(api, user, settings):
    token = jwt.encode(claims_of(user), settings.SECRET_KEY, algorithm="HS512")
    assert_refused(call(api, token), 2001)


def test_an_expired_token_is_refused(api, user):
    session = session_start(user=user).session
    issued = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=2)
    token = access_token_issue(
        user_id=user.pk, session_id=session.pk, issued_at=issued, lifetime=datetime.timedelta(days=1)
    )
    assert_refused(call(api, token), 2002)


def test_a_changed_subject_breaks_the_signature(api, user):
    from accounts.tests.factories import UserFactory

    other = UserFactory()
    header, payload, signature = access_token_issue(
        user_id=user.pk, session_id=session_start(user=user).session.pk
    ).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = str(other.pk)
    assert_refused(call(api, f"{header}.{b64(claims)}.{signature}"), 2001)
