"""A local HTTP server on 127.0.0.1 for the provider tests (pytest-httpserver).

Test modules import `server_fixture` (the fixture is named `server`). One server is started for the whole run and
emptied after each test (stopping a werkzeug server takes half a second). Threaded, so that a handler that sleeps
(to test timeouts) does not hold up the next request.
"""

import atexit
import logging
import socket

import pytest
from pytest_httpserver import HTTPServer

_server: HTTPServer | None = None
# A handler that sleeps past its test would log after pytest closed that test's log capture.
logging.getLogger("werkzeug").setLevel(logging.WARNING)


def _shared() -> HTTPServer:
    global _server
    if _server is None or not _server.is_running():
        _server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        _server.start()
        atexit.register(_server.stop)
    return _server


@pytest.fixture(name="server")
def server_fixture(settings):
    """The shared server, emptied, and on ASSET_FETCH_PRIVATE_ALLOWLIST (127.0.0.1 is refused otherwise)."""
    fake = _shared()
    fake.clear()
    settings.ASSET_FETCH_PRIVATE_ALLOWLIST = [f"127.0.0.1:{fake.port}"]
    yield fake
    fake.clear()


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
