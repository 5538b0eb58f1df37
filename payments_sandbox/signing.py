"""The providers' signing rules, written out independently of the client libraries (the sandbox is the other
side of the wire, and tests compare the two against WeChat's documented examples)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from xml.sax.saxutils import escape  # nosec B406  # escapes text into XML we write; parses nothing

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding


def wechat_sign(params: dict, api_key: str, sign_type: str = "MD5") -> str:
    """WeChat Pay v2: the non-empty parameters except `sign`, sorted by name, as k=v joined by &, then
    "&key=<API key>"; MD5 (or HMAC-SHA256 keyed with the API key), upper-case hex."""
    pairs = [f"{k}={params[k]}" for k in sorted(params) if k != "sign" and params[k] not in (None, "")]
    message = "&".join([*pairs, f"key={api_key}"]).encode("utf-8")
    if sign_type == "HMAC-SHA256":
        return hmac.new(api_key.encode("utf-8"), message, hashlib.sha256).hexdigest().upper()
    return hashlib.md5(message).hexdigest().upper()  # noqa: S324 # nosec B324  # WeChat Pay v2's algorithm


def wechat_sign_valid(params: dict, api_key: str) -> bool:
    sign_type = params.get("sign_type") or "MD5"
    if sign_type not in ("MD5", "HMAC-SHA256"):
        return False
    return hmac.compare_digest(str(params.get("sign") or ""), wechat_sign(params, api_key, sign_type))


def wechat_xml(params: dict) -> str:
    """<xml> with one element per parameter (CDATA), as WeChat writes it."""
    parts = ["<xml>"]
    for key, value in params.items():
        if value is None:
            continue
        text = str(value)
        if "]]>" in text:
            parts.append(f"<{key}>{escape(text)}</{key}>")
        else:
            parts.append(f"<{key}><![CDATA[{text}]]></{key}>")
    parts.append("</xml>")
    return "".join(parts)


def alipay_sign_content(params: dict, exclude: tuple[str, ...]) -> str:
    """Alipay: the non-empty parameters except `exclude`, sorted by name, as k=v joined by & (values unencoded)."""
    return "&".join(f"{k}={params[k]}" for k in sorted(params) if k not in exclude and params[k] not in (None, ""))


def rsa2_sign(private_pem: str, message: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    signature = key.sign(message.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()


def rsa2_verify(public_pem: str, message: str, signature: str) -> bool:
    key = serialization.load_pem_public_key(public_pem.encode())
    try:
        key.verify(
            base64.b64decode(signature, validate=False), message.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256()
        )
    except (InvalidSignature, ValueError):
        return False
    return True
