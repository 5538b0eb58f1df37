"""tunee.fetch: what a URL from outside may make us fetch, against a local HTTP server (pytest-httpserver)."""

import socket

import pytest
from django.core.exceptions import ImproperlyConfigured
from pytest_httpserver import HTTPServer
from werkzeug import Response

from tunee import fetch
from tunee.fetch import (
    AAC,
    AUDIO,
    FLAC,
    IMAGE,
    JPEG,
    M4A,
    MP3,
    PNG,
    WAV,
    WEBP,
    FetchRefused,
    FetchTooLarge,
    FetchUnavailable,
    FetchWrongType,
    is_public_address,
    sniff,
)

MP3_BYTES = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 200
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
HTML = b"<!doctype html><html><script>alert(document.cookie)</script></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'


@pytest.fixture
def http():
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def allowed(settings, http):
    """The test server is a private address: on the allowlist, as the tests of a private deployment would put it."""
    settings.ASSET_FETCH_PRIVATE_ALLOWLIST = [f"127.0.0.1:{http.port}"]
    return http


# --- types by their bytes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"ID3\x04\x00\x00\x00\x00\x00\x00", MP3),
        (b"\xff\xfb\x90\x64" + b"\x00" * 12, MP3),  # MPEG-1 layer III frame, no tag
        (b"\xff\xf1\x50\x80" + b"\x00" * 12, AAC),  # ADTS
        (b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00", M4A),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", WAV),
        (b"fLaC\x00\x00\x00\x22" + b"\x00" * 8, FLAC),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", JPEG),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", PNG),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", WEBP),
    ],
)
def test_sniff_knows_the_stored_types_by_their_first_bytes(head, kind):
    assert sniff(head + b"\x00" * 64) is kind


@pytest.mark.parametrize(
    "data",
    [b"", HTML, SVG, b"GIF89a" + b"\x00" * 20, b"%PDF-1.7", b"\x00\x00\x00\x20ftypqt  ", b"\xff\xff\xff\xff", b"ID3"],
    ids=["empty", "html", "svg", "gif", "pdf", "quicktime", "bad-frame", "short-id3"],
)
def test_sniff_refuses_everything_else(data):
    assert sniff(data) is None


# --- addresses --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # CGNAT
        "0.0.0.0",  # noqa: S104 (an address to refuse, not one to bind)
        "224.0.0.1",  # multicast
        "239.255.255.250",
        "240.0.0.1",  # reserved
        "255.255.255.255",
        "192.0.2.1",  # documentation
        "::1",
        "::",
        "fc00::1",  # unique local
        "fd12:3456::1",
        "fe80::1",  # link-local
        "fe80::1%eth0",
        "ff02::1",  # multicast
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:8.8.8.8",  # IPv4-mapped, even of a public address
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "64:ff9b::7f00:1",  # NAT64
        "2001:db8::1",  # documentation
        "not an address",
    ],
)
def test_non_public_addresses_are_refused(address):
    assert is_public_address(address) is False


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "203.119.1.1", "2606:4700:4700::1111"])
def test_public_addresses_are_accepted(address):
    assert is_public_address(address) is True


# --- fetching ---------------------------------------------------------------------------------------------------


def test_a_private_address_is_refused_unless_allowlisted(settings, http):
    http.expect_request("/song.mp3").respond_with_data(MP3_BYTES)
    url = http.url_for("/song.mp3")
    settings.ASSET_FETCH_PRIVATE_ALLOWLIST = []
    with pytest.raises(FetchRefused, match="not a public address"):
        fetch.fetch(url, max_bytes=10_000, timeout=5)
    assert http.log == []  # refused before connecting

    settings.ASSET_FETCH_PRIVATE_ALLOWLIST = [f"127.0.0.1:{http.port + 1}"]  # another port does not count
    with pytest.raises(FetchRefused):
        fetch.fetch(url, max_bytes=10_000, timeout=5)

    settings.ASSET_FETCH_PRIVATE_ALLOWLIST = f"10.0.0.1:80, 127.0.0.1:{http.port}"  # the environment's form
    got = fetch.fetch(url, max_bytes=10_000, timeout=5, allowed=AUDIO)
    assert (got.data, got.type) == (MP3_BYTES, MP3)


def test_an_allowlist_entry_may_name_the_host(settings, http):
    http.expect_request("/a.png").respond_with_data(PNG_BYTES)
    settings.ASSET_FETCH_PRIVATE_ALLOWLIST = [f"localhost:{http.port}"]
    assert fetch.fetch(f"http://localhost:{http.port}/a.png", max_bytes=10_000, timeout=5).type is PNG
    with pytest.raises(FetchRefused):  # the entry names the host, not its address
        fetch.fetch(http.url_for("/a.png"), max_bytes=10_000, timeout=5)


def test_a_malformed_allowlist_is_a_configuration_error(settings):
    settings.ASSET_FETCH_PRIVATE_ALLOWLIST = ["127.0.0.1"]
    with pytest.raises(ImproperlyConfigured):
        fetch.fetch("http://127.0.0.1/a.mp3", max_bytes=10, timeout=1)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/a.mp3",
        "gopher://127.0.0.1:6379/_INFO",
        "http://user:secret@{host}/song.mp3",
        "http://user@{host}/song.mp3",
        "http:///song.mp3",
        "http://[::1/song.mp3",
    ],
)
def test_other_schemes_credentials_and_broken_urls_are_refused(allowed, url):
    allowed.expect_request("/song.mp3").respond_with_data(MP3_BYTES)
    with pytest.raises(FetchRefused):
        fetch.fetch(url.format(host=f"127.0.0.1:{allowed.port}"), max_bytes=10_000, timeout=2)
    assert allowed.log == []


