"""A local HTTP server on 127.0.0.1 for the provider tests (pytest-httpserver), one per test.

Test modules import `server_fixture` (the fixture is named `server`). Threaded, so that a handler that sleeps
(to test timeouts) does not hold up the next request."""

import pytest
from pytest_httpserver import HTTPServer


@pytest.fixture(name="server")
def server_fixture():
    fake = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    fake.start()
    yield fake
    fake.clear()
    fake.stop()


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connection refused)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
