"""Signed requests (README, "Signed requests"): who may call `/api` when `API_SIGNING_REQUIRED` is on.

A request carries `X-App-Key` (an active AppKey's public id), `X-Timestamp` (ms since the epoch), `X-Nonce` (8–64 of
`A-Z a-z 0-9 _ -`, new for every request) and `X-Signature`: hex HMAC-SHA256, with the key's secret, of the canonical
request of `security.client_example.canonical_request`. Accepted when the timestamp is within ±5 minutes of ours,
the signature matches, and the nonce was not seen for this key within the window (cache.add: Redis SET NX with an
expiry). Refusals are 401 with `details.reason`: `missing`, `unknown_key`, `stale`, `bad_signature`, `replayed`.
"""

import hashlib
import hmac
import re
import tempfile
import time

from django.conf import settings
from django.core.cache import cache
from django.utils.encoding import escape_uri_path

from tunee.api.errors import ApiError, Code
from tunee.api.i18n import T

from . import selectors
from .client_example import canonical_request

WINDOW_MS = 5 * 60 * 1000
NONCE = re.compile(r"[A-Za-z0-9_-]{8,64}")
TIMESTAMP = re.compile(r"[0-9]{1,16}")
SIGNATURE = re.compile(r"[0-9a-fA-F]{64}")
BAD_SIGNATURE = T("请求签名无效", "Invalid request signature")
# Routes that are called by others than our apps (providers' webhooks) or by browsers (the schema and its docs).
EXEMPT = re.compile(r"^/api/(?:payment/[^/]+/notify|generation/callback/[^/]+|schema/|docs/|redoc/)")
CHUNK = 64 * 1024


def is_exempt(path: str) -> bool:
    return bool(EXEMPT.match(path))


def refuse(reason: str) -> ApiError:
    return ApiError(Code.UNAUTHENTICATED, BAD_SIGNATURE, details={"reason": reason})


def _max_body() -> int:
    """The largest body any endpoint accepts (a photo upload and its form), above which nothing is hashed."""
    return max(settings.WORKS_IMAGE_MAX_BYTES, settings.AVATAR_MAX_BYTES) + 1024 * 1024


def body_sha256(request) -> str:
    """The hex SHA-256 of the raw body, leaving the body readable for the view.

    Bodies up to DATA_UPLOAD_MAX_MEMORY_SIZE are read as `request.body` (Django keeps them); larger ones (photo
    uploads) are copied into a spooled temporary file while hashing, which then stands in for the request's stream
    (Django's parsers, and DRF's, read from there).
    """
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length <= (settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0):
        return hashlib.sha256(request.body).hexdigest()
    if length > _max_body():
        raise ApiError(Code.VALIDATION, details={"body": ["too large"]})
    digest = hashlib.sha256()
    spool = tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE)  # noqa: SIM115
    read = 0
    while chunk := request.read(CHUNK):
        read += len(chunk)
        if read > _max_body():
            raise ApiError(Code.VALIDATION, details={"body": ["too large"]})
        digest.update(chunk)
        spool.write(chunk)
    spool.seek(0)
    request._stream = spool  # Django's HttpRequest reads the body from here
    request._read_started = False
    return digest.hexdigest()


def verify(request) -> selectors.ActiveKey:
    """The app key that signed `request`, or ApiError 401 with the reason."""
    meta = request.META
    key_id = meta.get("HTTP_X_APP_KEY", "")
    timestamp = meta.get("HTTP_X_TIMESTAMP", "")
    nonce = meta.get("HTTP_X_NONCE", "")
    signature = meta.get("HTTP_X_SIGNATURE", "")
    if not (key_id and TIMESTAMP.fullmatch(timestamp) and NONCE.fullmatch(nonce) and SIGNATURE.fullmatch(signature)):
        raise refuse("missing")
    key = selectors.app_key_active(key_id=key_id)
    if key is None:
        raise refuse("unknown_key")
    now_ms = int(time.time() * 1000)
    if abs(now_ms - int(timestamp)) > WINDOW_MS:
        raise refuse("stale")
    message = canonical_request(
        request.method,
        escape_uri_path(request.path),
        meta.get("QUERY_STRING", ""),
        timestamp,
        nonce,
        body_sha256(request),
    )
    expected = hmac.new(key.secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.lower()):
        raise refuse("bad_signature")
    # Only now, for a request that proves the secret: an attacker cannot burn other clients' nonces.
    if not cache.add(f"security:nonce:{key.key_id}:{nonce}", 1, timeout=2 * WINDOW_MS // 1000 + 1):
        raise refuse("replayed")
    return key
