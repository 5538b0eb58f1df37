"""The one image sanitizer: a pixel bound before decoding, upright, no metadata, re-encoded; limits from the caller."""

import io

import pytest
from PIL import Image

from tunee.images import ImageRefused, image_open, image_sanitize

FORMATS = {"JPEG", "PNG"}


def jpeg(size=(40, 20), *, orientation=None, color=(200, 30, 30)) -> bytes:
    image = Image.new("RGB", size, color)
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    if orientation:
        exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes(), comment=b"where I live")
    return out.getvalue()


def png(size=(10, 10), *, alpha=False) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA" if alpha else "RGB", size, (0, 0, 255, 0) if alpha else (0, 0, 255)).save(out, format="PNG")
    return out.getvalue()


def test_upright_and_no_metadata():
    clean = image_sanitize(jpeg(orientation=6), max_pixels=10_000, formats=FORMATS, max_side=1000)
    with Image.open(io.BytesIO(clean.content)) as image:
        assert image.format == "JPEG" and image.size == (20, 40)  # rotated by its orientation
        assert not image.getexif() and "comment" not in image.info and "exif" not in image.info
    assert (clean.width, clean.height, clean.extension, clean.content_type) == (20, 40, "jpg", "image/jpeg")


def test_the_pixel_bound_is_the_callers():
    data = jpeg((100, 100))
    image_sanitize(data, max_pixels=10_000, formats=FORMATS, max_side=1000)
    with pytest.raises(ImageRefused) as refused:
        image_sanitize(data, max_pixels=9_999, formats=FORMATS, max_side=1000)
    assert refused.value.reason == ImageRefused.TOO_MANY_PIXELS


def test_longest_side_bounded():
    clean = image_sanitize(jpeg((400, 100)), max_pixels=10**6, formats=FORMATS, max_side=200)
    assert (clean.width, clean.height) == (200, 50)


def test_transparency_kept_only_when_asked():
    kept = image_sanitize(png(alpha=True), max_pixels=10**6, formats=FORMATS, max_side=100, keep_alpha=True)
    flat = image_sanitize(png(alpha=True), max_pixels=10**6, formats=FORMATS, max_side=100)
    assert (kept.extension, flat.extension) == ("png", "jpg")
    with Image.open(io.BytesIO(flat.content)) as image:
        assert image.getpixel((0, 0)) == pytest.approx((255, 255, 255), abs=3)  # laid on white


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (png(), ImageRefused.WRONG_FORMAT),
        (b"not an image", ImageRefused.UNREADABLE),
        (jpeg()[:200], ImageRefused.UNREADABLE),
        (b"", ImageRefused.UNREADABLE),
    ],
)
def test_refusals_say_why(data, reason):
    with pytest.raises(ImageRefused) as refused:
        image_sanitize(data, max_pixels=10**6, formats={"JPEG"}, max_side=100)
    assert refused.value.reason == reason


def test_a_huge_declared_canvas_is_refused_from_its_header():
    out = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(out, format="PNG")  # 400 megapixels in a few kilobytes
    with pytest.raises(ImageRefused) as refused:
        image_open(out.getvalue(), max_pixels=10**9, verify=False)
    assert refused.value.reason == ImageRefused.TOO_MANY_PIXELS  # Pillow's bomb warning is an error too


def test_no_icc_profile_survives_in_a_png_either():
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    Image.new("RGBA", (8, 8), (10, 20, 30, 128)).save(out, format="PNG", icc_profile=icc)
    clean = image_sanitize(out.getvalue(), max_pixels=10**6, formats=FORMATS, max_side=100, keep_alpha=True)
    with Image.open(io.BytesIO(clean.content)) as image:
        assert image.format == "PNG" and image.mode == "RGBA" and "icc_profile" not in image.info
