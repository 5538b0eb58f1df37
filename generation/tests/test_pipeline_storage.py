"""The pipeline writes through Django's storage API only: with the S3 storage of django-storages (against moto's
S3 server on 127.0.0.1) the files land in the bucket and the URLs the API returns point at the bucket."""

import io
import socket

import boto3
import pytest
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

    keys = {item["Key"] for item in client.list_objects_v2(Bucket=BUCKET)["Contents"]}
    prefix = f"generations/{generation.pk}/"
    assert keys == {prefix + "audio.mp3", prefix + "audio-hq.mp3", prefix + "cover.jpg"}
    body = client.get_object(Bucket=BUCKET, Key=prefix + "audio.mp3")["Body"].read()
    assert abs(MP3(io.BytesIO(body)).info.length - 10) <= 1

    result = auth_api.get(f"/api/generation/{generation.pk}").json()["data"]["result"]
    assert result["audioUrl"] == f"{endpoint}/{BUCKET}/{prefix}audio.mp3"
    assert result["coverUrl"] == f"{endpoint}/{BUCKET}/{prefix}cover.jpg"
    assert Generation.objects.get(pk=generation.pk).audio.name == prefix + "audio.mp3"
