"""The pipeline writes through Django's storage API only: with the S3 storage of django-storages (against moto's
S3 server on 127.0.0.1) the files land in the bucket and the URLs the API returns point at the bucket."""

import io
import re
import socket
import time
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
from mutagen.mp3 import MP3

from generation import pipeline, services
from generation.models import Generation

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_pipeline")]

BUCKET = "tunee-media"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def s3(settings, monkeypatch):
    from moto.server import ThreadedMotoServer

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": endpoint,
                "region_name": "us-east-1",
                "querystring_auth": False,
                "file_overwrite": False,
            },
        },
    }
    yield client, endpoint
    server.stop()


def test_a_generation_stores_its_files_in_the_bucket(
    s3, user, auth_api, monkeypatch, django_capture_on_commit_callbacks
):
    client, endpoint = s3
    monkeypatch.setattr("generation.tasks.generation_run.apply_async", lambda args, queue, countdown=None: None)
    with django_capture_on_commit_callbacks(execute=True):
        generation = services.generation_create(user=user, prompt="海边的风", duration=10)

    assert pipeline.generation_advance(generation_id=str(generation.pk)) == "completed"

    generation = Generation.objects.get(pk=generation.pk)
    keys = {item["Key"] for item in client.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert keys == {generation.audio.name, generation.cover.name}  # a free user's song: no high-quality file
    assert generation.audio_hq.name == generation.audio.name
    assert re.fullmatch(rf"generations/{generation.pk}/audio-[0-9a-f]{{32}}\.mp3", generation.audio.name)
    assert re.fullmatch(rf"generations/{generation.pk}/cover-[0-9a-f]{{32}}\.jpg", generation.cover.name)
    stored = client.get_object(Bucket=BUCKET, Key=generation.audio.name)
    assert abs(MP3(io.BytesIO(stored["Body"].read())).info.length - 10) <= 1
    # uploaded with the type detected from the bytes
    assert stored["ContentType"] == "audio/mpeg"
    assert client.head_object(Bucket=BUCKET, Key=generation.cover.name)["ContentType"] == "image/jpeg"

    result = auth_api.get(f"/api/generation/{generation.pk}").json()["data"]["result"]
    assert result["audioUrl"] == f"{endpoint}/{BUCKET}/{generation.audio.name}"
    assert result["coverUrl"] == f"{endpoint}/{BUCKET}/{generation.cover.name}"


def test_a_members_hq_download_is_a_presigned_url_that_expires(
    s3, member, api, settings, monkeypatch, django_capture_on_commit_callbacks
):
    _client, endpoint = s3
    settings.MEDIA_SIGNED_URL_TTL = 120
    monkeypatch.setattr("generation.tasks.generation_run.apply_async", lambda args, queue, countdown=None: None)
    with django_capture_on_commit_callbacks(execute=True):
        generation = services.generation_create(user=member, prompt="夜空", duration=10)
    assert pipeline.generation_advance(generation_id=str(generation.pk)) == "completed"
    name = Generation.objects.get(pk=generation.pk).audio_hq.name
    assert re.fullmatch(rf"private/generations/{generation.pk}/audio-hq-[0-9a-f]{{32}}\.mp3", name)

    api.force_authenticate(member)
    url = api.get(f"/api/generation/{generation.pk}").json()["data"]["result"]["hqAudioUrl"]

    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{endpoint}/{BUCKET}/{name}"
    if "X-Amz-Expires" in query:  # SigV4
        assert query["X-Amz-Expires"] == ["120"] and query["X-Amz-Signature"]
    else:  # SigV2 (botocore's default for S3 without a region-specific endpoint)
        assert abs(int(query["Expires"][0]) - time.time() - 120) < 30 and query["Signature"]
    assert requests.get(url, timeout=10).content[:3] in (b"ID3", b"\xff\xfb")
