"""Photos of works: checked for real, turned upright, stripped of every piece of metadata, re-encoded.

`photo_prepare(upload)` refuses anything that is not a decodable JPEG, PNG or WebP of at most
WORKS_IMAGE_MAX_BYTES bytes and WORKS_IMAGE_MAX_PIXELS pixels (the header's size is checked before a single pixel
is decoded, so a few bytes declaring a huge canvas — a decompression bomb — cost nothing). The photo that comes
out is a new JPEG made from the pixels alone: EXIF (GPS above all), XMP, IPTC, comments and text chunks do not
survive; colours in another profile (Display P3) are converted to sRGB first so that dropping the profile does
not shift them. The decoding and re-encoding are the shared sanitizer's (`tunee.images`), with these limits.
"""

import io

from django.conf import settings
from PIL import Image

from tunee.api.errors import ApiError, Code
from tunee.api.i18n import T
from tunee.images import CleanImage, ImageRefused, image_encode, image_sanitize

ALLOWED_FORMATS = {"JPEG", "MPO", "PNG", "WEBP"}  # MPO: the multi-picture JPEG that many phones write
JPEG_QUALITY = 88
THUMBNAIL_QUALITY = 80

MISSING = T("请上传一张照片", "Please upload a photo")
NOT_AN_IMAGE = T("无法识别这张图片，请上传 JPEG、PNG 或 WebP 格式的照片", "Not a readable JPEG, PNG or WebP image")
WRONG_FORMAT = T("只支持 JPEG、PNG 或 WebP 格式的照片", "Only JPEG, PNG and WebP photos are accepted")
TOO_LARGE = T("照片不能超过 {mb} MB", "The photo must be at most {mb} MB")
TOO_MANY_PIXELS = T("照片尺寸过大（最多 {mp} 百万像素）", "The photo has too many pixels (at most {mp} megapixels)")


class PhotoRefused(Exception):
    """The upload is not a photo we accept; `message` says why (bilingual)."""

    def __init__(self, message: T | str):
        self.message = message
        super().__init__(str(message))

    def as_api_error(self) -> ApiError:
        return ApiError(Code.WORK_CREATE_FAILED, details={"image": [str(self.message)]})


PreparedPhoto = CleanImage  # content, extension, content_type, width, height


def _megabytes(limit: int) -> str:
    return f"{limit / 1024 / 1024:g}"


def photo_prepare(upload) -> PreparedPhoto:
    """An uploaded file → a clean, upright JPEG. Raises PhotoRefused with the reason."""
    if upload is None:
        raise PhotoRefused(MISSING)
    max_bytes = settings.WORKS_IMAGE_MAX_BYTES
    if upload.size is None or upload.size > max_bytes:
        raise PhotoRefused(TOO_LARGE.format(mb=_megabytes(max_bytes)))
    if upload.size == 0:
        raise PhotoRefused(NOT_AN_IMAGE)
    max_pixels = settings.WORKS_IMAGE_MAX_PIXELS
    try:
        return image_sanitize(
            upload,
            max_pixels=max_pixels,
            formats=ALLOWED_FORMATS,
            max_side=settings.WORKS_IMAGE_MAX_SIDE,
            quality=JPEG_QUALITY,
        )
    except ImageRefused as exc:
        if exc.reason == ImageRefused.WRONG_FORMAT:
            raise PhotoRefused(WRONG_FORMAT) from None
        if exc.reason == ImageRefused.TOO_MANY_PIXELS:
            raise PhotoRefused(TOO_MANY_PIXELS.format(mp=f"{max_pixels / 1_000_000:g}")) from None
        raise PhotoRefused(NOT_AN_IMAGE) from None


def thumbnail_make(image_bytes: bytes) -> bytes:
    """A small JPEG of a stored (already clean) photo, at most WORKS_THUMBNAIL_SIZE pixels a side."""
    size = settings.WORKS_THUMBNAIL_SIZE
    with Image.open(io.BytesIO(image_bytes)) as image:
        image.draft("RGB", (size * 2, size * 2))  # JPEG: decode at a reduced scale
        thumb = image.convert("RGB")
        thumb.thumbnail((size, size), Image.Resampling.LANCZOS)
        return image_encode(thumb, quality=THUMBNAIL_QUALITY)
