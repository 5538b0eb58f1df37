"""The response envelope of API.md §1, built in one place."""

import time

from rest_framework.response import Response

from .errors import ApiError, Code
from .i18n import T


class Envelope(dict):
    """A body that is already in the envelope: the renderer passes it through instead of wrapping it again."""


def now_ms() -> int:
    return int(time.time() * 1000)


def success_body(data=None, message=None) -> Envelope:
    return Envelope(
        code=0,
        message=str(message if message is not None else Code.OK.default_message),
        data=data,
        timestamp=now_ms(),
    )


def error_body(code: Code, message=None, details=None) -> Envelope:
    return Envelope(
        code=code.code,
        message=str(message if message is not None else code.default_message),
        data=None,
        details=details,
        timestamp=now_ms(),
    )


def ok(data=None, message: T | str | None = None, status: int = 200, headers: dict | None = None) -> Response:
    """A success response: `return ok(OutputSerializer(obj).data, message=MESSAGES.created)`."""
    return Response(success_body(data, message), status=status, headers=headers)


def error_response(exc: ApiError) -> Response:
    return Response(error_body(exc.code, exc.message, exc.details), status=exc.status, headers=exc.headers)
