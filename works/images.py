"""Photos of works: checked for real, turned upright, stripped of every piece of metadata, re-encoded.

`photo_prepare(upload)` refuses anything that is not a decodable JPEG, PNG or WebP of at most
WORKS_IMAGE_MAX_BYTES bytes and WORKS_IMAGE_MAX_PIXELS pixels (the header's size is checked before a single pixel
is decoded, so a few bytes declaring a huge canvas — a decompression bomb — cost nothing). The photo that comes
out is a new JPEG made from the pixels alone: EXIF (GPS above all), XMP, IPTC, comments and text chunks do not
survive; colours in another profile (Display P3) are converted to sRGB first so that dropping the profile does
not shift them.
"""

import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from tunee.api.errors import ApiError, Code
from tunee.api.i18n import T

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


@dataclass(frozen=True)
class PreparedPhoto:
    content: bytes
    extension: str
    content_type: str
    width: int
    height: int


def _megabytes(limit: int) -> str:
    return f"{limit / 1024 / 1024:g}"


def _to_srgb(image: Image.Image) -> Image.Image:
    """Convert pixels tagged with an ICC profile to sRGB, so that the untagged output looks the same."""
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode=image.mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image  # a broken profile: keep the pixels as they are


def _flatten(image: Image.Image) -> Image.Image:
    """RGB pixels; transparency is laid on white."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        rgba = _to_srgb(rgba)
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode == "CMYK":
        return image.convert("RGB")
    rgb = image.convert("RGB")
    if "icc_profile" in image.info:
        rgb.info["icc_profile"] = image.info["icc_profile"]
    return _to_srgb(rgb)


def _encode_jpeg(image: Image.Image, *, quality: int) -> bytes:
    out = io.BytesIO()
    # No exif=, icc_profile= or comment= arguments: the new file carries the pixels and nothing else.
    image.save(out, format="JPEG", quality=quality, optimize=True, progressive=True)
    return out.getvalue()


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
        with warnings.catch_warnings():
            # Pillow's own bomb check warns above Image.MAX_IMAGE_PIXELS: here that is an error too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            upload.seek(0)
            with Image.open(upload) as probe:  # reads the header only
                if probe.format not in ALLOWED_FORMATS:
                    raise PhotoRefused(WRONG_FORMAT)
                if probe.width < 1 or probe.height < 1 or probe.width * probe.height > max_pixels:
                    raise PhotoRefused(TOO_MANY_PIXELS.format(mp=f"{max_pixels / 1_000_000:g}"))
                probe.verify()  # walks the file's structure (PNG chunk CRCs, …) without decoding pixels
            upload.seek(0)
            with Image.open(upload) as image:
                image.load()  # decodes every pixel: a truncated or corrupt file fails here
                upright = ImageOps.exif_transpose(image)
                photo = _flatten(upright)
        side = settings.WORKS_IMAGE_MAX_SIDE
        if max(photo.size) > side:
            photo.thumbnail((side, side), Image.Resampling.LANCZOS)
        content = _encode_jpeg(photo, quality=JPEG_QUALITY)
    except PhotoRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRefused(TOO_MANY_PIXELS.format(mp=f"{max_pixels / 1_000_000:g}")) from None
    except (
        UnidentifiedImageError,
        OSError,
        ValueError,
        SyntaxError,
        EOFError,
        MemoryError,
    ):
        raise PhotoRefused(NOT_AN_IMAGE) from None
    return PreparedPhoto(
        content=content, extension="jpg", content_type="image/jpeg", width=photo.width, height=photo.height
    )


def thumbnail_make(image_bytes: bytes) -> bytes:
    """A small JPEG of a stored (already clean) photo, at most WORKS_THUMBNAIL_SIZE pixels a side."""
    size = settings.WORKS_THUMBNAIL_SIZE
    with Image.open(io.BytesIO(image_bytes)) as image:
        image.draft("RGB", (size * 2, size * 2))  # JPEG: decode at a reduced scale
        thumb = image.convert("RGB")
        thumb.thumbnail((size, size), Image.Resampling.LANCZOS)
        return _encode_jpeg(thumb, quality=THUMBNAIL_QUALITY)
