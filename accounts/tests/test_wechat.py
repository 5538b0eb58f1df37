"""WeChat login: the sandbox, and the real clients against a local fake WeChat server (pytest-httpserver)."""

import threading

import pytest
from werkzeug import Response

from accounts.models import LoginSession, User
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import body

pytestmark = pytest.mark.django_db


def wechat_login(api, code="the-code", **extra):
    return api.post("/api/auth/wechat-login", {"code": code, **extra}, format="json")


@pytest.fixture
def wechat(settings, httpserver):
    settings.WECHAT_APP_ID = "wx-test-app"
    settings.WECHAT_APP_SECRET = "wx-test-secret"
    settings.WECHAT_API_BASE = httpserver.url_for("/")
    settings.WECHAT_TIMEOUT_SECONDS = 0.5
    settings.WECHAT_LOGIN_MODE = "miniprogram"
    return httpserver


def expect_jscode2session(server, code, answer):
    server.expect_oneshot_request(
        "/sns/jscode2session",
        method="GET",
        query_string={
            "appid": "wx-test-app",
            "secret": "wx-test-secret",
            "js_code": code,
            "grant_type": "authorization_code",
            "access_token": "unused-by-jscode2session",
        },
    ).respond_with_json(answer)


def test_sandbox_turns_a_code_into_a_stable_identity(api, settings):
    settings.WECHAT_APP_ID = ""
    settings.WECHAT_SANDBOX = True  # the default with DEBUG on (test_wechat_sandbox_gate.py covers it off)

    first = body(wechat_login(api, "abc", nickname="小明", avatarUrl="https://img.example/a.png"), 200, 0)["data"]
    again = body(wechat_login(api, "abc"), 200, 0)["data"]
    other = body(wechat_login(api, "xyz"), 200, 0)["data"]

    assert first["user"]["isNewUser"] is True and again["user"]["isNewUser"] is False
    assert first["user"]["id"] == again["user"]["id"] != other["user"]["id"]
    # the client's avatarUrl is never shown as given: a job copies it into our storage (test_wechat_avatar.py)
    assert first["user"]["wechat"] == {"nickname": "小明", "avatarUrl": None}
    assert first["user"]["phone"] is None
    assert User.objects.count() == 2


def test_miniprogram_login_creates_then_finds_the_account(api, wechat):
    expect_jscode2session(wechat, "c1", {"openid": "o-1", "session_key": "sk"})
    expect_jscode2session(wechat, "c2", {"openid": "o-1", "session_key": "sk"})

    first = body(wechat_login(api, "c1", nickname="Nick"), 200, 0)["data"]
    second = body(wechat_login(api, "c2"), 200, 0)["data"]

    user = User.objects.get()
    assert user.wechat_openid == "o-1" and user.wechat_unionid is None
    assert first["user"]["isNewUser"] is True and second["user"]["isNewUser"] is False
    assert second["user"]["wechat"]["nickname"] == "Nick"  # kept when WeChat does not give one
    assert LoginSession.objects.filter(user=user, method="wechat").count() == 2
    wechat.check_assertions()


def test_unionid_links_an_account_known_by_another_openid(api, wechat):
    existing = UserFactory(wechat_openid="o-app", wechat_unionid="u-1")
    expect_jscode2session(wechat, "c1", {"openid": "o-mini", "session_key": "sk", "unionid": "u-1"})

    data = body(wechat_login(api, "c1"), 200, 0)["data"]

    assert data["user"]["id"] == str(existing.pk) and data["user"]["isNewUser"] is False
    assert User.objects.count() == 1


def test_rejected_code_is_20005(api, wechat):
    expect_jscode2session(wechat, "bad", {"errcode": 40029, "errmsg": "invalid code"})

    body(wechat_login(api, "bad"), 400, 20005)

    assert User.objects.count() == 0 and LoginSession.objects.count() == 0


def test_wechat_busy_is_50000(api, wechat):
    expect_jscode2session(wechat, "c", {"errcode": -1, "errmsg": "system error"})
    body(wechat_login(api, "c"), 502, 50000)


def test_wechat_http_error_is_50000(api, wechat):
    wechat.expect_oneshot_request("/sns/jscode2session").respond_with_data("oops", status=503)
    body(wechat_login(api, "c"), 502, 50000)


def test_wechat_timeout_is_50000(api, wechat):
    released = threading.Event()

    def slow(request):
        released.wait(5)  # answers only after our client gave up (then frees the one-threaded fake server)
        return Response('{"openid": "late"}', content_type="application/json")

    wechat.expect_oneshot_request("/sns/jscode2session").respond_with_handler(slow)

    try:
        body(wechat_login(api, "c"), 502, 50000)
    finally:
        released.set()
    assert User.objects.count() == 0


def test_wechat_unreachable_is_50000(api, settings):
    settings.WECHAT_APP_ID = "wx-test-app"
    settings.WECHAT_APP_SECRET = "s"
    settings.WECHAT_API_BASE = "http://127.0.0.1:9/"  # discard port: connection refused

    body(wechat_login(api, "c"), 502, 50000)


def test_app_oauth_login_takes_nickname_and_avatar_from_wechat(api, wechat, settings):
    settings.WECHAT_LOGIN_MODE = "app"
    wechat.expect_oneshot_request(
        "/sns/oauth2/access_token",
        query_string={
            "appid": "wx-test-app",
            "secret": "wx-test-secret",
            "code": "c",
            "grant_type": "authorization_code",
        },
    ).respond_with_json(
        {"access_token": "at", "expires_in": 7200, "refresh_token": "rt", "openid": "o-app", "scope": "snsapi_userinfo"}
    )
    wechat.expect_oneshot_request(
        "/sns/userinfo", query_string={"access_token": "at", "openid": "o-app", "lang": "zh_CN"}
    ).respond_with_json(
        {"openid": "o-app", "nickname": "微信昵称", "headimgurl": "https://wx.qlogo.cn/a.png", "unionid": "u-9"}
    )

    data = body(wechat_login(api, "c", nickname="client"), 200, 0)["data"]

    assert data["user"]["wechat"] == {"nickname": "微信昵称", "avatarUrl": None}  # until our copy is made
    user = User.objects.get()
    assert (user.wechat_openid, user.wechat_unionid) == ("o-app", "u-9")


def test_app_oauth_rejected_code_is_20005(api, wechat, settings):
    settings.WECHAT_LOGIN_MODE = "app"
    wechat.expect_oneshot_request("/sns/oauth2/access_token").respond_with_json(
        {"errcode": 40029, "errmsg": "invalid code"}
    )
    body(wechat_login(api, "bad"), 400, 20005)


def test_disabled_wechat_account_is_20003(api, settings):
    settings.WECHAT_APP_ID = ""
    settings.WECHAT_SANDBOX = True
    body(wechat_login(api, "abc"), 200, 0)
    User.objects.update(status=User.Status.DISABLED, is_active=False)

    body(wechat_login(api, "abc"), 403, 20003)


def test_missing_code_is_400(api):
    body(api.post("/api/auth/wechat-login", {}, format="json"), 400, 400)
