"""The request id: one id per request, on every log line it causes, in the web process and in every Celery job it
enqueues (and the jobs those enqueue).

- `RequestIdMiddleware` (first in MIDDLEWARE) takes the caller's `X-Request-ID` when it is well formed (1 to 64
  characters among letters, digits, `-`, `_` and `.`), else makes one (uuid4 hex); it is answered in the response's
  `X-Request-ID` and held in a context variable while the request runs.
- `RequestIdFilter` (on the log handler) puts it on every log record as `request_id` (absent outside a request).
- tunee/celery.py carries it: `before_task_publish` writes it in the message headers, `task_prerun` / `task_postrun`
  set and reset it around the job in the worker. A job with none (beat, the shell) is known by its task id.

Per request this costs one header lookup, one `str.strip` and a context variable set and reset: no regular
expression, no uuid when the caller sent a valid id, no log line.
"""

import contextvars
import logging
import string
import uuid

HEADER = "X-Request-ID"
META_KEY = "HTTP_X_REQUEST_ID"
CELERY_HEADER = "request_id"
MAX_LENGTH = 64
SAFE_CHARACTERS = string.ascii_letters + string.digits + "-_."

current: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


def accept(value: str | None) -> str | None:
    """`value` if it is a well-formed id, else None. `value.strip(SAFE_CHARACTERS)` is empty exactly when every
    character is a safe one (one pass in C)."""
    if value and len(value) <= MAX_LENGTH and not value.strip(SAFE_CHARACTERS):
        return value
    return None


def new() -> str:
    return uuid.uuid4().hex


def get() -> str:
    return current.get()


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = accept(request.META.get(META_KEY)) or new()
        request.request_id = request_id  # for the lines Django logs once the middleware returned (below)
        token = current.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            current.reset(token)
        response[HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record handled while a request or a job runs, and to the records Django writes
    about a request after its middleware returned (`django.request`'s "Internal Server Error: …", which carry the
    request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = current.get() or getattr(getattr(record, "request", None), "request_id", None)
        if request_id:
            record.request_id = request_id
        return True


# --- Celery ---------------------------------------------------------------------------------------------------
# Connected in tunee/celery.py. A job's own headers arrive as attributes of `task.request` from a broker, and under
# `headers` when it is run in-process with `task.apply(headers=...)`.

_tokens: dict[str, contextvars.Token] = {}


def on_before_task_publish(headers: dict | None = None, **_) -> None:
    request_id = current.get()
    if request_id and headers is not None:
        headers.setdefault(CELERY_HEADER, request_id)


def on_task_prerun(task_id: str | None = None, task=None, **_) -> None:
    request = getattr(task, "request", None)
    carried = getattr(request, CELERY_HEADER, None) or (getattr(request, "headers", None) or {}).get(CELERY_HEADER)
    request_id = accept(carried) or current.get() or task_id or new()
    if task_id:
        _tokens[task_id] = current.set(request_id)


def on_task_postrun(task_id: str | None = None, **_) -> None:
    token = _tokens.pop(task_id, None) if task_id else None
    if token is not None:
        try:
            current.reset(token)
        except ValueError:  # set in another context (a thread pool): nothing of ours to restore there
            current.set("")
