"""Fetching a file from someone else's server without letting that server point us at our own network.

Used for the files a music provider hands back (audio, covers) and the WeChat avatars clients send. A URL from
outside is an instruction to make a request from inside our network, so `fetch` refuses:

- schemes other than http(s), and URLs with a user or password in them;
- hosts whose address is not a public unicast one: loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7),
  link-local (169.254/16 — the cloud metadata service — and fe80::/10), CGNAT (100.64/10), 0.0.0.0 and ::,
  multicast, reserved and documentation ranges, IPv4-mapped IPv6 (::ffff:a.b.c.d) and the IPv6 prefixes that
  embed an IPv4 address (6to4, Teredo, NAT64). Every address a name resolves to is checked, and one is refused;
- redirects that lead to any of the above: redirects are followed by hand, at most MAX_REDIRECTS of them, each
  hop checked like the first;
- bodies that are not one of the types the caller allows, judged by their first bytes (`sniff`), never by the
  URL's extension or the server's Content-Type; and bodies over `max_bytes` (checked as they arrive).

DNS rebinding: the name is resolved once, the addresses are checked, and the connection goes to the checked
address (urllib3 pool on the IP; the Host header, TLS SNI and certificate check still use the name), so a second
lookup that answers differently is never made. Proxies from the environment (HTTP_PROXY) are not used.

`settings.ASSET_FETCH_PRIVATE_ALLOWLIST` ("host:port" entries) names the private places that may be fetched
anyway: the local fake servers of the tests, or provider files on a private network. An entry matches the URL's
host as written or any address it resolves to, on that port only.

Errors: `FetchRefused` (permanent: the same URL will never do), `FetchUnavailable` / `FetchTimeout` (transient:
5xx, 429, connection trouble). Domain-free: callers turn them into their own errors.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import certifi
import urllib3
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MAX_REDIRECTS = 3
CHUNK = 64 * 1024
USER_AGENT = "Tunee-fetch/1"

# --- Types, by their bytes -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MediaType:
    content_type: str
    extension: str
    kind: str  # "audio" or "image"


MP3 = MediaType("audio/mpeg", "mp3", "audio")
M4A = MediaType("audio/mp4", "m4a", "audio")
AAC = MediaType("audio/aac", "aac", "audio")
WAV = MediaType("audio/wav", "wav", "audio")
FLAC = MediaType("audio/flac", "flac", "audio")
JPEG = MediaType("image/jpeg", "jpg", "image")
PNG = MediaType("image/png", "png", "image")
WEBP = MediaType("image/webp", "webp", "image")

AUDIO = frozenset({MP3, M4A, AAC, WAV, FLAC})
IMAGE = frozenset({JPEG, PNG, WEBP})
ALL = AUDIO | IMAGE
BY_EXTENSION = {t.extension: t for t in ALL} | {"jpeg": JPEG}

# ISO base media brands of audio files (and of the generic MP4 brands many encoders write on .m4a files).
_MP4_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"mp41", b"mp42", b"isom", b"iso2", b"iso5", b"dash"}
SNIFF_BYTES = 16


def sniff(data: bytes) -> MediaType | None:
    """The type of a file from its first bytes, among the ones we store; None for anything else.

    A tiny magic-number check rather than a library: we accept eight formats and want to know exactly which
    signature admits each (no library is installed for it, and libmagic would be a system dependency).
    """
    head = data[:SNIFF_BYTES]
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return WAV
    if head.startswith(b"fLaC"):
        return FLAC
    if head[4:8] == b"ftyp" and head[8:12] in _MP4_AUDIO_BRANDS:
        return M4A
    if head.startswith(b"ID3") and len(head) >= 10:
        return MP3  # an ID3v2 tag, then the frames
    if len(head) >= 4 and head[0] == 0xFF:
        b1, b2 = head[1], head[2]
        if b1 & 0xE0 == 0xE0:  # 11-bit frame sync
            version, layer = (b1 >> 3) & 0b11, (b1 >> 1) & 0b11
            if layer == 0b00 and b1 & 0xF0 == 0xF0 and (b2 >> 2) & 0x0F < 13:
                return AAC  # ADTS (MPEG-2/4 AAC)
            bitrate, rate = b2 >> 4, (b2 >> 2) & 0b11
            if version != 0b01 and layer == 0b01 and bitrate not in (0, 15) and rate != 0b11:
                return MP3  # an MPEG audio layer III frame header
    return None


# --- Errors -----------------------------------------------------------------------------------------------------


class FetchError(Exception):
    retryable = False

    def __init__(self, detail: str, *, status: int | None = None):
        self.detail = detail
        self.status = status
        super().__init__(detail)


class FetchRefused(FetchError):
    """Permanent: a URL or address we do not fetch, a 4xx answer, a body of the wrong type."""


class FetchTooLarge(FetchRefused):
    """The body is over `max_bytes`."""


class FetchWrongType(FetchRefused):
    """The body is not one of the allowed types."""


class FetchUnavailable(FetchError):
    """Transient: connection refused or reset, DNS failure, 5xx, 408, 429."""

    retryable = True


class FetchTimeout(FetchUnavailable):
    """Not answered, or not downloaded, within the time allowed."""


@dataclass(frozen=True)
class Fetched:
    data: bytes
    type: MediaType
    url: str  # where the bytes came from, after redirects


# --- Addresses --------------------------------------------------------------------------------------------------

_EMBEDDING_V6 = (
    ipaddress.ip_network("2002::/16"),  # 6to4
    ipaddress.ip_network("2001::/32"),  # Teredo
    ipaddress.ip_network("64:ff9b::/96"),  # NAT64
    ipaddress.ip_network("64:ff9b:1::/48"),  # local-use NAT64
)
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


def is_public_address(address: str) -> bool:
    """A public unicast address (see the module's docstring for what is not)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if ip.version == 6 and (ip.ipv4_mapped is not None or any(ip in net for net in _EMBEDDING_V6)):
        return False
    if ip.version == 4 and ip in _CGNAT:
        return False
    return ip.is_global and not (
        ip.is_multicast or ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_unspecified
    )


def _normal_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def _allowlist() -> set[tuple[str, int]]:
    raw = settings.ASSET_FETCH_PRIVATE_ALLOWLIST
    entries = raw.split(",") if isinstance(raw, str) else raw
    allowed = set()
    for entry in entries or ():
        entry = entry.strip()
        if not entry:
            continue
        host, sep, port = entry.rpartition(":")
        if not sep or not port.isdigit() or not host:
            raise ImproperlyConfigured(f"ASSET_FETCH_PRIVATE_ALLOWLIST entries are host:port, not {entry!r}")
        host = host.strip("[]").lower()
        allowed.add((_normal_ip(host) or host, int(port)))
    return allowed


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchUnavailable(f"cannot resolve {host!r}: {exc}") from exc
    addresses = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        if sockaddr[0] not in addresses:
            addresses.append(sockaddr[0])
    if not addresses:
        raise FetchUnavailable(f"{host!r} has no address")
    return addresses


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str  # the name as written (no brackets)
    port: int
    addresses: tuple[str, ...]  # checked; the connection goes to one of these
    path: str  # path and query
    host_header: str


def _check(url: str) -> _Target:
    """Parse, resolve and check one hop. Raises FetchRefused for anything we do not fetch."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FetchRefused(f"refusing {url!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchRefused(f"refusing {url!r}: not http(s)")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise FetchRefused(f"refusing {url!r}: credentials in the URL")
    host = (parts.hostname or "").lower()
    if not host:
        raise FetchRefused(f"refusing {url!r}: no host")
    default_port = 443 if scheme == "https" else 80
    port = port or default_port
    addresses = _resolve(host, port)
    allowlist = _allowlist()
    host_allowed = (_normal_ip(host) or host, port) in allowlist
    for address in addresses:
        if is_public_address(address) or host_allowed or (_normal_ip(address.split("%", 1)[0]), port) in allowlist:
            continue
        raise FetchRefused(f"refusing {url!r}: {host} resolves to {address}, which is not a public address")
    shown = f"[{host}]" if ":" in host else host
    host_header = shown if port == default_port else f"{shown}:{port}"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Target(scheme, host, port, tuple(addresses), path, host_header)


# --- Fetching ---------------------------------------------------------------------------------------------------


def _pool(target: _Target, address: str, timeout: urllib3.Timeout):
    if target.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            address,
            target.port,
            timeout=timeout,
            retries=False,
            maxsize=1,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(),
        )
    return urllib3.HTTPConnectionPool(address, target.port, timeout=timeout, retries=False, maxsize=1)


def _open(target: _Target, timeout: urllib3.Timeout, url: str):
    """GET the target from the first of its checked addresses that accepts a connection."""
    headers = {
        "Host": target.host_header,
        "User-Agent": USER_AGENT,
        "Accept": "audio/*, image/*",
        "Accept-Encoding": "identity",  # the bytes themselves: no decompression bomb, nothing to sniff through
    }
    last: Exception | None = None
    for address in target.addresses:
        pool = _pool(target, address, timeout)
        try:
            response = pool.urlopen(
                "GET",
                target.path,
                headers=headers,
                redirect=False,
                retries=False,
                preload_content=False,
                decode_content=False,
                assert_same_host=False,
            )
        except urllib3.exceptions.NewConnectionError as exc:
            pool.close()
            last = exc
            continue
        except urllib3.exceptions.TimeoutError as exc:
            pool.close()
            raise FetchTimeout(f"GET {url}: {exc}") from exc
        except urllib3.exceptions.HTTPError as exc:
            pool.close()
            raise FetchUnavailable(f"GET {url}: {exc}") from exc
        return pool, response
    raise FetchUnavailable(f"GET {url}: {last}")


def fetch(url: str, *, max_bytes: int, timeout: float, allowed: Iterable[MediaType] = ALL) -> Fetched:
    """GET `url` (see the module's docstring for what is refused) and return its bytes and their type.

    `timeout` bounds the whole download (connecting, each read, and the total), `max_bytes` its size.
    404/410 and other 4xx → FetchRefused (status set); 5xx, 408, 429, an empty body, connection errors →
    FetchUnavailable;
    too slow → FetchTimeout; a body that is not one of `allowed` → FetchWrongType (as soon as its first bytes
    show it); larger than `max_bytes` → FetchTooLarge.
    """
    allowed = frozenset(allowed)
    deadline = time.monotonic() + timeout
    for _hop in range(MAX_REDIRECTS + 1):
        target = _check(url)
        remaining = max(0.01, deadline - time.monotonic())
        pool, response = _open(target, urllib3.Timeout(connect=min(remaining, 5.0), read=remaining), url)
        try:
            status = response.status
            if status in (301, 302, 303, 307, 308):
                location = response.headers.get("Location")
                if not location:
                    raise FetchRefused(f"GET {url}: HTTP {status} without a Location", status=status)
                url = urljoin(url, location)
                continue
            if status >= 500 or status in (408, 429):
                raise FetchUnavailable(f"GET {url}: HTTP {status}", status=status)
            if status != 200:
                raise FetchRefused(f"GET {url}: HTTP {status}", status=status)
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise FetchTooLarge(f"GET {url}: Content-Length {declared} > {max_bytes}")
            data = _read(response, url=url, max_bytes=max_bytes, deadline=deadline, timeout=timeout, allowed=allowed)
        finally:
            response.release_conn()
            pool.close()
        if not data:  # usually a file the upstream has not finished writing
            raise FetchUnavailable(f"GET {url}: empty body")
        kind = sniff(data)
        if kind is None or kind not in allowed:
            raise FetchWrongType(f"GET {url}: {kind.content_type if kind else 'unknown'} is not allowed here")
        return Fetched(data=data, type=kind, url=url)
    raise FetchRefused(f"GET {url}: more than {MAX_REDIRECTS} redirects")


def _read(response, *, url: str, max_bytes: int, deadline: float, timeout: float, allowed: frozenset) -> bytes:
    chunks: list[bytes] = []
    size = 0
    sniffed = False
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise FetchTimeout(f"GET {url}: not downloaded within {timeout} s")
            sock = getattr(getattr(response, "connection", None), "sock", None)
            if sock is not None:  # each read waits at most what is left of the whole download
                sock.settimeout(remaining)
            chunk = response.read1(CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise FetchTooLarge(f"GET {url}: more than {max_bytes} bytes")
            chunks.append(chunk)
            if not sniffed and size >= SNIFF_BYTES:
                sniffed = True
                kind = sniff(b"".join(chunks))
                if kind is None or kind not in allowed:  # stop at once, not after 50 MB of HTML
                    what = kind.content_type if kind else "unknown"
                    raise FetchWrongType(f"GET {url}: {what} is not allowed here")
    except (urllib3.exceptions.TimeoutError, TimeoutError) as exc:
        raise FetchTimeout(f"GET {url}: {exc}") from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise FetchUnavailable(f"GET {url}: {exc}") from exc
    if time.monotonic() > deadline:
        raise FetchTimeout(f"GET {url}: not downloaded within {timeout} s")
    return b"".join(chunks)