def test_a_name_that_resolves_to_a_private_address_is_refused(monkeypatch, settings):
    real = socket.getaddrinfo

    def resolver(host, port, *args, **kwargs):
        if host == "evil.example":
            return real("127.0.0.1", port, *args, **kwargs) + real("8.8.8.8", port, *args, **kwargs)
        if host == "metadata.example":
            return real("169.254.169.254", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    for url in ("http://evil.example/a.mp3", "http://metadata.example/latest/meta-data/"):
        with pytest.raises(FetchRefused, match="not a public address"):
            fetch.fetch(url, max_bytes=10_000, timeout=1)


def test_the_connection_goes_to_the_address_that_was_checked(monkeypatch, settings, http):
    """DNS rebinding: a second lookup of the name could answer differently, so none is made."""
    http.expect_request("/song.mp3").respond_with_data(MP3_BYTES)
    settings.ASSET_FETCH_PRIVATE_ALLOWLIST = [f"files.internal:{http.port}"]
    real = socket.getaddrinfo
    lookups = []

    def resolver(host, port, *args, **kwargs):
        if host == "files.internal":
            lookups.append(host)
            # first answer: the allowlisted server; any later answer would be the metadata service
            return real("127.0.0.1" if len(lookups) == 1 else "169.254.169.254", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    got = fetch.fetch(f"http://files.internal:{http.port}/song.mp3", max_bytes=10_000, timeout=5)

    assert got.data == MP3_BYTES and lookups == ["files.internal"]
    request, _response = http.log[0]
    assert request.headers["Host"] == f"files.internal:{http.port}"


def test_every_redirect_hop_is_checked(allowed, http):
    other = HTTPServer(host="127.0.0.1", port=0)  # a private server that is not on the allowlist
    other.start()
    try:
        other.expect_request("/secret").respond_with_data(MP3_BYTES)
        allowed.expect_request("/to-other").respond_with_data(
            "", status=302, headers={"Location": other.url_for("/secret")}
        )
        allowed.expect_request("/to-metadata").respond_with_data(
            "", status=307, headers={"Location": "http://169.254.169.254/latest/meta-data/"}
        )
        allowed.expect_request("/to-file").respond_with_data("", status=301, headers={"Location": "file:///etc/passwd"})
        for path in ("/to-other", "/to-metadata", "/to-file"):
            with pytest.raises(FetchRefused):
                fetch.fetch(allowed.url_for(path), max_bytes=10_000, timeout=5)
        assert other.log == []
    finally:
        other.stop()


def test_redirects_are_followed_a_few_hops_only(allowed):
    allowed.expect_request("/hop/0").respond_with_data(MP3_BYTES)
    for n in range(1, 6):
        allowed.expect_request(f"/hop/{n}").respond_with_data("", status=302, headers={"Location": f"/hop/{n - 1}"})
    got = fetch.fetch(allowed.url_for("/hop/3"), max_bytes=10_000, timeout=5)
    assert got.data == MP3_BYTES and got.url.endswith("/hop/0")
    with pytest.raises(FetchRefused, match="redirects"):
        fetch.fetch(allowed.url_for("/hop/4"), max_bytes=10_000, timeout=5)


def test_the_body_must_be_an_allowed_type_whatever_the_url_and_content_type_say(allowed):
    allowed.expect_request("/cover.jpg").respond_with_data(HTML, content_type="image/jpeg")
    allowed.expect_request("/cover.svg").respond_with_data(SVG, content_type="image/svg+xml")
    allowed.expect_request("/song.mp3").respond_with_data(PNG_BYTES, content_type="audio/mpeg")
    for path, kinds in (("/cover.jpg", IMAGE), ("/cover.svg", IMAGE), ("/song.mp3", AUDIO)):
        with pytest.raises(FetchWrongType):
            fetch.fetch(allowed.url_for(path), max_bytes=10_000, timeout=5, allowed=kinds)


def test_a_wrong_type_stops_the_download_at_its_first_bytes(allowed):
    sent = []

    def endless():
        for _ in range(1000):
            sent.append(1)
            yield b"<html>" + b"x" * 65536

    allowed.expect_request("/big.mp3").respond_with_response(Response(endless(), mimetype="audio/mpeg"))
    with pytest.raises(FetchWrongType):
        fetch.fetch(allowed.url_for("/big.mp3"), max_bytes=10**9, timeout=10)
    # The server writes until the socket buffers are full (a few MB) and stops when we hang up: far from all 64 MB.
    assert len(sent) < 500


def test_size_and_status_errors(allowed):
    allowed.expect_request("/big.mp3").respond_with_data(MP3_BYTES * 100)
    allowed.expect_request("/gone.mp3").respond_with_data("gone", status=410)
    allowed.expect_request("/busy.mp3").respond_with_data("busy", status=503)
    allowed.expect_request("/empty.mp3").respond_with_data(b"")
    with pytest.raises(FetchTooLarge):
        fetch.fetch(allowed.url_for("/big.mp3"), max_bytes=1000, timeout=5)
    with pytest.raises(FetchRefused) as gone:
        fetch.fetch(allowed.url_for("/gone.mp3"), max_bytes=1000, timeout=5)
    assert gone.value.status == 410 and not gone.value.retryable
    for path in ("/busy.mp3", "/empty.mp3"):
        with pytest.raises(FetchUnavailable) as busy:
            fetch.fetch(allowed.url_for(path), max_bytes=1000, timeout=5)
        assert busy.value.retryable
