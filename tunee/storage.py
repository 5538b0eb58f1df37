"""Public URLs of stored files: absolute, on our own origin (or the CDN domain of the S3 storage)."""

from django.conf import settings
from django.core.files.storage import default_storage


def public_url(name_or_file) -> str | None:
    """The absolute URL of a stored file, or None when there is none."""
    name = getattr(name_or_file, "name", name_or_file)
    if not name:
        return None
    url = default_storage.url(name)
    if url.startswith(("http://", "https://")):
        return url
    return f"{settings.PUBLIC_BASE_URL}{url if url.startswith('/') else '/' + url}"
