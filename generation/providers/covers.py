"""Song covers drawn with Pillow: a gradient and soft shapes in the song's palette, rings like a record's grooves,
and the title (Chinese included) in Noto Sans CJK from the `mplfonts` package. Without that font the cover is
drawn without text rather than with empty boxes (Pillow's built-in font has no Chinese glyphs)."""

from __future__ import annotations

import colorsys
import io
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

COVER_SIZE = 800
SMOOTH_SCALE = 4  # the smooth layers are drawn at 1/SMOOTH_SCALE of the size
BAND_BLUR = 6  # px: the soft edge of the title band
FONT_FILE = "NotoSansCJKsc-Regular.otf"

MOOD_PALETTES = {
    "happy": ("#ffb347", "#ff6f61", "#ffcc33", "#fff3b0"),
    "energetic": ("#ff006e", "#3a86ff", "#fb5607", "#ffbe0b"),
    "calm": ("#457b9d", "#a8dadc", "#f1faee", "#1d3557"),
    "sad": ("#2b2d42", "#8d99ae", "#5c677d", "#d6e2f0"),
    "dark": ("#0b090a", "#6a0572", "#3c1642", "#ab83a1"),
    "romantic": ("#fb6f92", "#6d2e46", "#ffc2d1", "#ff8fab"),
    "nostalgic": ("#d4a373", "#6b4f3a", "#ccd5ae", "#e9edc9"),
    "dreamy": ("#3d348b", "#cdb4db", "#a2d2ff", "#ffc8dd"),
    "epic": ("#14213d", "#fca311", "#e5e5e5", "#000000"),
}


@lru_cache(maxsize=1)
def cjk_font_path() -> Path | None:
    """Where mplfonts installed Noto Sans CJK SC, or None when the package or the file is missing."""
    try:
        path = resources.files("mplfonts").joinpath("fonts", FONT_FILE)
    except (ModuleNotFoundError, TypeError):
        return None
    path = Path(str(path))
    return path if path.is_file() else None


@lru_cache(maxsize=16)
def cjk_font(size: int) -> ImageFont.FreeTypeFont | None:
    path = cjk_font_path()
    if path is None:
        return None
    try:
        return ImageFont.truetype(str(path), size)
    except OSError:
        return None


def _rgb(color: str) -> tuple[int, int, int]:
    color = color.lstrip("#")
    return int(color[0:2], 16), int(color[2:4], 16), int(color[4:6], 16)


def _shift(rgb: tuple[int, int, int], hue: float, lightness: float = 0.0) -> tuple[int, int, int]:
    h, light, s = colorsys.rgb_to_hls(*(v / 255 for v in rgb))
    r, g, b = colorsys.hls_to_rgb((h + hue) % 1.0, min(1.0, max(0.0, light + lightness)), s)
    return round(r * 255), round(g * 255), round(b * 255)


def cover_palette(palette: Sequence[str] | None, mood: str, rng: np.random.Generator) -> list[tuple[int, int, int]]:
    """The photo's palette when there is one, else the mood's, nudged a little by the song's seed."""
    if palette:
        colors = [_rgb(c) for c in palette if isinstance(c, str) and len(c.lstrip("#")) == 6]
        if colors:
            while len(colors) < 3:
                colors.append(_shift(colors[-1], 0.08, 0.15))
            return colors
    base = MOOD_PALETTES.get(mood, MOOD_PALETTES["happy"])
    nudge = float(rng.uniform(-0.04, 0.04))
    return [_shift(_rgb(c), nudge) for c in base]


def _fit_lines(draw: ImageDraw.ImageDraw, text: str, max_width: int) -> tuple[list[str], ImageFont.FreeTypeFont] | None:
    """The title in at most two lines of the largest size (from 76 px down to 40 px) that fits."""
    for size in range(76, 39, -4):
        font = cjk_font(size)
        if font is None:
            return None
        if draw.textlength(text, font=font) <= max_width:
            return [text], font
    font = cjk_font(40)
    lines, line = [], ""
    for ch in text:
        if draw.textlength(line + ch, font=font) > max_width:
            lines.append(line)
            line = ch
            if len(lines) == 2:
                break
        else:
            line += ch
    if len(lines) < 2 and line:
        lines.append(line)
    if len("".join(lines)) < len(text):
        lines[-1] = lines[-1][:-1] + "…"
    return lines, font


