"""An in-process HTTP transport: `requests` calls to this service's own origin are handled without a socket.

Why: in sandbox mode the real provider clients (wechatpy, python-alipay-sdk) talk to the sandbox gateway that lives
inside this service, and the sandbox posts its notifications to this service's notify endpoints. Doing that over
HTTP to ourselves would deadlock a server with one sync worker (gunicorn's default: the worker is busy waiting
for itself) and needs a live server in tests. So the clients' `requests.Session` gets `InProcessAdapter` mounted
for `PUBLIC_BASE_URL`: such a request is turned into a WSGI environ and handed to Django's request handler in the
same thread, through the whole middleware stack and URL resolver, exactly as a real request would be. Every other
URL keeps going over the network through requests' ordinary adapter.

A nested request shares the thread's database connection (and so the caller's transaction, if any). Django's
`request_started`/`request_finished` signals are deliberately not sent for it: their receivers close "old"
database connections, which would close the connection the outer request is still using (and, inside an atomic
block, mark its transaction for rollback). The outer request's own signals still run. The active translation,
which LocaleMiddleware switches per request, is restored after the nested call.
"""

from __future__ import annotations

import contextlib
import io
import logging
import sys
import threading
from urllib.parse import quote, unquote_to_bytes, urlsplit

import requests
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
from django.utils import translation
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

logger = logging.getLogger("payments.transport")
_handler_lock = threading.Lock()
_handler: WSGIHandler | None = None


def _django_handler() -> WSGIHandler:
    """One WSGIHandler per process (loading the middleware chain is not free)."""
    global _handler
    with _handler_lock:
        if _handler is None:
            _handler = WSGIHandler()
        return _handler


class InProcessAdapter(BaseAdapter):
    """A requests transport adapter that answers from this Django project in-process."""

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        url = urlsplit(request.url)
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        elif not isinstance(body, bytes):  # a file-like or generator body
            body = b"".join(chunk if isinstance(chunk, bytes) else chunk.encode() for chunk in body)
        port = url.port or (443 if url.scheme == "https" else 80)
        environ = {
            "REQUEST_METHOD": request.method.upper(),
            "SCRIPT_NAME": "",
            # PEP 3333: the path is the URL-decoded bytes, carried in a latin-1 str
            "PATH_INFO": unquote_to_bytes(url.path or "/").decode("latin-1"),
            "QUERY_STRING": url.query,
            "SERVER_NAME": url.hostname or "localhost",
            "SERVER_PORT": str(port),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_LENGTH": str(len(body)),
            "CONTENT_TYPE": request.headers.get("Content-Type", ""),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": url.scheme or "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        for name, value in request.headers.items():
            key = name.upper().replace("-", "_")
            if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                continue
            environ[f"HTTP_{key}"] = value
        environ["HTTP_HOST"] = url.netloc

        language = translation.get_language()
        try:
            status, reason, headers, content = self._call_django(environ)
        except Exception:
            # What a server does when the application fails: log it and answer 500.
            logger.exception("in-process request %s %s failed", request.method, request.url)
            status, reason, headers, content = 500, "Internal Server Error", [], b""
        finally:
            if language:
                translation.activate(language)
            else:
                translation.deactivate()

        response = requests.Response()
        response.status_code = status
        response.reason = reason
        response.headers = CaseInsensitiveDict(headers)
        response._content = content
        response.raw = io.BytesIO(content)
        response.encoding = get_encoding_from_headers(response.headers)
        response.url = request.url
        response.request = request
        response.connection = self
        return response

    @staticmethod
    def _call_django(environ: dict) -> tuple[int, str, list, bytes]:
        django_response = _django_handler().get_response(WSGIRequest(environ))
        try:
            if django_response.streaming:
                content = b"".join(django_response.streaming_content)
            else:
                content = django_response.content
        finally:
            # HttpResponse.close() would also send request_finished (see the module docstring): release the
            # response's own resources only.
            for closer in getattr(django_response, "_resource_closers", ()):
                with contextlib.suppress(Exception):
                    closer()
        headers = list(django_response.items())
        headers += [("Set-Cookie", cookie.OutputString()) for cookie in django_response.cookies.values()]
        return django_response.status_code, django_response.reason_phrase, headers, content

    def close(self):
        pass


def own_origin() -> str:
    """This service's public origin, e.g. "http://127.0.0.1:8000" (no trailing slash)."""
    return settings.PUBLIC_BASE_URL.rstrip("/")


def session_for_own_origin(session: requests.Session | None = None) -> requests.Session:
    """A requests session whose calls to PUBLIC_BASE_URL are answered in-process (others go over the network)."""
    session = session or requests.Session()
    session.mount(own_origin() + "/", InProcessAdapter())
    return session


def sandbox_pay_url(provider: str, order_no: str) -> str:
    """The absolute URL of the sandbox pay page of one trade (`payParams.sandboxPayUrl`), with the token that opens
    it (payments_sandbox/access.py)."""
    from .access import pay_page_token

    token = quote(pay_page_token(provider, order_no), safe="")
    return f"{own_origin()}/sandbox/pay/{provider}/{quote(order_no, safe='')}?token={token}"
