"""Signing a Tunee API request, as an app client does it (the README shows this file; standard library only).

    headers = sign_request(APP_KEY, APP_SECRET, "POST", "https://api.tunee.example/api/generation/create", body)
    requests.post(url, data=body, headers={**headers, "Authorization": f"Bearer {token}",
                                           "Content-Type": "application/json"})

Sign the exact bytes you send as the body (b"" when there is none) and the URL you request.
"""

import hashlib
import hmac
import secrets
import time
from urllib.parse import parse_qsl, unquote, urlsplit


def canonical_request(method: str, path: str, query: str, timestamp: str, nonce: str, body_sha256: str) -> str:
    """Six lines joined by "\\n": METHOD, path (percent-decoded), the query's k=v pairs (decoded) sorted and
    joined by "&", timestamp (ms), nonce, hex SHA-256 of the raw body."""
    pairs = sorted(parse_qsl(query, keep_blank_values=True))
    sorted_query = "&".join(f"{key}={value}" for key, value in pairs)
    return "\n".join([method.upper(), unquote(path), sorted_query, timestamp, nonce, body_sha256])


def sign_request(app_key: str, secret: str, method: str, url: str, body: bytes = b"") -> dict[str, str]:
    """The four headers of a signed request: X-App-Key, X-Timestamp, X-Nonce, X-Signature (hex HMAC-SHA256)."""
    parts = urlsplit(url)
    timestamp = str(int(time.time() * 1000))
    nonce = secrets.token_hex(16)
    body_sha256 = hashlib.sha256(body).hexdigest()
    message = canonical_request(method, parts.path or "/", parts.query, timestamp, nonce, body_sha256)
    signature = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return {"X-App-Key": app_key, "X-Timestamp": timestamp, "X-Nonce": nonce, "X-Signature": signature}
