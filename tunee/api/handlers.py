"""The one exception handler: every error raised while serving `/api` becomes the contract's envelope."""

import logging
import math

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.views import set_rollback
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from .errors import ApiError, Code
from .i18n import T

logger = logging.getLogger("tunee.api")

MALFORMED_BODY = T("请求体格式错误", "Malformed request body")
UNSUPPORTED_MEDIA = T("不支持的请求内容类型", "Unsupported content type")


def _details_from_drf(detail):
    """DRF's validation detail → `{field: [messages]}`; non-field errors under `nonFieldErrors`."""
    if isinstance(detail, dict):
        return {
            key: _details_from_drf(value) if isinstance(value, dict) else _as_list(value)
            for key, value in detail.items()
        }
    return {"non_field_errors": _as_list(detail)}


def _as_list(value):
    if isinstance(value, list | tuple):
        out = []
        for item in value:
            out.append(_details_from_drf(item) if isinstance(item, dict) else str(item))
        return out
    return [str(value)]


def to_api_error(exc: Exception) -> ApiError | None:
    """Map a known exception to an ApiError; None for anything unexpected (→ 500)."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, drf.ValidationError):
        return ApiError(Code.VALIDATION, details=_details_from_drf(exc.detail))
    if isinstance(exc, drf.ParseError):
        return ApiError(Code.VALIDATION, MALFORMED_BODY, details={"body": [str(exc.detail)]})
    if isinstance(exc, drf.UnsupportedMediaType):
        return ApiError(Code.VALIDATION, UNSUPPORTED_MEDIA, details={"contentType": [str(exc.detail)]})
    if isinstance(exc, InvalidToken | TokenError):
        return ApiError(Code.TOKEN_INVALID)
    if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
        return ApiError(Code.UNAUTHENTICATED)
    if isinstance(exc, drf.PermissionDenied | DjangoPermissionDenied):
        return ApiError(Code.FORBIDDEN)
    if isinstance(exc, drf.NotFound | Http404):
        return ApiError(Code.NOT_FOUND)
    if isinstance(exc, drf.MethodNotAllowed):
        return ApiError(Code.METHOD_NOT_ALLOWED)
    if isinstance(exc, drf.Throttled):
        wait = max(1, math.ceil(exc.wait)) if exc.wait is not None else 1
        return ApiError(Code.THROTTLED, details={"retryAfter": wait}, headers={"Retry-After": str(wait)})
    if isinstance(exc, drf.NotAcceptable):
        return ApiError(Code.VALIDATION, details={"accept": [str(exc.detail)]})
    if isinstance(exc, DjangoValidationError):
        details = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return ApiError(Code.MODEL_VALIDATION, details=details)
    if isinstance(exc, SuspiciousOperation):
        # Oversized bodies, too many fields, bad hosts: the client's fault, and nothing to show of it.
        return ApiError(Code.VALIDATION, MALFORMED_BODY)
    if isinstance(exc, drf.APIException) and 400 <= exc.status_code < 500:
        return ApiError(Code.BUSINESS, details={"detail": [str(exc.detail)]})
    return None


def exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER."""
    from .envelope import error_response

    error = to_api_error(exc)
    if error is None:
        request = context.get("request")
        logger.exception("Unhandled error in %s", getattr(request, "path", "?"), exc_info=exc)
        error = ApiError(Code.INTERNAL)
    set_rollback()
    response = error_response(error)
    if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed) and getattr(exc, "auth_header", None):
        response["WWW-Authenticate"] = exc.auth_header
    return response
