"""Works for tests: real photos made with Pillow, works with finished songs, a real short MP3."""

import io
import struct
import zlib
from functools import cache

import factory
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from accounts.tests.factories import UserFactory
from generation.models import Generation
from generation.tests.factories import GenerationFactory
from works.models import Work


def jpeg_bytes(size=(64, 48), color=(220, 140, 60), exif=None) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, color)
    image.paste((30, 60, 200), (0, 0, size[0] // 2, size[1] // 4))  # not uniform: orientation is visible
    image.save(out, format="JPEG", quality=90, **({"exif": exif} if exif is not None else {}))
    return out.getvalue()


def gps_exif(orientation: int = 6) -> Image.Exif:
    """EXIF with a camera, an orientation, a comment and a GPS position (Beijing) in the GPS IFD (0x8825)."""
    exif = Image.Exif()
    exif[0x010F] = "TestCam"  # Make
    exif[0x0110] = "Model X"  # Model
    exif[0x0112] = orientation  # Orientation: 6 = turn 90° clockwise to view
    exif[0x9286] = "secret comment"  # UserComment
    exif[0x8825] = {
        1: "N",
        2: (39.0, 54.0, 27.0),
        3: "E",
        4: (116.0, 23.0, 30.0),
    }
    return exif


def png_bytes(size=(40, 30), mode="RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (10, 200, 120, 128) if mode == "RGBA" else (10, 200, 120)).save(out, format="PNG")
    return out.getvalue()


def webp_bytes(size=(40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (90, 20, 160)).save(out, format="WEBP")
    return out.getvalue()


def gif_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 20), (255, 0, 0)).save(out, format="GIF")
    return out.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A tiny, well-formed PNG whose header declares `width` x `height` pixels: a decompression bomb's shape."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def upload(content: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


@cache
def mp3_bytes(seconds: float = 1.0) -> bytes:
    """A real, decodable MP3 (a sine tone) for players and browsers."""
    import math

    import lameenc

    rate = 22050
    samples = bytearray()
    for n in range(int(rate * seconds)):
        samples += struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * n / rate)))
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(64)
    encoder.set_in_sample_rate(rate)
    encoder.set_channels(1)
    encoder.set_quality(7)
    return bytes(encoder.encode(bytes(samples)) + encoder.flush())


class WorkFactory(factory.django.DjangoModelFactory):
    """A work whose generation is pending (as right after the upload). `completed_work()` finishes it."""

    class Meta:
        model = Work

    creator = factory.SubFactory(UserFactory)
    generation = factory.LazyAttribute(
        lambda o: GenerationFactory(user=o.creator, source=Generation.Source.WORK, prompt="")
    )
    title = factory.Sequence(lambda n: f"作品 {n}")
    description = "海边的傍晚"
    style = "pop"
    image = factory.LazyFunction(lambda: ContentFile(jpeg_bytes(), name="photo.jpg"))
    processed_at = factory.LazyFunction(timezone.now)


def complete(work: Work, *, audio: bytes | None = None, title: str = "晴天") -> Work:
    """Finish a work's song as the pipeline does: stored files, status completed, and the generation app's
    "finished" hook (services.notify_finished: the owner is told, and caches keyed by finished generations move)."""
    from generation.services import notify_finished

    generation = work.generation
    generation.audio.save("song.mp3", ContentFile(audio or mp3_bytes()), save=False)
    generation.audio_hq.save("song.mp3", ContentFile(audio or mp3_bytes()), save=False)
    generation.cover.save("cover.jpg", ContentFile(jpeg_bytes((32, 32))), save=False)
    generation.result_title = title
    generation.result_duration = 1.0
    generation.status = Generation.Status.COMPLETED
    generation.started_at = generation.started_at or timezone.now()
    generation.completed_at = timezone.now()
    generation.save()
    notify_finished(generation=generation, outcome=Generation.Status.COMPLETED, title=title, at=generation.completed_at)
    return work


def completed_work(**kwargs) -> Work:
    tags = kwargs.pop("tags", None)
    work = complete(WorkFactory(**kwargs))
    if tags:
        from works.services import work_update

        work_update(work=work, tags=tags)
    return work
