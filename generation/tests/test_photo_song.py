"""Songs reaching the Suno gateway as requests it accepts, end to end through the real pipeline: a generation with
a photo (VISION_PROVIDER=openai) and Photo Song's music tasks (`POST /api/music/tasks`), against the fake OpenAI
server and the fake Suno gateway of pipeline_fixtures.py, which enforce the real services' rules. The works API's
photo songs: works/tests/test_photo_song.py."""

import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from generation import services
from generation.models import Generation

from .pipeline_fixtures import VISION_ANSWER, FakeSuno

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_pipeline")]

LYRICS = "[Verse]\n海风吹过\n夕阳落下"


def photo() -> str:
    image = Image.new("RGB", (64, 48), (240, 140, 40))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG")
    return default_storage.save("works/photo.jpg", ContentFile(buffer.getvalue()))


def test_the_fake_gateway_refuses_what_the_real_one_refuses():
    base = {"model": "V4_5", "callBackUrl": "https://x/cb", "instrumental": False}
    assert FakeSuno.refusal({**base, "customMode": True, "title": "t", "style": "pop"})  # vocals, no lyrics
    assert FakeSuno.refusal({**base, "customMode": True, "style": "pop", "prompt": "la"})  # no title
    assert FakeSuno.refusal({**base, "customMode": True, "title": "t", "prompt": "la"})  # no style
    assert FakeSuno.refusal({**base, "customMode": False, "prompt": "x" * 501})[0] == 413
    assert FakeSuno.refusal({**base, "customMode": False, "prompt": ""})
    assert FakeSuno.refusal({**base, "customMode": True, "instrumental": True, "title": "t", "style": "pop"}) is None
    assert FakeSuno.refusal({**base, "customMode": False, "prompt": "x" * 500}) is None


@pytest.mark.parametrize(
    ("lyrics", "custom"), [(LYRICS, True), (None, False)], ids=["vision-lyrics", "description-mode"]
)
def test_a_generation_with_a_photo_is_described_then_accepted_by_suno(user, jobs, suno, openai_vision, lyrics, custom):
    vision = openai_vision(answer={**VISION_ANSWER, "lyrics": lyrics})
    generation = jobs.run(
        lambda: services.generation_create(user=user, source=Generation.Source.WORK, image=photo(), duration=10)
    )

    jobs.drain()

    generation.refresh_from_db()
    assert generation.status == Generation.Status.COMPLETED, generation.error_detail
    assert vision.calls == 1 and vision.refused == [] and suno.refused == []
    assert (generation.title, generation.style, generation.mood) == ("海风来信", "lofi", "romantic")
    sent = suno.submits[0]
    assert sent["customMode"] is custom
    assert sent["prompt"] == LYRICS if custom else "夕阳下的海边" in sent["prompt"]


@pytest.mark.parametrize(
    ("task", "custom"),
    [
        ({"title": "夏天", "tags": ["pop", "summer"], "prompt": "[Verse]\n夏天的风"}, True),
        ({"title": "夏天", "tags": ["pop"], "prompt": "啦" * 2000, "negative_tags": ["metal"]}, True),
        ({"tags": ["pop"], "prompt": "一首关于夏天的歌" * 100}, False),  # no title: a description, cut to 500
        ({"title": "夏天", "prompt": "一首关于夏天的歌"}, False),  # no style to sing it in
    ],
    ids=["custom", "long-lyrics", "no-title", "no-tags"],
)
def test_music_tasks_reach_suno_as_requests_it_accepts(auth_api, user, jobs, suno, task, custom):
    response = jobs.run(lambda: auth_api.post("/api/music/tasks", task, format="json"))
    assert response.status_code == 201, response.content
    task_id = response.json()["data"]["taskId"]

    jobs.drain()

    data = auth_api.get(f"/api/music/tasks/{task_id}").json()["data"]
    assert data["status"] == "completed", Generation.objects.get(pk=task_id).error_detail
    assert data["audioUrl"]
    assert suno.refused == [] and len(suno.submits) == 1
    sent = suno.submits[0]
    assert sent["customMode"] is custom
    if custom:
        assert sent["prompt"] == task["prompt"] and sent["title"] == task["title"]
    else:
        assert len(sent["prompt"]) <= 500
