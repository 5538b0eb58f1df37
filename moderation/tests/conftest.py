"""Fixtures of the moderation tests: a fake WeChat (pytest-httpserver) with its token endpoint, a WeChat user."""

import pytest

from accounts.tests.factories import UserFactory

from .helpers import PUSH_TOKEN, standard_words


@pytest.fixture
def wechat(settings, httpserver):
    """MODERATION_PROVIDER=wechat against the fake; the standard word list (the local checks still apply)."""
    settings.MODERATION_PROVIDER = "wechat"
    settings.WECHAT_APP_ID = "wx-test-app"
    settings.WECHAT_APP_SECRET = "wx-test-secret"
    settings.WECHAT_API_BASE = httpserver.url_for("/")
    settings.WECHAT_TIMEOUT_SECONDS = 0.5
    settings.MODERATION_WECHAT_PUSH_TOKEN = PUSH_TOKEN
    httpserver.expect_request(
        "/cgi-bin/token",
        query_string={"grant_type": "client_credential", "appid": "wx-test-app", "secret": "wx-test-secret"},
    ).respond_with_json({"access_token": "TOKEN-1", "expires_in": 7200})
    standard_words()
    return httpserver


@pytest.fixture
def wx_user(db):
    return UserFactory(wechat_openid="o-wx-1")
