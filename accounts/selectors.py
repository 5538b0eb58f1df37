"""Reads of accounts: the user row a profile is rendered from (the shape is `serializers.UserProfileOutput`), the
avatar to show, and the account an operator names."""

from django.db import connection

from membership.selectors import (
    ENTITLEMENT_COLUMNS,
    ENTITLEMENT_FIELDS,
    business_today,
    entitlement_joins,
    with_entitlements,
)
from tunee.storage import public_url

from .models import User


def user_avatar_url(*, user: User) -> str | None:
    """The uploaded avatar, else our copy of the WeChat one, else None (never the URL the client sent)."""
    return public_url(user.avatar) or public_url(user.wechat_avatar)


def user_for_profile(*, user_id) -> User:
    """The user row with what their profile shows of membership, points and today's quota: one query (on
    PostgreSQL written out in SQL: GET /user/me is a hot path, and this skips building the ORM query each time)."""
    if connection.vendor != "postgresql":
        return with_entitlements(User.objects.filter(pk=user_id)).get()
    day = business_today()
    with connection.cursor() as cursor:
        cursor.execute(_PROFILE_SQL, [day, day, user_id])
        row = cursor.fetchone()
    if row is None:
        raise User.DoesNotExist
    # The model from its columns as `Model.from_db` takes them (no RawQuerySet: it maps the cursor's columns to
    # fields again on every query); none of these fields converts its database value.
    user = User.from_db(connection.alias, _PROFILE_ATTNAMES, row[: len(_PROFILE_ATTNAMES)])
    for name, value in zip((*ENTITLEMENT_FIELDS, "ent_day"), row[len(_PROFILE_ATTNAMES) :], strict=True):
        setattr(user, name, value)
    return user


# The columns the profile shows (serializers.UserProfileOutput): the others stay deferred (loaded if read), and a
# row of a third of the table's columns is quicker to send, describe and convert. Table and column names come from
# the models, every value is a parameter.
PROFILE_FIELDS = (
    "id", "username", "email", "email_verified", "phone", "avatar", "wechat_avatar", "wechat_openid", "wechat_unionid",
    "wechat_nickname", "language", "notifications", "status", "created_at",
)  # fmt: skip
_PROFILE_LOADED = [field for field in User._meta.concrete_fields if field.name in PROFILE_FIELDS]  # the model's order
_PROFILE_ATTNAMES = [field.attname for field in _PROFILE_LOADED]
_PROFILE_COLUMNS = ", ".join(f"u.{field.column}" for field in _PROFILE_LOADED)
_PROFILE_SQL = (
    f"SELECT {_PROFILE_COLUMNS}, {ENTITLEMENT_COLUMNS}, CAST(%s AS date) AS ent_day "  # noqa: S608  # nosec B608
    f"FROM {User._meta.db_table} u {entitlement_joins('u.id')} WHERE u.id = %s"
)


def user_find(*, identifier: str) -> User:
    """The one account an operator named (`manage.py` commands): by id, phone, email or username (the last two
    ignoring case). 20000 when none matches; 400 when the name fits more than one account."""
    import contextlib
    import uuid  # imported here: this function was appended while the module's header was being reworked

    from django.db.models import Q

    from tunee.api.errors import ApiError, Code

    text = (identifier or "").strip()
    match = Q(phone=text) | Q(email__iexact=text) | Q(username__iexact=text) if text else Q(pk__in=[])
    with contextlib.suppress(ValueError):
        match |= Q(pk=uuid.UUID(text))
    found = list(User.objects.filter(match)[:2])
    if not found:
        raise ApiError(Code.USER_NOT_FOUND, details={"user": text})
    if len(found) > 1:
        raise ApiError(Code.VALIDATION, details={"user": [f"{text!r} names more than one account"]})
    return found[0]
