"""The one image sanitizer: photos and avatars that people upload are decoded with a pixel bound, turned upright and
re-encoded from their pixels alone. No domain here: each caller passes its limits and maps `ImageRefused` to its
own message (avatars in `accounts/images.py`, photos of works in `works/images.py`, the vision step in
`generation/providers/imagestats.py`).

- `image_open`: the header is read first — its format must be one the caller accepts and its canvas within the
  caller's pixel bound, so a few bytes declaring a huge canvas (a decompression bomb) cost nothing; Pillow's own
  bomb warning is an error too. Then the file's structure is verified, every pixel decoded (a truncated or corrupt
  file fails here) and the image turned upright by its EXIF orientation.
- `image_flatten`: RGB pixels, transparency laid on white, colours in another ICC profile (Display P3) converted to
  sRGB so that dropping the profile does not shift them.
- `image_encode`: a new JPEG or PNG written from the pixels: EXIF (GPS above all), XMP, IPTC, comments, text
  chunks and ICC profiles do not survive.
- `image_sanitize`: the three in a row, with a bound on the longest side.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

JPEG_QUALITY = 88

# What Pillow raises on bytes that are not an image it can decode (UnidentifiedImageError is an OSError).
_UNREADABLE = (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, MemoryError)


class ImageRefused(Exception):
    """Not an image the caller accepts. `reason` is one of WRONG_FORMAT, TOO_MANY_PIXELS, UNREADABLE; `detail` is
    for logs."""

    WRONG_FORMAT = "wrong_format"
    TOO_MANY_PIXELS = "too_many_pixels"
    UNREADABLE = "unreadable"

    def __init__(self, reason: str, detail: str = ""):
        self.reason = reason
        self.detail = detail or reason
        super().__init__(self.detail)


@dataclass(frozen=True)
class CleanImage:
    content: bytes
    extension: str  # "jpg" or "png"
    content_type: str
    width: int
    height: int


def _as_file(source):
    return io.BytesIO(source) if isinstance(source, bytes | bytearray) else source


def image_open(
    source,
    *,
    max_pixels: int,
    formats: set[str] | frozenset[str] | None = None,
    verify: bool = True,
    draft_side: int | None = None,
) -> Image.Image:
    """Bytes or a file → a decoded, upright image; ImageRefused otherwise (see the module docstring).

    `formats`: Pillow format names accepted (None: any). `verify=False` skips the structure walk (for images only
    measured, never stored). `draft_side`: a JPEG may be decoded at a reduced scale, down to twice this side.
    """
    if isinstance(source, bytes | bytearray) and not source:
        raise ImageRefused(ImageRefused.UNREADABLE, "empty image")
    file = _as_file(source)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            if verify:
                file.seek(0)
                with Image.open(file) as probe:  # reads the header only
                    _check_header(probe, max_pixels=max_pixels, formats=formats)
                    probe.verify()  # walks the file's structure (PNG chunk CRCs, …) without decoding pixels
            file.seek(0)
            image = Image.open(file)
            if not verify:
                _check_header(image, max_pixels=max_pixels, formats=formats)
            if draft_side:
                image.draft("RGB", (draft_side * 2, draft_side * 2))
            image.load()  # decodes every pixel
            upright = ImageOps.exif_transpose(image)
            if upright is not image:
                image.close()
            return upright
    except ImageRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRefused(ImageRefused.TOO_MANY_PIXELS, f"decompression bomb: {exc}") from None
    except _UNREADABLE as exc:
        raise ImageRefused(ImageRefused.UNREADABLE, f"undecodable image: {exc}") from exc


def _check_header(image: Image.Image, *, max_pixels: int, formats) -> None:
    if formats is not None and image.format not in formats:
        raise ImageRefused(ImageRefused.WRONG_FORMAT, f"image format {image.format}")
    if image.width < 1 or image.height < 1 or image.width * image.height > max_pixels:
        raise ImageRefused(ImageRefused.TOO_MANY_PIXELS, f"image of {image.width}x{image.height} pixels")


def has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)


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


def image_flatten(image: Image.Image, *, keep_alpha: bool = False, srgb: bool = True) -> Image.Image:
    """RGB pixels (RGBA when `keep_alpha` and the image has transparency; else transparency is laid on white),
    converted to sRGB from their ICC profile when `srgb`."""
    icc = image.info.get("icc_profile")
    if has_alpha(image):
        rgba = image.convert("RGBA")
        if icc:
            rgba.info["icc_profile"] = icc
        rgba = _to_srgb(rgba) if srgb else rgba
        if keep_alpha:
            return rgba
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode == "CMYK":
        return image.convert("RGB")
    rgb = image.convert("RGB")
    if icc:
        rgb.info["icc_profile"] = icc
    return _to_srgb(rgb) if srgb else rgb


def image_encode(image: Image.Image, *, quality: int = JPEG_QUALITY, png: bool = False) -> bytes:
    """A new file from the pixels alone: no exif=, icc_profile= or comment= arguments, and the image's own `info`
    (which Pillow would write back: a JPEG comment, an ICC profile) is emptied first, so no metadata survives."""
    image.info = {}
    out = io.BytesIO()
    if png:
        image.save(out, format="PNG", optimize=True)
    else:
        image.save(out, format="JPEG", quality=quality, optimize=True, progressive=True)
    return out.getvalue()


def image_sanitize(
    source,
    *,
    max_pixels: int,
    formats: set[str] | frozenset[str],
    max_side: int,
    keep_alpha: bool = False,
    quality: int = JPEG_QUALITY,
) -> CleanImage:
    """An upload → a clean, upright JPEG (a PNG when `keep_alpha` and it has transparency), at most `max_side`
    pixels a side. Raises ImageRefused."""
    try:
        with image_open(source, max_pixels=max_pixels, formats=formats) as image:
            clean = image_flatten(image, keep_alpha=keep_alpha)
        if max(clean.size) > max_side:
            clean.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        png = clean.mode == "RGBA"
        content = image_encode(clean, quality=quality, png=png)
    except ImageRefused:
        raise
    except _UNREADABLE as exc:
        raise ImageRefused(ImageRefused.UNREADABLE, f"undecodable image: {exc}") from exc
    return CleanImage(
        content=content,
        extension="png" if png else "jpg",
        content_type="image/png" if png else "image/jpeg",
        width=clean.width,
        height=clean.height,
    )
