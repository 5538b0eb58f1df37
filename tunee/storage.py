"""URLs of stored files, and the rules that keep some of them private.

- Every file the service stores has an unguessable name (a random 128-bit token per file, see `file_token`), so
  knowing one file's URL — or a generation's id — tells nothing about another's.
- Names under `private/` (members' high-quality audio) are never served by `/media/`: they are reached only through
  `signed_url`, which expires after MEDIA_SIGNED_URL_TTL seconds. On S3 that is a presigned URL (the bucket must not
  be publicly readable under `private/`); on other storages a URL of `tunee.media.serve_signed` on our origin,
  carrying a django.core.signing token of the name and the time.
- `public_url` is the plain absolute URL, for everything else (on our origin, or the CDN domain of the S3 storage).
"""

import secrets
import time

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix, get_urlconf, reverse

PRIVATE_PREFIX = "private/"
SIGNED_SALT = "tunee.storage.signed-media"


def file_token() -> str:
    """A fresh random 128-bit token for a stored file's name (32 hex digits)."""
    return secrets.token_hex(16)


def is_private(name: str) -> bool:
    return name.casefold().startswith(PRIVATE_PREFIX)


def typed_content(data: bytes, content_type: str) -> ContentFile:
    """File content that carries its (detected) type: the S3 storage uploads it with that ContentType."""
    content = ContentFile(data)
    content.content_type = content_type
    return content


def _absolute(url: str) -> str:
    if url.startswith(("http://", "https://")):
        return url
    return f"{settings.PUBLIC_BASE_URL}{url if url.startswith('/') else '/' + url}"


def public_url(name_or_file) -> str | None:
    """The absolute URL of a stored file, or None when there is none. A private file has no public URL."""
    name = getattr(name_or_file, "name", name_or_file)
    if not name:
        return None
    # Stored names never change (a fresh token per file) and the URLs of stable storages do not expire: lists of
    # songs ask for the same names over and over, so each process remembers them (bounded; cleared when full, and
    # when a setting changes). Checked against the storage object itself, read past its lazy wrapper.
    storage = object.__getattribute__(default_storage, "_wrapped")
    hit = _stable_urls.get(name)
    if hit is not None and hit[0] is storage:
        return hit[1]
    if is_private(name):
        return signed_url(name)
    url = _absolute(default_storage.url(name))
    storage = object.__getattribute__(default_storage, "_wrapped")  # set up by the call above if it was not
    if _urls_are_stable():
        if len(_stable_urls) >= _STABLE_URLS_MAX:
            _stable_urls.clear()
        _stable_urls[name] = (storage, url)
    return url


_stable_urls: dict[str, tuple[object, str]] = {}
_STABLE_URLS_MAX = 20_000


@receiver(setting_changed)
def _forget_urls(**kwargs) -> None:
    """PUBLIC_BASE_URL, MEDIA_URL, the storages…: any setting may change a URL (tests, mostly)."""
    _stable_urls.clear()
    _signed_prefixes.clear()


def _urls_are_stable() -> bool:
    """The local file storage, or S3 without query-string signatures: the same name always has the same URL."""
    if isinstance(default_storage, FileSystemStorage):
        return True
    s3 = _s3_storage()
    return s3 is not None and not s3.querystring_auth


def _s3_storage():
    try:
        from storages.backends.s3 import S3Storage
    except ImportError:  # django-storages is a dependency, but the local storage does not need it
        return None
    return default_storage if isinstance(default_storage, S3Storage) else None


def signed_url(name_or_file, *, ttl: int | None = None) -> str | None:
    """An absolute URL of a stored file that stops working `ttl` seconds from now (MEDIA_SIGNED_URL_TTL)."""
    name = getattr(name_or_file, "name", name_or_file)
    if not name:
        return None
    ttl = int(ttl if ttl is not None else settings.MEDIA_SIGNED_URL_TTL)
    s3 = _s3_storage()
    if s3 is not None:
        from storages.utils import clean_name

        # Presigned on the bucket's endpoint whatever AWS_QUERYSTRING_AUTH and AWS_S3_CUSTOM_DOMAIN say: those
        # shape the public URLs, and this one must expire.
        return s3.connection.meta.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": s3.bucket_name, "Key": s3._normalize_name(clean_name(name))},
            ExpiresIn=ttl,
        )
    # Not compressed: a name and a time are too short to gain from it, and zlib was half of the cost of a URL (a
    # member's list of songs signs one per song). `signed_name` reads compressed tokens as well.
    token = signing.dumps({"n": name, "e": int(time.time()) + ttl}, salt=SIGNED_SALT)
    return _absolute(_signed_prefix() + token)


_signed_prefixes: dict[tuple, str] = {}


def _signed_prefix() -> str:
    """`reverse("media-signed")` up to the token, worked out once per URL configuration and script prefix: a token's
    characters (URL-safe base64, `:`) are never quoted by `reverse`, so prefix + token is the URL it would give."""
    key = (get_script_prefix(), get_urlconf())
    prefix = _signed_prefixes.get(key)
    if prefix is None:
        mark = "0" * 8
        url = reverse("media-signed", kwargs={"token": mark})
        prefix = _signed_prefixes[key] = url[: -len(mark)]
    return prefix


def signed_name(token: str) -> str | None:
    """The storage name a `signed_url` token stands for, or None when it is forged or has expired."""
    try:
        value = signing.loads(token, salt=SIGNED_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("n"), str) or not isinstance(value.get("e"), int):
        return None
    if time.time() >= value["e"]:
        return None
    return value["n"]
