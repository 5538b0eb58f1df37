"""`SessionJWTAuthentication`: the project's DRF authentication (settings.REST_FRAMEWORK).

`Authorization: Bearer <access token>`:
- no header → anonymous (a protected view then answers 401);
- bad signature, garbage, unknown or revoked login session → 2001; expired → 2002;
- disabled account → 20003, on every request, even with a token issued before it was disabled.
Once the user is known, their `settings.language` = `en` switches the messages to English.

No user row is loaded: the session's state and the account's status and language come from one cache read
(`tokens.session_auth_state`), and `request.user` is a `User` with only those fields loaded (the others are
deferred: Django loads one when it is first read, and `save()` writes only what was loaded or set). A view that
shows the whole account loads it in its own query (`accounts.selectors.user_for_profile`).
"""

import uuid

from django.db import DEFAULT_DB_ALIAS
from django.utils import translation
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from tunee.api.errors import ApiError, Code
from tunee.api.throttles import PRECOUNTED, user_counts

from .models import User
from .tokens import AUTH_FIELDS, SESSION_CLAIM, access_token_decode, session_auth_state

_LOADED = [field.attname for field in User._meta.concrete_fields if field.attname in AUTH_FIELDS]


def _user_from(state) -> User:
    """A User instance with the authentication fields loaded and every other field deferred."""
    values = {"id": uuid.UUID(state.user_id), "status": state.status, "language": state.language}
    values["is_active"] = state.is_active
    return User.from_db(DEFAULT_DB_ALIAS, _LOADED, [values[name] for name in _LOADED])


class SessionJWTAuthentication(BaseAuthentication):
    keyword = b"bearer"

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword:
            return None
        if len(header) != 2:
            raise ApiError(Code.TOKEN_INVALID)
        try:
            raw = header[1].decode()
        except UnicodeError:
            raise ApiError(Code.TOKEN_INVALID) from None
        token = access_token_decode(raw)
        # The view's per-user rates are counted in the same cache round trip as the session's state
        # (tunee.api.throttles.user_counts)
        counts = user_counts((request.parser_context or {}).get("view"), token["sub"])
        state, waits = session_auth_state(token[SESSION_CLAIM], token["sub"], counts=counts)
        if state is None:
            raise ApiError(Code.TOKEN_INVALID)
        if waits is not None:
            setattr(request, PRECOUNTED, waits)
        user = _user_from(state)
        if user.is_disabled:
            raise ApiError(Code.ACCOUNT_DISABLED)
        if user.language == User.Language.EN:
            translation.activate("en")
            request.LANGUAGE_CODE = "en"
        return user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class SessionJWTAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.SessionJWTAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