def draw_cover(
    *,
    title: str | None,
    palette: Sequence[str] | None,
    mood: str,
    seed: int,
    subtitle: str = "",
    size: int = COVER_SIZE,
) -> bytes:
    """A square JPEG cover. The same arguments always give the same bytes."""
    rng = np.random.default_rng(seed & 0xFFFFFFFF)
    colors = cover_palette(palette, mood, rng)
    first = np.array(colors[0], dtype=np.float32)
    second = np.array(
        max(colors[1:], key=lambda c: sum(abs(a - b) for a, b in zip(c, colors[0], strict=True))), dtype=np.float32
    )

    # Smooth layers (the gradient, the blurred blobs) are drawn at a quarter of the size and scaled up: they hold no
    # detail a quarter-size image would lose, and this keeps the whole cover to a few hundredths of a second.
    small = max(1, size // SMOOTH_SCALE)

    # diagonal gradient
    axis = np.linspace(0, 1, small, dtype=np.float32)
    angle = float(rng.uniform(0.2, 0.8))
    t = np.clip(angle * axis[None, :] + (1 - angle) * axis[:, None], 0, 1) ** 1.2
    pixels = first[None, None, :] * (1 - t[..., None]) + second[None, None, :] * t[..., None]
    gradient = Image.fromarray(pixels.astype(np.uint8), "RGB").convert("RGBA")

    # soft blobs of the other colours
    blobs = Image.new("RGBA", (small, small), (0, 0, 0, 0))
    draw = ImageDraw.Draw(blobs)
    for i in range(5):
        color = colors[(i + 2) % len(colors)]
        radius = int(rng.uniform(0.12, 0.3) * small)
        x, y = (int(v) for v in rng.uniform(0.1, 0.9, 2) * small)
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=(*color, 150))
    layers = Image.alpha_composite(gradient, blobs.filter(ImageFilter.GaussianBlur(max(1, small // 14))))
    image = layers.resize((size, size), Image.Resampling.BILINEAR)

    # rings, like the grooves of a record
    rings = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(rings)
    cx, cy = (int(v) for v in rng.uniform(0.3, 0.7, 2) * size * np.array([1.0, 0.8]))
    for i in range(int(rng.integers(6, 11))):
        radius = int(size * (0.08 + 0.055 * i))
        draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), outline=(255, 255, 255, 70 - 5 * i), width=3)
    image = Image.alpha_composite(image, rings)

    if title and cjk_font_path() is not None:
        image = _draw_title(image, title, subtitle, size)

    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=88)
    return out.getvalue()


def _draw_title(image: Image.Image, title: str, subtitle: str, size: int) -> Image.Image:
    band = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(band)
    margin = size // 14
    fitted = _fit_lines(draw, title.strip(), size - 2 * margin)
    if fitted is None:
        return image
    lines, font = fitted
    line_height = int(font.size * 1.25)
    sub_font = cjk_font(max(20, size // 32))
    block = line_height * len(lines) + (int(sub_font.size * 1.8) if subtitle and sub_font else 0)
    top = size - margin - block
    draw.rectangle((0, top - margin // 2, size, size), fill=(0, 0, 0, 90))
    # Only the rows around the band are blurred (above them the band layer is transparent, and stays so).
    strip_top = max(0, top - margin // 2 - 8 * BAND_BLUR)
    strip = band.crop((0, strip_top, size, size)).filter(ImageFilter.GaussianBlur(BAND_BLUR))
    image.alpha_composite(strip, (0, strip_top))
    draw = ImageDraw.Draw(image)
    y = top
    for line in lines:
        draw.text((margin + 2, y + 3), line, font=font, fill=(0, 0, 0, 120))
        draw.text((margin, y), line, font=font, fill=(255, 255, 255, 255))
        y += line_height
    if subtitle and sub_font:
        draw.text((margin, y + sub_font.size * 0.4), subtitle, font=sub_font, fill=(255, 255, 255, 210))
    return image
