"""Both APIs end to end with a real Celery worker (the project's app in a thread, the in-memory broker): create over
HTTP, the worker runs the pipeline, poll over HTTP until completed, and the MP3 decodes to the asked duration.

Transactional tests (the worker has its own database connection); `serialized_rollback` restores the plans that a
data migration seeds, which the flush after each transactional test would otherwise remove.
"""

import io

import pytest
from django.core.files.storage import default_storage
from mutagen.mp3 import MP3

from generation.models import Generation
from generation.tasks import enqueue_generation
from membership.selectors import quota_status

from .pipeline_fixtures import wait_for
from .stored import name_of, stored_files

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("fast_pipeline"),
]


def finished(client, path: str):
    """Poll GET `path` like an app would, until the generation is no longer pending or processing."""

    def check():
        data = client.get(path).json()["data"]
        return data if data["status"] in ("completed", "failed") else None

    return wait_for(check)


def decoded_length(url: str) -> float:
    with default_storage.open(name_of(url)) as audio:
        return MP3(io.BytesIO(audio.read())).info.length


def test_tunee_generation_end_to_end(celery_worker, auth_api, user):
    response = auth_api.post(
        "/api/generation/create", {"prompt": "雨后的城市，轻快的钢琴", "style": "lofi", "duration": 10}, format="json"
    )
    assert response.status_code == 201, response.json()
    generation_id = response.json()["data"]["generationId"]

    data = finished(auth_api, f"/api/generation/{generation_id}")

    assert data["status"] == "completed", data["errorMessage"]
    assert data["startedAt"] and data["completedAt"]
    result = data["result"]
    assert result["audioUrl"].startswith("http://testserver/media/generations/")
    assert abs(decoded_length(result["audioUrl"]) - 10) <= 1
    assert result["hqAudioUrl"] is None and result["coverUrl"].endswith(".jpg")
    assert quota_status(user=user).used == 1


def test_photo_song_music_task_end_to_end(celery_worker, auth_api):
    body = {"title": "晴天", "tags": "pop,happy", "prompt": "阳光洒在窗台", "negative_tags": "metal", "duration": 12}
    response = auth_api.post("/api/music/tasks", body, format="json")
    assert response.status_code == 201
    task_id = response.json()["data"]["taskId"]

    data = finished(auth_api, f"/api/music/tasks/{task_id}")

    assert data["status"] == "completed"
    assert abs(decoded_length(data["audioUrl"]) - 12) <= 1
    assert data["params"]["title"] == "晴天" and data["params"]["negativeTags"] == ["metal"]


def test_a_member_is_served_from_the_priority_queue_and_gets_the_hq_file(celery_worker, api, member):
    api.force_authenticate(member)
    generation_id = api.post("/api/generation/create", {"prompt": "夜空", "duration": 10}, format="json").json()[
        "data"
    ]["generationId"]

    result = finished(api, f"/api/generation/{generation_id}")["result"]

    assert Generation.objects.get(pk=generation_id).priority is True
    assert abs(decoded_length(result["hqAudioUrl"]) - 10) <= 1
    with default_storage.open(name_of(result["hqAudioUrl"])) as audio:
        assert MP3(io.BytesIO(audio.read())).info.bitrate == 320000


def test_a_job_sent_twice_runs_once(celery_worker, auth_api):
    generation_id = auth_api.post("/api/generation/create", {"prompt": "海浪", "duration": 10}, format="json").json()[
        "data"
    ]["generationId"]
    enqueue_generation(Generation.objects.get(pk=generation_id))  # the broker delivers it a second time

    assert finished(auth_api, f"/api/generation/{generation_id}")["status"] == "completed"

    generation = Generation.objects.get(pk=generation_id)
    assert generation.attempts == 1
    assert stored_files(generation_id) == ["audio.mp3", "cover.jpg"]


def test_suno_end_to_end_against_a_slow_gateway_with_a_callback(suno, celery_worker, auth_api, api, song_files):
    response = auth_api.post(
        "/api/generation/create", {"prompt": "雨后的城市", "style": "pop", "duration": 10}, format="json"
    )
    generation_id = response.json()["data"]["generationId"]
    generation = wait_for(lambda: Generation.objects.filter(pk=generation_id).exclude(provider_task_id="").first())
    token = generation.provider_response["submit"]["request"]["callBackUrl"].split("token=")[1]
    callback = api.post(
        f"/api/generation/callback/suno?token={token}",
        suno.callback_body(generation.provider_task_id, "first"),
        format="json",
    )
    assert callback.status_code == 200

    data = finished(auth_api, f"/api/generation/{generation_id}")

    assert data["status"] == "completed", data["errorMessage"]
    assert suno.polls[generation.provider_task_id] == 4  # PENDING, TEXT_SUCCESS, FIRST_SUCCESS, SUCCESS
    assert len(suno.submits) == 1
    name = data["result"]["audioUrl"].split("/media/", 1)[1]
    with default_storage.open(name) as audio:
        assert audio.read() == song_files[0]
    assert data["result"]["title"] == "雨后 1"


def test_a_permanent_gateway_failure_frees_the_quota(suno, celery_worker, auth_api, user):
    suno.statuses = ("PENDING", "GENERATE_AUDIO_FAILED")
    generation_id = auth_api.post("/api/generation/create", {"prompt": "雨", "duration": 10}, format="json").json()[
        "data"
    ]["generationId"]

    data = finished(auth_api, f"/api/generation/{generation_id}")

    assert data["status"] == "failed" and data["errorMessage"]
    assert quota_status(user=user).used == 0
    assert auth_api.get("/api/generation/quota").json()["data"]["remainingToday"] == 3
