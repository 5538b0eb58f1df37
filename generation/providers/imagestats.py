"""Measuring a photo from its pixels (Pillow + numpy), shared by both vision providers.

`decode_image` turns upload bytes into a small RGB image or raises ProviderRejected; `measure` gives the palette
and the four numbers the music is composed from (brightness, warmth, saturation, contrast).
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import numpy as np
from PIL import Image

from tunee.api.i18n import T
from tunee.images import ImageRefused, image_encode, image_flatten, image_open

from .base import ProviderRejected

NOT_AN_IMAGE = T(
    "无法识别这张图片，请上传 JPEG、PNG 或 WebP 格式的照片", "This is not a readable image (JPEG, PNG or WebP)"
)

# Larger than any phone photo (a 200-megapixel sensor), small enough that a crafted header cannot eat the memory.
MAX_PIXELS = 200_000_000
ANALYSIS_SIZE = 256


@dataclass(frozen=True)
class PixelStats:
    palette: tuple[str, ...]
    brightness: float
    warmth: float
    saturation: float
    contrast: float
    hues: tuple[float | None, ...]  # hue (0..1) of each palette colour, None for greys
    lightness: tuple[float, ...]  # lightness (0..1) of each palette colour
    shares: tuple[float, ...]  # fraction of the picture each palette colour covers


def decode_image(image_bytes: bytes, *, max_side: int = ANALYSIS_SIZE) -> Image.Image:
    """The photo as an RGB image no larger than `max_side`, upright (EXIF orientation applied), decoded by the shared
    sanitizer (`tunee.images`) within MAX_PIXELS."""
    try:
        image = image_open(image_bytes, max_pixels=MAX_PIXELS, verify=False, draft_side=max_side)
    except ImageRefused as exc:
        raise ProviderRejected(NOT_AN_IMAGE, detail=exc.detail) from exc
    image.thumbnail((max_side, max_side))
    return image_flatten(image, srgb=False)


def measure(image: Image.Image, *, colors: int = 5) -> PixelStats:
    """Palette (most used first) and brightness / warmth / saturation / contrast of an RGB image."""
    rgb = np.asarray(image, dtype=np.float32) / 255.0
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    luma = 0.299 * r + 0.587 * g + 0.114 * b
    high, low = rgb.max(axis=2), rgb.min(axis=2)
    saturation = np.where(high > 0, (high - low) / np.maximum(high, 1e-6), 0.0)

    quantized = image.quantize(colors=colors, method=Image.Quantize.MEDIANCUT)
    counts = sorted(((count, index) for count, index in quantized.getcolors(colors) or []), key=lambda c: (-c[0], c[1]))
    raw_palette = quantized.getpalette() or []
    total = sum(count for count, _ in counts) or 1
    palette, hues, lightness, shares = [], [], [], []
    for count, index in counts:
        cr, cg, cb = raw_palette[index * 3 : index * 3 + 3]
        palette.append(f"#{cr:02x}{cg:02x}{cb:02x}")
        h, light, s = colorsys.rgb_to_hls(cr / 255, cg / 255, cb / 255)
        hues.append(h if s > 0.18 and 0.08 < light < 0.92 else None)
        lightness.append(round(light, 3))
        shares.append(round(count / total, 3))

    return PixelStats(
        palette=tuple(palette),
        brightness=round(float(luma.mean()), 3),
        warmth=round(float(np.clip((r.mean() - b.mean()) * 2.0, -1.0, 1.0)), 3),
        saturation=round(float(saturation.mean()), 3),
        contrast=round(float(np.clip(luma.std() / 0.3, 0.0, 1.0)), 3),
        hues=tuple(hues),
        lightness=tuple(lightness),
        shares=tuple(shares),
    )


def to_jpeg(image: Image.Image, *, quality: int = 85) -> bytes:
    """The decoded photo as a new JPEG without metadata (what the vision model is shown)."""
    return image_encode(image, quality=quality)
