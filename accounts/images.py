"""Avatar images: decoded with Pillow, bounded, re-encoded without metadata (EXIF, GPS, ICC text chunks), by the
shared sanitizer (`tunee.images`) with the avatar's limits."""

import uuid

from django.conf import settings
from django.core.files.base import ContentFile

from tunee.api.errors import ApiError, Code
from tunee.api.i18n import T
from tunee.images import ImageRefused, image_sanitize

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
MAX_SIDE = 1024
MAX_PIXELS = 40_000_000  # refuse decompression bombs before decoding
# Room beside the avatar in a request body: the other form fields (username, email, password, settings, device)
# and the multipart framing. They are a few hundred bytes; a body declared larger than this plus the avatar limit
# cannot be a valid request.
MULTIPART_SLACK = 64 * 1024

NOT_AN_IMAGE = T("头像必须是 JPEG、PNG、WebP 或 GIF 图片", "The avatar must be a JPEG, PNG, WebP or GIF image")
TOO_LARGE = T("头像不能超过 {mb} MB", "The avatar must be at most {mb} MB")


def _refuse(message) -> ApiError:
    return ApiError(Code.VALIDATION, details={"avatar": [str(message)]})


def avatar_refuse_declared_length(content_length: str | None) -> None:
    """Refuse a request body whose declared `Content-Length` cannot hold a valid avatar, before anything of it is
    read: nobody waits for (or spools to disk) 100 MB only to be told the limit is 5 MB."""
    declared = (content_length or "").strip()
    if declared.isdigit() and int(declared) > settings.AVATAR_MAX_BYTES + MULTIPART_SLACK:
        raise _refuse(TOO_LARGE.format(mb=round(settings.AVATAR_MAX_BYTES / 1024 / 1024, 1)))


def avatar_reencode(upload) -> ContentFile:
    """An uploaded file → a fresh JPEG (or PNG when it has transparency), at most 1024 px a side, no metadata."""
    limit = settings.AVATAR_MAX_BYTES
    if upload.size is None or upload.size > limit:
        raise _refuse(TOO_LARGE.format(mb=round(limit / 1024 / 1024, 1)))
    try:
        image = image_sanitize(
            upload, max_pixels=MAX_PIXELS, formats=ALLOWED_FORMATS, max_side=MAX_SIDE, keep_alpha=True
        )
    except ImageRefused:
        raise _refuse(NOT_AN_IMAGE) from None
    return ContentFile(image.content, name=f"{uuid.uuid4().hex}.{image.extension}")
