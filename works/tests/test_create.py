"""POST /api/works: the photo is checked for real and cleaned; refusals charge nothing; processing fills blanks."""

import io

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from generation.models import Generation
from membership.models import Charge
from membership.selectors import quota_status
from works import services
from works.images import NOT_AN_IMAGE, TOO_MANY_PIXELS, WRONG_FORMAT
from works.models import Work
from works.tasks import work_process

from .factories import (
    gif_bytes,
    gps_exif,
    jpeg_bytes,
    png_bytes,
    png_declaring,
    upload,
    webp_bytes,
)
from .helpers import body, stored_files

pytestmark = pytest.mark.django_db


def post_work(client, image: bytes | None = None, name="photo.jpg", content_type="image/jpeg", **fields):
    data = dict(fields)
    if image is not None:
        data["image"] = upload(image, name, content_type)
    return client.post("/api/works", data, format="multipart")


def assert_nothing_charged(user):
    assert Work.objects.count() == 0
    assert Generation.objects.count() == 0
    assert Charge.objects.count() == 0
    assert quota_status(user=user).used == 0
    assert stored_files() == []


def test_upload_creates_a_pending_work_charged_once_and_enqueued_on_commit(
    auth_api, user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post_work(
            auth_api, jpeg_bytes(), title="海边", description="夏天的海", style="pop", tags="海边, 夏天"
        )

    data = body(response, 201)["data"]
    assert data["status"] == "pending"
    assert data["title"] == "海边"
    assert data["description"] == "夏天的海"
    assert data["style"] == "pop"
    assert data["tags"] == ["海边", "夏天"]
    assert data["audioUrl"] is None and data["coverUrl"] is None
    assert data["creator"]["id"] == str(user.pk)
    assert data["imageUrl"].startswith("http://testserver/media/works/")
    assert data["plays"] == 0 and data["likes"] == 0 and data["liked"] is False
    assert data["visibility"] == "public"
    work = Work.objects.get(pk=data["id"])
    generation = work.generation
    assert str(generation.pk) == data["generationId"]
    assert generation.source == Generation.Source.WORK
    assert generation.image == work.image.name
    assert generation.prompt == "夏天的海" and generation.title == "海边" and generation.tags == ["海边", "夏天"]
    assert generation.status == Generation.Status.PENDING
    assert Charge.objects.filter(user=user).count() == 1
    assert quota_status(user=user).used == 1
    # Only the works job is enqueued: the song starts once the photo was described.
    assert len(callbacks) == 1


def test_upload_strips_every_piece_of_metadata_and_applies_the_orientation(auth_api):
    original = jpeg_bytes(size=(64, 48), exif=gps_exif(orientation=6))
    with Image.open(io.BytesIO(original)) as check:  # the test photo really carries GPS
        assert check.getexif().get_ifd(0x8825)[2] == (39.0, 54.0, 27.0)

    data = body(post_work(auth_api, original), 201)["data"]

    work = Work.objects.get(pk=data["id"])
    with default_storage.open(work.image.name, "rb") as handle:
        stored = handle.read()
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "JPEG"
        assert image.size == (48, 64)  # turned upright (orientation 6), no orientation tag needed any more
        exif = image.getexif()
        assert len(exif) == 0
        assert exif.get_ifd(0x8825) == {}
        assert "exif" not in image.info and "icc_profile" not in image.info and "comment" not in image.info
    for needle in (b"TestCam", b"Model X", b"secret comment", b"Exif\x00\x00"):
        assert needle not in stored


@pytest.mark.parametrize(
    ("content", "name", "content_type"),
    [
        (png_bytes(), "photo.png", "image/png"),
        (png_bytes(mode="RGB"), "photo.png", "image/png"),
        (webp_bytes(), "photo.webp", "image/webp"),
    ],
    ids=["png-with-alpha", "png", "webp"],
)
def test_png_and_webp_are_accepted_and_stored_as_jpeg(auth_api, content, name, content_type):
    data = body(post_work(auth_api, content, name, content_type), 201)["data"]
    work = Work.objects.get(pk=data["id"])
    assert work.image.name.endswith(".jpg")
    with default_storage.open(work.image.name, "rb") as handle, Image.open(handle) as image:
        assert image.format == "JPEG" and image.mode == "RGB"


@pytest.mark.parametrize(
    ("content", "name", "content_type", "reason"),
    [
        (b"this is not an image at all", "photo.jpg", "image/jpeg", NOT_AN_IMAGE),
        (b"", "photo.jpg", "image/jpeg", None),  # DRF's own "empty file" message
        (gif_bytes(), "photo.gif", "image/gif", WRONG_FORMAT),
        (jpeg_bytes()[:200], "photo.jpg", "image/jpeg", NOT_AN_IMAGE),  # a truncated JPEG: the pixels are missing
        (png_declaring(30000, 30000), "bomb.png", "image/png", TOO_MANY_PIXELS),  # 900 MP declared in a few bytes
        (png_declaring(8000, 8000), "big.png", "image/png", TOO_MANY_PIXELS),  # 64 MP: under Pillow's limit, over ours
    ],
    ids=["garbage", "empty", "gif", "truncated", "bomb", "too-many-pixels"],
)
def test_bad_images_are_refused_with_30001_and_nothing_charged(
    auth_api, user, content, name, content_type, reason, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        payload = body(post_work(auth_api, content, name, content_type, title="x"), 400, 30001)

    # Refused for the right reason: a bomb is caught by its declared size, not by failing to decode it.
    assert payload["details"]["image"][0].startswith(reason.zh.split("{")[0] if reason else "")
    assert payload["details"]["image"][0]
    assert payload["data"] is None
    assert callbacks == []
    assert_nothing_charged(user)


def test_a_real_photo_over_the_pixel_limit_is_refused_and_one_at_the_limit_accepted(auth_api, user, settings):
    # A decodable PNG that compresses to almost nothing: without the pixel bound it would be decoded and accepted.
    settings.WORKS_IMAGE_MAX_PIXELS = 1_000_000
    big = png_bytes(size=(1001, 1000), mode="RGB")
    assert len(big) < 20_000

    payload = body(post_work(auth_api, big, "big.png", "image/png"), 400, 30001)

    assert payload["details"]["image"] == ["照片尺寸过大（最多 1 百万像素）"]
    assert_nothing_charged(user)
    body(post_work(auth_api, png_bytes(size=(1000, 1000), mode="RGB"), "ok.png", "image/png"), 201)


def test_a_photo_over_10_mb_is_refused_with_30001_and_nothing_charged(auth_api, user, settings):
    padded = jpeg_bytes() + b"\0" * (settings.WORKS_IMAGE_MAX_BYTES + 1)  # a valid JPEG, too many bytes

    payload = body(post_work(auth_api, padded), 400, 30001)

    assert "10 MB" in payload["details"]["image"][0]
    assert_nothing_charged(user)


def test_a_huge_body_is_refused_before_it_is_read(auth_api, user, settings):
    huge = b"\xff\xd8" + b"\0" * (settings.WORKS_IMAGE_MAX_BYTES * 2)

    payload = body(post_work(auth_api, huge), 400, 30001)

    assert payload["details"]["image"]
    assert_nothing_charged(user)


def test_missing_image_and_invalid_fields_are_30001(auth_api, user):
    missing = body(post_work(auth_api, None, title="no photo"), 400, 30001)
    assert "image" in missing["details"]

    too_long = body(post_work(auth_api, jpeg_bytes(), title="长" * 101), 400, 30001)
    assert "title" in too_long["details"]
    assert_nothing_charged(user)


def test_anonymous_upload_is_401_and_creates_nothing(api):
    body(post_work(api, jpeg_bytes()), 401, 401)
    assert Work.objects.count() == 0 and Generation.objects.count() == 0


def test_quota_used_up_is_40004_and_nothing_is_created_nor_stored(auth_api, user):
    for _ in range(quota_status(user=user).daily_limit):
        body(post_work(auth_api, jpeg_bytes()), 201)
    works_before = Work.objects.count()
    files_before = stored_files()

    payload = body(post_work(auth_api, jpeg_bytes()), 402, 40004)

    assert payload["data"] is None
    assert Work.objects.count() == works_before
    assert Generation.objects.count() == works_before
    assert Charge.objects.count() == works_before
    assert stored_files() == files_before  # the photo stored before the charge was refused is removed again


def test_processing_makes_a_thumbnail_starts_the_song_and_shows_what_it_filled_in(auth_api, jobs):
    jobs.watch(work_process)
    response = jobs.run(lambda: post_work(auth_api, jpeg_bytes(size=(1200, 900)), style="jazz"))
    work = Work.objects.get(pk=body(response, 201)["data"]["id"])
    assert work.title == "" and work.description == ""
    assert [task.name for task, _args in jobs.sent] == ["works.process"]  # the song starts from the work's job

    outcomes = jobs.drain()

    work.refresh_from_db()
    generation = work.generation
    assert work.processed_at is not None
    assert ("generation.run", "completed") in outcomes
    # The thumbnail exists, is a JPEG and is small.
    with default_storage.open(work.thumbnail.name, "rb") as handle, Image.open(handle) as thumb:
        assert thumb.format == "JPEG" and max(thumb.size) == 480
    # The creator's choice stays; the blanks come from the photo (the pipeline, offline vision provider).
    analysis = generation.image_analysis
    assert work.style == "jazz"
    assert work.title == analysis["title"] != ""
    assert work.description == analysis["description"] != ""
    assert [link.tag.name for link in work.work_tags.all()] == [t.lower() for t in analysis["tags"]][:20]
    assert generation.title == analysis["title"]
    assert generation.style == "jazz"

    # A second delivery of the job changes nothing and sends nothing.
    processed_at, title = work.processed_at, work.title
    jobs.run(lambda: work_process(str(work.pk)))
    work.refresh_from_db()
    assert (work.processed_at, work.title) == (processed_at, title)
    assert jobs.sent == []


def test_processing_a_deleted_work_does_nothing(auth_api):
    data = body(post_work(auth_api, jpeg_bytes()), 201)["data"]
    body(auth_api.delete(f"/api/works/{data['id']}"), 200)

    services.work_process(work_id=data["id"])  # no error

    generation = Generation.objects.get(pk=data["generationId"])
    assert generation.status == Generation.Status.FAILED  # deleted before its song started: refunded
    assert generation.charge.refunded_at is not None


def test_processing_that_breaks_before_the_song_starts_fails_and_refunds_it(auth_api, user, monkeypatch):
    data = body(post_work(auth_api, jpeg_bytes()), 201)["data"]
    calls = []

    def broken(**kwargs):
        calls.append(1)
        raise RuntimeError("a bug")

    monkeypatch.setattr(services, "generation_start", broken)

    with pytest.raises(RuntimeError):
        work_process(data["id"])  # the real task, in this process

    assert len(calls) == 1  # no retry loop of the work's own: it gives up at once rather than hold the user
    generation = Generation.objects.get(pk=data["generationId"])
    assert generation.status == Generation.Status.FAILED
    assert generation.error_message
    assert generation.charge.refunded_at is not None
    assert quota_status(user=user).used == 0


def test_a_thumbnail_that_cannot_be_made_does_not_hold_up_the_song(auth_api, jobs, monkeypatch):
    def broken(photo):
        raise RuntimeError("a bug")

    monkeypatch.setattr(services, "thumbnail_make", broken)
    jobs.watch(work_process)
    data = body(jobs.run(lambda: post_work(auth_api, jpeg_bytes())), 201)["data"]

    jobs.drain()

    work = Work.objects.select_related("generation").get(pk=data["id"])
    assert work.generation.status == Generation.Status.COMPLETED and work.title
    assert not work.thumbnail
    assert body(auth_api.get(f"/api/works/{work.pk}"), 200)["data"]["thumbnailUrl"].endswith(work.image.name)
