"""Where the pipeline's files end up and who can reach them: unguessable names, members' HQ audio only through an
expiring link, files named and typed by their bytes, nothing fetched from a private address."""

import io
import re
from datetime import timedelta

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image

from generation import pipeline, services, tasks
from generation.models import Generation, upload_audio, upload_audio_hq, upload_cover
from works.models import Work, upload_photo, upload_thumbnail

from .pipeline_fixtures import FakeSuno
from .stored import stored_files

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_pipeline")]

TOKEN = r"[0-9a-f]{32}"
PNG = io.BytesIO()
Image.new("RGB", (8, 8), (200, 30, 30)).save(PNG, format="PNG")
PNG = PNG.getvalue()


@pytest.fixture
def no_jobs(monkeypatch):
    sent = []
    monkeypatch.setattr(tasks.generation_run, "apply_async", lambda args, queue, countdown=None: sent.append(args[0]))
    return sent


def run(user, capture, no_jobs) -> Generation:
    with capture(execute=True):
        generation = services.generation_create(user=user, prompt="雨后的城市", duration=10)
    no_jobs.clear()
    outcome = pipeline.generation_advance(generation_id=str(generation.pk))
    for _ in range(20):
        if outcome in ("completed", "failed"):
            break
        no_jobs.clear()
        outcome = pipeline.generation_advance(generation_id=str(generation.pk))
    return Generation.objects.get(pk=generation.pk)


def local(path: str) -> str:
    return path.removeprefix("http://testserver")


def test_a_members_hq_file_is_reached_only_through_an_expiring_link(
    member, api, client, settings, django_capture_on_commit_callbacks, no_jobs
):
    settings.MEDIA_SIGNED_URL_TTL = 300
    generation = run(member, django_capture_on_commit_callbacks, no_jobs)
    assert generation.status == "completed"
    pk = generation.pk

    # the fixed names of before are gone: guessing them gives 404
    for guess in (f"generations/{pk}/audio-hq.mp3", f"generations/{pk}/audio.mp3", f"generations/{pk}/cover.jpg"):
        assert client.get(f"/media/{guess}").status_code == 404, guess
    assert re.fullmatch(rf"private/generations/{pk}/audio-hq-{TOKEN}\.mp3", generation.audio_hq.name)
    assert client.get(f"/media/{generation.audio_hq.name}").status_code == 404  # even knowing its name

    api.force_authenticate(member)
    result = api.get(f"/api/generation/{pk}").json()["data"]["result"]
    hq = local(result["hqAudioUrl"])
    assert hq.startswith("/media-signed/")
    response = client.get(hq)
    assert response.status_code == 200 and response["Content-Type"] == "audio/mpeg"
    assert b"".join(response.streaming_content)[:3] in (b"ID3", b"\xff\xfb")
    with time_machine.travel(timezone.now() + timedelta(seconds=301)):
        assert client.get(hq).status_code == 404

    assert client.get(local(result["audioUrl"])).status_code == 200  # the standard file stays a plain link


def test_a_free_user_gets_no_hq_link_and_no_hq_file_is_made(
    user, auth_api, django_capture_on_commit_callbacks, no_jobs
):
    generation = run(user, django_capture_on_commit_callbacks, no_jobs)
    result = auth_api.get(f"/api/generation/{generation.pk}").json()["data"]["result"]

    assert result["hqAudioUrl"] is None
    assert not default_storage.exists(f"private/generations/{generation.pk}")
    assert generation.audio_hq.name == generation.audio.name  # nothing private to guess
    tokens = {re.search(TOKEN, name).group() for name in (generation.audio.name, generation.cover.name)}
    assert len(tokens) == 2  # one independent token per file


def test_a_members_public_urls_reveal_nothing_of_the_hq_file(member, api, django_capture_on_commit_callbacks, no_jobs):
    generation = run(member, django_capture_on_commit_callbacks, no_jobs)
    api.force_authenticate(member)
    result = api.get(f"/api/generation/{generation.pk}").json()["data"]["result"]

    hq_token = re.search(TOKEN, generation.audio_hq.name).group()
    assert hq_token not in result["audioUrl"] and hq_token not in result["coverUrl"]
    tokens = {re.search(TOKEN, name).group() for name in (generation.audio.name, generation.cover.name)}
    assert len(tokens | {hq_token}) == 3  # one independent token per file


def test_every_upload_name_has_its_own_random_token():
    generation, work = Generation(), Work()
    for helper, instance in (
        (upload_audio, generation),
        (upload_audio_hq, generation),
        (upload_cover, generation),
        (upload_photo, work),
        (upload_thumbnail, work),
    ):
        first, second = helper(instance, "x.jpg"), helper(instance, "x.jpg")
        assert first != second and re.search(rf"-{TOKEN}\.jpg$", first), first


@pytest.fixture
def gateway(settings, fast_pipeline, gateway_server, song_files):
    """A Suno gateway whose files are whatever the test says (audio, cover), on the allowlist."""

    def make(audio: bytes | None = None, cover: bytes | None = None) -> FakeSuno:
        fake = FakeSuno(gateway_server, audio or song_files[0], cover or song_files[1], statuses=("SUCCESS",))
        settings.MUSIC_PROVIDER = "suno"
        settings.SUNO_API_BASE = fake.base_url
        settings.SUNO_API_KEY = "test-key"
        settings.ASSET_FETCH_PRIVATE_ALLOWLIST = [f"127.0.0.1:{gateway_server.port}"]
        return fake

    return make


def test_files_are_named_and_typed_by_their_bytes_not_by_the_providers_url(
    gateway, user, django_capture_on_commit_callbacks, no_jobs
):
    gateway(cover=PNG)  # served at /files/cover.jpeg as image/jpeg, but it is a PNG
    generation = run(user, django_capture_on_commit_callbacks, no_jobs)

    assert generation.status == "completed"
    assert re.fullmatch(rf"generations/{generation.pk}/cover-{TOKEN}\.png", generation.cover.name)
    assert stored_files(generation.pk) == ["audio.mp3", "cover.png"]


def test_a_cover_that_is_a_page_is_never_stored(gateway, user, client, django_capture_on_commit_callbacks, no_jobs):
    gateway(cover=b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.domain)"/>')
    generation = run(user, django_capture_on_commit_callbacks, no_jobs)

    assert generation.status == "completed" and not generation.cover  # the song, without that cover
    assert stored_files(generation.pk) == ["audio.mp3"]


def test_audio_that_is_not_audio_fails_the_generation_and_refunds_it(
    gateway, user, django_capture_on_commit_callbacks, no_jobs
):
    gateway(audio=b"<html><script>alert(1)</script></html>")
    generation = run(user, django_capture_on_commit_callbacks, no_jobs)

    assert generation.status == "failed" and generation.charge.refunded_at is not None
    assert stored_files(generation.pk) == []


def test_provider_files_on_a_private_address_are_not_fetched(
    gateway, settings, gateway_server, user, django_capture_on_commit_callbacks, no_jobs
):
    gateway()
    settings.ASSET_FETCH_PRIVATE_ALLOWLIST = []  # the gateway's files sit on 127.0.0.1
    generation = run(user, django_capture_on_commit_callbacks, no_jobs)

    assert generation.status == "failed"
    assert "not a public address" in generation.error_detail
    assert not any(request.path.startswith("/files/") for request, _ in gateway_server.log)
    assert not default_storage.exists(f"generations/{generation.pk}")
