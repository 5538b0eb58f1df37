"""The sandbox's merchant identities and keys, generated once per installation under VAR_DIR/payments-sandbox/.

- `wechat.json`: app id, merchant id and a random 32-character API key (WeChat Pay v2 signs with it, MD5).
- `alipay.json`: app id, seller id, the app's RSA-2048 key pair and the "Alipay platform" RSA-2048 key pair (PEM).
  The client signs requests with the app private key and verifies answers and notifications with the platform
  public key; the sandbox gateway does the reverse.

The files are written once (to a temporary file, then hard-linked into place, which fails if another process won
the race, so every process ends up with the same keys), readable by the owner only, and never committed (var/ is
ignored by git). Deleting the folder gives the installation new keys.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import string
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

_lock = threading.Lock()
_cache: dict[Path, dict] = {}


@dataclass(frozen=True)
class WeChatSandboxKeys:
    app_id: str
    mch_id: str
    api_key: str


@dataclass(frozen=True)
class AlipaySandboxKeys:
    app_id: str
    seller_id: str
    app_private_key: str
    app_public_key: str
    platform_private_key: str
    platform_public_key: str


def sandbox_dir() -> Path:
    return Path(settings.VAR_DIR) / "payments-sandbox"


def _rsa_pair() -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


def _digits(n: int) -> str:
    return "".join(secrets.choice(string.digits) for _ in range(n))


def _new_wechat() -> dict:
    alphabet = string.ascii_letters + string.digits
    return {
        "app_id": "wx" + secrets.token_hex(8),
        "mch_id": "1" + _digits(9),
        "api_key": "".join(secrets.choice(alphabet) for _ in range(32)),
    }


def _new_alipay() -> dict:
    app_private, app_public = _rsa_pair()
    platform_private, platform_public = _rsa_pair()
    return {
        "app_id": "2021" + _digits(12),
        "seller_id": "2088" + _digits(12),
        "app_private_key": app_private,
        "app_public_key": app_public,
        "platform_private_key": platform_private,
        "platform_public_key": platform_public,
    }


def _load_or_create(name: str, generate) -> dict:
    path = sandbox_dir() / name
    with _lock:
        if path in _cache:
            return _cache[path]
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(OSError):
                path.parent.chmod(0o700)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{name}.", suffix=".tmp")
            try:
                with os.fdopen(fd, "w") as f:
                    json.dump(generate(), f, indent=2)
                os.chmod(tmp, 0o600)
                with contextlib.suppress(FileExistsError):  # another process created it first: use theirs
                    os.link(tmp, path)
            finally:
                os.unlink(tmp)
        data = json.loads(path.read_text())
        _cache[path] = data
        return data


def wechat_keys() -> WeChatSandboxKeys:
    return WeChatSandboxKeys(**_load_or_create("wechat.json", _new_wechat))


def alipay_keys() -> AlipaySandboxKeys:
    return AlipaySandboxKeys(**_load_or_create("alipay.json", _new_alipay))
