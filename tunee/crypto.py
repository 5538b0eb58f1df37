"""Sensitive fields encrypted at rest with `cryptography`'s MultiFernet (no domain here).

`FIELD_ENCRYPTION_KEYS` is a list of Fernet keys: the first one encrypts, every one decrypts, so a key is rotated by
putting a new one first, running `manage.py reencrypt_fields` (every row is rewritten under the new key), then
dropping the old one. With `DEBUG` on and no keys configured, one key is derived from `SECRET_KEY` (settings.py);
with `DEBUG` off the keys must be set.

`EncryptedTextField` stores the Fernet token (text) and hands out the plaintext: code reads and writes plain strings.
It cannot be searched or made unique by value (each encryption of one value differs): fields that need lookups keep
a hash beside them, or stay plain.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


def derive_key(secret: str) -> str:
    """A Fernet key derived from a secret string (development only: SECRET_KEY when no keys are configured)."""
    digest = hashlib.sha256(f"tunee-field-encryption:{secret}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


@lru_cache(maxsize=4)
def _multi(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ValueError("FIELD_ENCRYPTION_KEYS is empty")
    return MultiFernet([Fernet(key.encode()) for key in keys])


def keys() -> tuple[str, ...]:
    return tuple(key.strip() for key in settings.FIELD_ENCRYPTION_KEYS if key.strip())


def fernet() -> MultiFernet:
    return _multi(keys())


def encrypt(text: str) -> str:
    return fernet().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    """The plaintext of a token made by any configured key; `InvalidToken` when none of them made it."""
    return fernet().decrypt(token.encode()).decode()


def rotate(token: str) -> str:
    """The same plaintext, encrypted again under the first (current) key."""
    return fernet().rotate(token.encode()).decode()


class Token(str):
    """A value that is already a Fernet token (re-encryption writes these): stored as it is."""


class EncryptedTextField(models.TextField):
    """A text column holding a Fernet token; the model attribute is the plaintext ('' stays '', None stays None)."""

    description = "Text encrypted at rest (MultiFernet)"

    def from_db_value(self, value, expression, connection):
        if not value:
            return value
        try:
            return decrypt(value)
        except InvalidToken:
            raise InvalidToken(f"{self.model.__name__}.{self.name}: no configured key decrypts this value") from None

    def to_python(self, value):
        return value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value or isinstance(value, Token):
            return value
        return encrypt(str(value))
