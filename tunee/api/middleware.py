"""Last line of defence for `/api`: an exception that escapes a view outside DRF still answers in the envelope."""

import logging

from django.http import JsonResponse

from .envelope import error_body
from .errors import ApiError, Code
from .handlers import to_api_error

logger = logging.getLogger("tunee.api")


def is_api_path(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def envelope_json(error: ApiError) -> JsonResponse:
    response = JsonResponse(
        error_body(error.code, error.message, error.details),
        status=error.status,
        json_dumps_params={"ensure_ascii": False},
    )
    for key, value in error.headers.items():
        response[key] = value
    return response


class ApiErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exc):
        if not is_api_path(request.path):
            return None
        error = to_api_error(exc)
        if error is None:
            logger.exception("Unhandled error in %s", request.path, exc_info=exc)
            error = ApiError(Code.INTERNAL)
        return envelope_json(error)
