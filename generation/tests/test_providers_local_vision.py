"""The offline vision provider on synthetic photos: warm and bright vs dark and cool, and bytes that are no image."""

import io

import numpy as np
import pytest
from PIL import Image

from generation.providers import MusicRequest, ProviderRejected
from generation.providers.composition import compose
from generation.providers.local_vision import LocalVisionProvider
from generation.providers.vocabulary import MOODS, STYLES


def photo(top, bottom, *, size=(640, 480), fmt="JPEG", noise=12, mode="RGB") -> bytes:
    """A vertical gradient from `top` to `bottom` with some grain, encoded like an upload."""
    rng = np.random.default_rng(1)
    t = np.linspace(0, 1, size[1])[:, None, None]
    pixels = np.array(top) * (1 - t) + np.array(bottom) * t
    pixels = np.repeat(pixels, size[0], axis=1) + rng.normal(0, noise, (size[1], size[0], 3))
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB").convert(mode)
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


SUNSET = photo((255, 200, 90), (250, 120, 60))  # warm and bright
NIGHT = photo((10, 20, 60), (25, 35, 80))  # dark and cool


def test_a_warm_bright_photo_and_a_dark_cool_one_get_different_moods():
    vision = LocalVisionProvider()
    warm, dark = vision.describe(SUNSET, "image/jpeg"), vision.describe(NIGHT, "image/jpeg")
    assert warm.brightness > 0.6 > 0.2 > dark.brightness
    assert warm.warmth > 0.2 and dark.warmth < -0.05
    assert warm.mood in ("happy", "energetic") and dark.mood in ("sad", "dark")
    assert warm.mood in MOODS and dark.mood in MOODS and warm.style in STYLES and dark.style in STYLES
    for analysis in (warm, dark):
        assert all(len(c) == 7 and c.startswith("#") for c in analysis.palette) and analysis.palette
        assert analysis.title and 2 <= len(analysis.tags) <= 6
        assert "照片" in analysis.description and "主色调" in analysis.description
    assert "橙色" in warm.description and "蓝色" in dark.description
    assert 0 <= warm.saturation <= 1 and 0 <= dark.contrast <= 1


def test_the_same_photo_is_described_the_same_way():
    vision = LocalVisionProvider()
    assert vision.describe(SUNSET, "image/jpeg") == vision.describe(SUNSET, "image/jpeg")


def test_png_with_transparency_and_webp_are_read():
    vision = LocalVisionProvider()
    assert vision.describe(photo((120, 200, 120), (60, 160, 60), fmt="PNG", mode="RGBA"), "image/png").palette
    assert vision.describe(photo((120, 180, 240), (200, 230, 255), fmt="WEBP"), "image/webp").mood


@pytest.mark.parametrize(
    "data",
    [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, SUNSET[:200]],
    ids=["empty", "text", "png-header-only", "truncated-jpeg"],
)
def test_bytes_that_are_not_an_image_are_rejected_for_good(data):
    with pytest.raises(ProviderRejected) as caught:
        LocalVisionProvider().describe(data, "image/jpeg")
    assert caught.value.retryable is False and "图片" in caught.value.user_message


def test_the_photo_shapes_the_song_it_leads_to():
    vision = LocalVisionProvider()
    bright = compose(MusicRequest(image=vision.describe(SUNSET, "image/jpeg"), seed="x"))
    dark = compose(MusicRequest(image=vision.describe(NIGHT, "image/jpeg"), seed="x"))
    assert bright.mode in ("major", "lydian", "mixolydian") and dark.mode in ("minor", "harmonic_minor", "dorian")
    assert bright.tempo > dark.tempo
