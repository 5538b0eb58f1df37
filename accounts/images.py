"""Avatar images: decoded with Pillow, bounded, re-encoded without metadata (EXIF, GPS, ICC text chunks)."""

import io
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from PIL import Image, ImageOps, UnidentifiedImageError

from tunee.api.errors import ApiError, Code
from tunee.api.i18n import T

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
        upload.seek(0)
        with Image.open(upload) as probe:
            if probe.format not in ALLOWED_FORMATS:
                raise _refuse(NOT_AN_IMAGE)
            if probe.width * probe.height > MAX_PIXELS:
                raise _refuse(NOT_AN_IMAGE)
            probe.verify()
        upload.seek(0)
        with Image.open(upload) as image:
            image.load()
            image = ImageOps.exif_transpose(image)
            has_alpha = image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info)
            image = image.convert("RGBA" if has_alpha else "RGB")
            image.thumbnail((MAX_SIDE, MAX_SIDE))
            out = io.BytesIO()
            if has_alpha:
                image.save(out, format="PNG", optimize=True)
                extension = "png"
            else:
                image.save(out, format="JPEG", quality=88, optimize=True)
                extension = "jpg"
    except ApiError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise _refuse(NOT_AN_IMAGE) from None
    return ContentFile(out.getvalue(), name=f"{uuid.uuid4().hex}.{extension}")
