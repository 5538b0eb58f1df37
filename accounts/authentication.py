"""`SessionJWTAuthentication`: the project's DRF authentication (settings.REST_FRAMEWORK).

`Authorization: Bearer <access token>`:
- no header → anonymous (a protected view then answers 401);
- bad signature, garbage, unknown or revoked login session → 2001; expired → 2002;
- disabled account → 20003, on every request, even with a token issued before it was disabled.
Once the user is known, their `settings.language` = `en` switches the messages to English.
"""

from django.utils import translation
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from tunee.api.errors import ApiError, Code

from .models import User
from .tokens import SESSION_CLAIM, access_token_decode, session_is_alive


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
        if not session_is_alive(token[SESSION_CLAIM], token["sub"]):
            raise ApiError(Code.TOKEN_INVALID)
        user = User.objects.filter(pk=token["sub"]).first()
        if user is None:
            raise ApiError(Code.TOKEN_INVALID)
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
