"""The headline flow end to end, as in production: `POST /api/works` with a photo, VISION_PROVIDER=openai and
MUSIC_PROVIDER=suno, against a fake OpenAI server and a fake Suno gateway on 127.0.0.1 that enforce the real
services' rules (generation/tests/pipeline_fixtures.py). Every job the code sends — the work's, the pipeline's —
is the real task function, delivered in order by `jobs.drain()`. (The fixtures: works/tests/conftest.py.)"""

import pytest

from generation.models import Generation
from generation.tests.pipeline_fixtures import VISION_ANSWER
from membership.selectors import quota_status
from works.models import Work
from works.tasks import work_process

from .factories import jpeg_bytes, upload
from .helpers import body

pytestmark = pytest.mark.django_db

LYRICS = "[Verse]\n海风吹过\n夕阳落下"


@pytest.fixture
def work_jobs(jobs):
    return jobs.watch(work_process)


def make_work(auth_api, work_jobs, **fields) -> Work:
    """Post a photo song and run every job it leads to; the work, reloaded."""
    response = work_jobs.run(
        lambda: auth_api.post("/api/works", {"image": upload(jpeg_bytes()), **fields}, format="multipart")
    )
    data = body(response, 201)["data"]
    work_jobs.drain()
    return Work.objects.select_related("generation").get(pk=data["id"])


def test_a_photo_alone_is_sung_with_the_lyrics_the_vision_model_wrote(
    auth_api, work_jobs, suno, openai_vision, song_files
):
    vision = openai_vision(answer={**VISION_ANSWER, "lyrics": LYRICS})

    work = make_work(auth_api, work_jobs)

    assert work.generation.status == Generation.Status.COMPLETED, work.generation.error_detail
    assert vision.calls == 1 and vision.refused == []
    assert suno.refused == [] and len(suno.submits) == 1
    sent = suno.submits[0]
    assert (sent["customMode"], sent["instrumental"], sent["prompt"]) == (True, False, LYRICS)
    assert sent["title"] == "海风来信" and sent["style"].startswith("lofi")
    # The blanks the creator left show what the photo said.
    assert (work.title, work.description, work.style) == ("海风来信", "夕阳下的海边，温暖而安静", "lofi")
    assert [link.tag.name for link in work.work_tags.all()] == ["海边", "夕阳", "summer"]
    data = body(auth_api.get(f"/api/works/{work.pk}"), 200)["data"]
    assert data["status"] == "completed" and data["title"] == "海风来信" and data["audioUrl"]


def test_a_photo_without_lyrics_goes_to_sunos_description_mode(auth_api, work_jobs, suno, openai_vision):
    openai_vision()  # lyrics: null

    work = make_work(auth_api, work_jobs)

    assert work.generation.status == Generation.Status.COMPLETED, work.generation.error_detail
    assert suno.refused == []
    sent = suno.submits[0]
    assert sent["customMode"] is False and sent["instrumental"] is False
    assert "夕阳下的海边" in sent["prompt"] and "lofi" in sent["prompt"] and "romantic" in sent["prompt"]
    assert len(sent["prompt"]) <= 500 and not {"title", "style"} & sent.keys()
    assert work.title == "海风来信" and work.description == "夕阳下的海边，温暖而安静"


@pytest.mark.parametrize(
    ("fields", "lyrics", "custom"),
    [
        ({"title": "我的海", "style": "jazz"}, None, False),
        ({"title": "我的海", "style": "jazz"}, LYRICS, True),
        ({"title": "我的海", "style": "jazz", "description": "去年夏天的海边"}, LYRICS, True),
        ({"description": "去年夏天的海边", "tags": "海, 夏天"}, None, False),
        ({"style": "jazz"}, None, False),
        ({"title": "我的海"}, LYRICS, True),
    ],
    ids=["title-style", "title-style-lyrics", "everything-lyrics", "description-tags", "style", "title-lyrics"],
)
def test_every_mix_of_what_the_creator_typed_reaches_suno_as_a_request_it_accepts(
    auth_api, work_jobs, suno, openai_vision, fields, lyrics, custom
):
    openai_vision(answer={**VISION_ANSWER, "lyrics": lyrics})

    work = make_work(auth_api, work_jobs, **fields)

    assert work.generation.status == Generation.Status.COMPLETED, work.generation.error_detail
    assert suno.refused == [] and len(suno.submits) == 1
    sent = suno.submits[0]
    assert sent["customMode"] is custom
    if custom:  # what the creator typed wins; the lyrics are the photo's, never the description sung
        assert sent["prompt"] == lyrics
        assert sent["title"] == fields.get("title", "海风来信")
        assert sent["style"].startswith(fields.get("style", "lofi"))
    else:
        assert sent["prompt"].startswith(fields.get("description", "夕阳下的海边"))
    filled = {"title": "海风来信", "description": "夕阳下的海边，温暖而安静", "style": "lofi"}
    assert {name: getattr(work, name) for name in filled} == {name: fields.get(name, filled[name]) for name in filled}
    expected_tags = ["海", "夏天"] if "tags" in fields else ["海边", "夕阳", "summer"]
    assert [link.tag.name for link in work.work_tags.all()] == expected_tags


def test_a_vision_service_that_keeps_failing_is_retried_by_the_pipeline_then_the_pixels_stand_in(
    auth_api, user, work_jobs, suno, openai_vision, settings
):
    settings.GENERATION_MAX_RETRIES = 2
    vision = openai_vision(statuses=[503])

    work = make_work(auth_api, work_jobs)

    assert vision.calls == 3  # the first try and the pipeline's two retries
    generation = work.generation
    assert generation.status == Generation.Status.COMPLETED, generation.error_detail
    assert generation.image_analysis["provider"] == "local" and generation.image_analysis["palette"]
    assert generation.retries == 2 and suno.refused == []
    assert suno.submits[0]["customMode"] is False  # the offline reading writes no lyrics: Suno does
    assert work.title == generation.image_analysis["title"] != ""
    assert work.description == generation.image_analysis["description"] != ""
    assert quota_status(user=user).used == 1  # made, so not refunded


def test_a_transient_vision_error_is_retried_by_the_pipeline_and_its_answer_fills_the_blanks(
    auth_api, work_jobs, suno, openai_vision
):
    vision = openai_vision(statuses=[503, 200])

    work = make_work(auth_api, work_jobs, tags="mine")

    assert vision.calls == 2
    generation = work.generation
    assert generation.retries == 1 and generation.image_analysis["provider"] == "openai"
    assert generation.status == Generation.Status.COMPLETED, generation.error_detail
    assert (work.title, work.description, work.style) == ("海风来信", "夕阳下的海边，温暖而安静", "lofi")
    assert [link.tag.name for link in work.work_tags.all()] == ["mine"]  # the creator's tags stay


def test_a_permanent_vision_error_makes_the_song_from_the_pixels_at_once(auth_api, work_jobs, suno, openai_vision):
    vision = openai_vision(statuses=[400])

    work = make_work(auth_api, work_jobs)

    assert vision.calls == 1  # not retried
    generation = work.generation
    assert generation.status == Generation.Status.COMPLETED, generation.error_detail
    assert generation.retries == 0 and generation.image_analysis["provider"] == "local"
    assert work.title == generation.image_analysis["title"]
