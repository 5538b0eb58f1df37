"""From a posted photo to a listenable work in the public feed, with a real Celery worker and the local providers."""

import io

import mutagen.mp3
import pytest
from django.core.files.storage import default_storage
from django.db import OperationalError
from PIL import Image

from accounts.tests.clients import client_for
from accounts.tests.factories import UserFactory
from generation.tests.pipeline_fixtures import celery_worker, fast_pipeline, wait_for  # noqa: F401
from works.models import Work

from .factories import gps_exif, jpeg_bytes, upload
from .helpers import body


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_posted_photo_becomes_a_listenable_work_in_the_public_feed(celery_worker, client):  # noqa: F811
    creator = client_for(UserFactory())
    photo = jpeg_bytes(size=(800, 600), color=(250, 170, 60), exif=gps_exif())

    created = body(creator.post("/api/works", {"image": upload(photo), "tags": "日落"}, format="multipart"), 201)[
        "data"
    ]
    assert created["status"] == "pending"

    def finished():
        try:
            work = Work.objects.select_related("generation").get(pk=created["id"])
        except OperationalError:  # SQLite's shared in-memory test database: the worker holds the table lock
            return None
        if work.generation.status == "failed":
            return work
        # completed, and the work's job has copied what the pipeline read in the photo into the blanks
        return work if work.generation.status == "completed" and work.title else None

    work = wait_for(finished, timeout=120)
    assert work.generation.status == "completed", work.generation.error_detail

    # The photo was described once (by the pipeline) and the blanks filled; the creator's tags stayed.
    assert work.processed_at is not None
    assert work.title and work.description
    assert [link.tag.name for link in work.work_tags.all()] == ["日落"]
    assert work.generation.image_analysis["title"]
    with default_storage.open(work.thumbnail.name, "rb") as handle, Image.open(handle) as thumb:
        assert max(thumb.size) == 480
    # The song is a real MP3 in our storage.
    with default_storage.open(work.generation.audio.name, "rb") as handle:
        song = mutagen.mp3.MP3(io.BytesIO(handle.read()))
    assert song.info.length > 5

    # Anybody sees it in the feed and can open its share page.
    feed = body(client_for(UserFactory()).get("/api/works"), 200)["data"]["list"]
    assert [item["id"] for item in feed] == [created["id"]]
    item = feed[0]
    assert item["status"] == "completed"
    assert item["audioUrl"].endswith(work.generation.audio.name)
    assert item["title"] == work.title
    page = client.get(f"/w/{created['id']}")
    assert page.status_code == 200 and work.title in page.content.decode()
