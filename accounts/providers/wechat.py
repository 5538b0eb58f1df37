"""WeChat login: the mini program's `jscode2session` or the app's OAuth (`WECHAT_LOGIN_MODE`), through wechatpy.

`exchange_code(code)` returns a `WechatIdentity` or raises `ProviderRejected` (WeChat refused the code: 40029,
40163 used code, …) or `ProviderUnavailable` (timeout, connection refused, 5xx, WeChat busy). Without
`WECHAT_APP_ID` the sandbox twin answers instead: every code string maps to its own stable fake identity, so the
same code logs the same account in again. The twin stands in only while `WECHAT_SANDBOX` is on (the default with
DEBUG); off, a missing `WECHAT_APP_ID` raises `ProviderNotConfigured`: any code logging in would be a way in.

wechatpy facts: `code_to_session` would first fetch an access token from a hard-coded
host, so a dummy one is passed; its OAuth helper has no timeout, so one is added; `WECHAT_API_BASE` replaces the
base URL so tests can point both flows at a local fake server.
"""

import hashlib
from dataclasses import dataclass

import requests
from django.conf import settings

from . import ProviderNotConfigured, ProviderRejected, ProviderUnavailable

# Errcodes that mean "WeChat is not answering properly now", as opposed to "this code is no good".
TRANSIENT_ERRCODES = {-1, 45011}


@dataclass(frozen=True)
class WechatIdentity:
    openid: str
    unionid: str | None = None
    nickname: str = ""
    avatar_url: str = ""
    session_key: str = ""  # mini program only: kept encrypted, for decrypting what the client sends later


def _base() -> str:
    base = settings.WECHAT_API_BASE
    return base if base.endswith("/") else base + "/"


def _timeout() -> float:
    return settings.WECHAT_TIMEOUT_SECONDS


def _oauth_class():
    from wechatpy.oauth import WeChatOAuth

    class TimedOAuth(WeChatOAuth):
        def _request(self, method, url_or_endpoint, **kwargs):
            kwargs.setdefault("timeout", _timeout())
            return super()._request(method, url_or_endpoint, **kwargs)

    return TimedOAuth


def _miniprogram(code: str) -> WechatIdentity:
    from wechatpy import WeChatClient

    client = WeChatClient(
        settings.WECHAT_APP_ID,
        settings.WECHAT_APP_SECRET,
        access_token="unused-by-jscode2session",  # noqa: S106 # nosec B106  # a placeholder: no token fetch
        timeout=_timeout(),
        auto_retry=False,
    )
    client.wxa.API_BASE_URL = _base()
    result = client.wxa.code_to_session(code)
    return WechatIdentity(
        openid=result["openid"], unionid=result.get("unionid") or None, session_key=result.get("session_key") or ""
    )


def _app(code: str) -> WechatIdentity:
    oauth = _oauth_class()(settings.WECHAT_APP_ID, settings.WECHAT_APP_SECRET, redirect_uri="", scope="snsapi_userinfo")
    oauth.API_BASE_URL = _base()
    token = oauth.fetch_access_token(code)
    info = oauth.get_user_info(openid=token["openid"], access_token=token["access_token"])
    return WechatIdentity(
        openid=token["openid"],
        unionid=info.get("unionid") or token.get("unionid") or None,
        nickname=info.get("nickname") or "",
        avatar_url=info.get("headimgurl") or "",
    )


def _sandbox(code: str) -> WechatIdentity:
    """Offline twin: a stable fake identity per code string (no WeChat app configured)."""
    digest = hashlib.sha256(f"tunee-wechat-sandbox:{code}".encode()).hexdigest()
    return WechatIdentity(openid=f"sandbox-o{digest[:26]}", unionid=None)


def is_configured() -> bool:
    return bool(settings.WECHAT_APP_ID)


def is_sandbox() -> bool:
    """The sandbox twin answers: no WeChat app configured, and WECHAT_SANDBOX allows it."""
    return not is_configured() and bool(settings.WECHAT_SANDBOX)


def exchange_code(code: str) -> WechatIdentity:
    from wechatpy.exceptions import WeChatClientException, WeChatOAuthException

    if not is_configured():
        if is_sandbox():
            return _sandbox(code)
        raise ProviderNotConfigured("WeChat login is not configured (WECHAT_APP_ID unset, WECHAT_SANDBOX off)")
    flow = _app if settings.WECHAT_LOGIN_MODE == "app" else _miniprogram
    try:
        return flow(code)
    except (WeChatClientException, WeChatOAuthException) as exc:
        errcode = getattr(exc, "errcode", None)
        if errcode is None or errcode in TRANSIENT_ERRCODES:  # HTTP error status, or WeChat busy
            raise ProviderUnavailable(f"WeChat unavailable: {errcode} {getattr(exc, 'errmsg', '')}") from exc
        raise ProviderRejected(f"WeChat refused the code: {errcode} {getattr(exc, 'errmsg', '')}") from exc
    except (requests.RequestException, ValueError, KeyError) as exc:  # timeout, refused, not JSON, missing openid
        raise ProviderUnavailable(f"WeChat unreachable: {type(exc).__name__}") from exc
