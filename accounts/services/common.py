"""What the subjects of accounts' services share: the answers to a duplicate and to a throttled request, the
disabled-account check, the advisory lock that the SMS and mail caps are checked under, password validation."""

import hashlib
import logging
import math
import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection

from tunee.api.errors import ApiError, Code
from tunee.api.i18n import T

from ..models import User

logger = logging.getLogger(__name__)


TAKEN = {
    "username": T("该用户名已被使用", "This username is already taken"),
    "email": T("该邮箱已被注册", "This email is already registered"),
    "phone": T("该手机号已绑定其他账号", "This phone number belongs to another account"),
}


def _new_username(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(5)}"


def _throttled(message, retry_after: float) -> ApiError:
    wait = max(1, math.ceil(retry_after))
    return ApiError(Code.THROTTLED, message, details={"retryAfter": wait}, headers={"Retry-After": str(wait)})


def _duplicate(field: str) -> ApiError:
    return ApiError(Code.DUPLICATE, details={field: [str(TAKEN[field])]})


# How each database names the unique rule a duplicate broke: PostgreSQL gives the constraint or index name, SQLite
# the index name of an expression index or the columns of the others. Matched on these names, never on the whole
# message, which also quotes the value (a username `email_fan` must not read as a duplicate email).
_UNIQUE_MARKERS = (
    ("accounts_user_email_ci_unique", "email"),
    ("accounts_user_username_ci_unique", "username"),
    ("accounts_user_username_key", "username"),
    ("accounts_user_phone_unique", "phone"),
    ("accounts_user.email", "email"),
    ("accounts_user.username", "username"),
    ("accounts_user.phone", "phone"),
)


def _duplicate_from_integrity(exc: IntegrityError, fallback: str) -> ApiError:
    text = str(exc).lower()
    for marker, field in _UNIQUE_MARKERS:
        if marker in text:
            return _duplicate(field)
    return _duplicate(fallback)


def _check_not_disabled(user: User) -> None:
    if user.is_disabled:
        raise ApiError(Code.ACCOUNT_DISABLED)


def _limits_lock(*keys: str) -> None:
    """Serialize the check-then-insert of the SMS limits per phone and per IP until the transaction ends.

    PostgreSQL transaction-level advisory locks, taken in one global order (sorted keys) so that two requests never
    wait on each other in a cycle. Without them, concurrent requests all read "below the cap" and all insert. SQLite
    (local development only) has no such lock; its writers are serialized by the database file anyway.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for key in sorted(set(keys)):
            lock_id = int.from_bytes(hashlib.sha256(f"accounts:{key}".encode()).digest()[:8], "big", signed=True)
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])


def _password_errors(password: str, user: User) -> None:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ApiError(Code.VALIDATION, details={"password": list(exc.messages)}) from None
