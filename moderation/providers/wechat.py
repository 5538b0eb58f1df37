"""WeChat content security 2.0: `msgSecCheck` (text, synchronous) and `mediaCheckAsync` (photos and audio, the
verdict arrives on the mini program's message push), at WECHAT_API_BASE with WECHAT_APP_ID / WECHAT_APP_SECRET.

The access token comes from `cgi-bin/token` and is cached in Django's cache until shortly before it expires; an
answer of 40001 / 42001 (token invalid or expired, e.g. refreshed by another service of the same app) fetches a new
one and tries once more. Transport errors, timeouts, HTTP errors and any other errcode raise
`ModerationUnavailable`, on which the caller falls back to the local checks.
"""

import hashlib
import hmac

import requests
from django.conf import settings
from django.core.cache import cache

from . import Check, ModerationUnavailable

TOKEN_KEY = "moderation:wechat:access-token"  # noqa: S105 # nosec B105  # a cache key, not a secret
TOKEN_REFRESH_ERRCODES = {40001, 42001}
RISKY_ERRCODE = 87014  # content security v1's "risky content", still sent by some deployments


def _base() -> str:
    base = settings.WECHAT_API_BASE
    return base if base.endswith("/") else base + "/"


def is_configured() -> bool:
    return bool(settings.WECHAT_APP_ID and settings.WECHAT_APP_SECRET)


def _json(response: requests.Response) -> dict:
    if response.status_code >= 400:
        raise ModerationUnavailable(f"WeChat answered HTTP {response.status_code}")
    try:
        data = response.json()
    except ValueError as exc:
        raise ModerationUnavailable("WeChat answered something that is not JSON") from exc
    if not isinstance(data, dict):
        raise ModerationUnavailable("WeChat answered something that is not an object")
    return data


def _access_token(*, fresh: bool = False) -> str:
    if not fresh:
        token = cache.get(TOKEN_KEY)
        if token:
            return token
    try:
        response = requests.get(
            _base() + "cgi-bin/token",
            params={
                "grant_type": "client_credential",
                "appid": settings.WECHAT_APP_ID,
                "secret": settings.WECHAT_APP_SECRET,
            },
            timeout=settings.WECHAT_TIMEOUT_SECONDS,
        )
    except requests.RequestException as exc:
        raise ModerationUnavailable(f"WeChat token: {type(exc).__name__}") from exc
    data = _json(response)
    token = data.get("access_token")
    if not token:
        raise ModerationUnavailable(f"WeChat token refused: {data.get('errcode')} {data.get('errmsg', '')}")
    expires_in = int(data.get("expires_in") or 7200)
    cache.set(TOKEN_KEY, token, timeout=max(60, expires_in - 300))
    return token


def _post(path: str, body: dict) -> dict:
    """POST with the access token; a stale token is refreshed once."""
    for attempt in (0, 1):
        token = _access_token(fresh=attempt == 1)
        try:
            response = requests.post(
                _base() + path,
                params={"access_token": token},
                json=body,
                timeout=settings.WECHAT_TIMEOUT_SECONDS,
            )
        except requests.RequestException as exc:
            raise ModerationUnavailable(f"WeChat {path}: {type(exc).__name__}") from exc
        data = _json(response)
        if data.get("errcode") in TOKEN_REFRESH_ERRCODES and attempt == 0:
            cache.delete(TOKEN_KEY)
            continue
        return data
    raise ModerationUnavailable(f"WeChat {path}: the access token was refused twice")  # pragma: no cover


def _verdict(result) -> tuple[str, str]:
    if not isinstance(result, dict) or result.get("suggest") not in ("pass", "review", "risky"):
        raise ModerationUnavailable("WeChat answered no suggestion")
    return result["suggest"], str(result.get("label") or "")


def check_text(*, text: str, scene: int, openid: str) -> Check:
    data = _post("wxa/msg_sec_check", {"content": text, "version": 2, "scene": scene, "openid": openid})
    errcode = data.get("errcode", 0)
    if errcode == RISKY_ERRCODE:
        return Check("risky", "", provider="wechat", trace_id=str(data.get("trace_id") or ""))
    if errcode != 0:
        raise ModerationUnavailable(f"WeChat msg_sec_check: {errcode} {data.get('errmsg', '')}")
    outcome, label = _verdict(data.get("result"))
    return Check(outcome, label, provider="wechat", trace_id=str(data.get("trace_id") or ""))


def submit_media(*, url: str, media_type: int, scene: int, openid: str) -> str:
    """Ask for an asynchronous check of the file at `url` (which WeChat fetches); returns the trace_id the message
    push will carry."""
    data = _post(
        "wxa/media_check_async",
        {"media_url": url, "media_type": media_type, "version": 2, "scene": scene, "openid": openid},
    )
    if data.get("errcode", 0) != 0 or not data.get("trace_id"):
        raise ModerationUnavailable(f"WeChat media_check_async: {data.get('errcode')} {data.get('errmsg', '')}")
    return str(data["trace_id"])


def push_signature_valid(*, signature: str, timestamp: str, nonce: str) -> bool:
    """The message push's signature: sha1 of the sorted (token, timestamp, nonce), compared in constant time."""
    token = settings.MODERATION_WECHAT_PUSH_TOKEN
    if not (token and signature and timestamp and nonce):
        return False
    expected = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()  # noqa: S324 # nosec B324
    return hmac.compare_digest(expected, signature)


def push_verdict(body: dict) -> tuple[str, str, str]:
    """(trace_id, suggest, label) of a `wxa_media_check` push; ModerationUnavailable when it is not one."""
    trace_id = str(body.get("trace_id") or "")
    if not trace_id:
        raise ModerationUnavailable("push without trace_id")
    outcome, label = _verdict(body.get("result"))
    return trace_id, outcome, label
