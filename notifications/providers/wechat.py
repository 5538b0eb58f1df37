"""WeChat mini program subscribe messages (`POST /cgi-bin/message/subscribe/send`), through wechatpy's client.

`send(openid=, template_id=, page=, data=)` sends one message or raises `NotSubscribed` (43101: the user holds no
subscription for the template), `ProviderRejected` (bad template, data or openid; wrong credentials) or
`ProviderUnavailable` (timeout, connection refused, 5xx, WeChat busy or throttled).

The access token is wechatpy's, kept in Django's cache through `CacheSessionStorage` (Redis in production), so
every worker reuses the one token instead of each fetching its own (WeChat caps token fetches per day, and a new
token retires the old one). An answer saying the token is invalid or expired (40001, 40014, 42001) forgets it,
fetches a new one and tries once more; wechatpy's own `auto_retry` is off because it retries without end.

wechatpy facts: `WeChatClient.fetch_access_token` hard-codes api.weixin.qq.com and its token request has no
timeout, so both are replaced here; `WECHAT_API_BASE` is the base URL of every call (a local fake in tests). Its
`wxa.send_subscribe_message` cannot send `miniprogram_state` or `lang`, so the body is posted as WeChat documents it.
"""

import requests
from django.conf import settings
from django.core.cache import cache
from wechatpy.session import SessionStorage

from . import NotSubscribed, ProviderRejected, ProviderUnavailable

SEND_PATH = "cgi-bin/message/subscribe/send"
TOKEN_PATH = "cgi-bin/token"  # noqa: S105 # nosec B105  # a URL path, not a secret
TOKEN_ERRCODES = {40001, 40014, 42001}  # invalid credential, invalid token, expired token: refresh once
NOT_SUBSCRIBED = 43101
# "Not now" rather than "never": system busy, API frequency limits.
TRANSIENT_ERRCODES = {-1, 45009, 45011}
# A cached token is forgotten this many seconds before WeChat retires it, so no call goes out with a dying one.
TOKEN_MARGIN_SECONDS = 300


class CacheSessionStorage(SessionStorage):
    """wechatpy's session storage over `django.core.cache` (shared by every process when the cache is Redis)."""

    prefix = "notifications:wechatpy:"

    def get(self, key, default=None):
        value = cache.get(self.prefix + key)
        return default if value is None else value

    def set(self, key, value, ttl=None):
        if value is None:
            return
        timeout = max(1, int(ttl) - TOKEN_MARGIN_SECONDS) if ttl else None
        cache.set(self.prefix + key, value, timeout)

    def delete(self, key):
        cache.delete(self.prefix + key)


class _TimedSession(requests.Session):
    """Every request of the client has a timeout, the token fetch included (wechatpy passes none there)."""

    def __init__(self, timeout: float):
        super().__init__()
        self.default_timeout = timeout

    def request(self, method, url, **kwargs):
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        return super().request(method, url, **kwargs)


def _base() -> str:
    base = settings.WECHAT_API_BASE
    return base if base.endswith("/") else base + "/"


def _client():
    from wechatpy import WeChatClient

    class Client(WeChatClient):
        def fetch_access_token(self):
            return self._fetch_access_token(
                url=_base() + TOKEN_PATH,
                params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
            )

    timeout = settings.WECHAT_TIMEOUT_SECONDS
    client = Client(
        settings.WECHAT_APP_ID,
        settings.WECHAT_APP_SECRET,
        session=CacheSessionStorage(),
        timeout=timeout,
        auto_retry=False,
    )
    client._http = _TimedSession(timeout)
    return client


def is_configured() -> bool:
    return bool(settings.WECHAT_APP_ID and settings.WECHAT_APP_SECRET)


def send(*, openid: str, template_id: str, page: str, data: dict[str, str]) -> dict:
    """Send one subscribe message; returns WeChat's answer (`{"errcode": 0, "errmsg": "ok", "msgid": ...}`)."""
    from wechatpy.exceptions import WeChatClientException

    client = _client()
    body = {
        "touser": openid,
        "template_id": template_id,
        "page": page,
        "data": {key: {"value": value} for key, value in data.items()},
        "miniprogram_state": settings.WECHAT_MINIPROGRAM_STATE,
        "lang": "zh_CN",
    }
    try:
        try:
            return client.post(SEND_PATH, data=body, api_base_url=_base())
        except WeChatClientException as exc:
            if getattr(exc, "errcode", None) not in TOKEN_ERRCODES:
                raise
            client.session.delete(client.access_token_key)  # every worker stops using it
            client.fetch_access_token()
            return client.post(SEND_PATH, data=body, api_base_url=_base())
    except WeChatClientException as exc:
        raise _classify(exc) from exc
    except (requests.RequestException, ValueError, KeyError) as exc:  # timeout, refused, not JSON, no token
        raise ProviderUnavailable(f"WeChat unreachable: {type(exc).__name__}") from exc


def _classify(exc) -> Exception:
    errcode = getattr(exc, "errcode", None)
    message = f"WeChat subscribe message: {errcode} {getattr(exc, 'errmsg', '') or ''}".strip()
    if errcode == NOT_SUBSCRIBED:
        return NotSubscribed(message)
    if errcode is None or errcode in TRANSIENT_ERRCODES or errcode in TOKEN_ERRCODES:  # HTTP error, busy, or a
        return ProviderUnavailable(message)  # token refused twice in a row: try again later
    return ProviderRejected(message)
