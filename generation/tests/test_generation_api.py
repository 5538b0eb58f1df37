"""Tunee's /generation endpoints and Photo Song's /music/tasks: charging, validation, ownership, favorites."""

import uuid

import pytest

from generation.models import Favorite, Generation
from generation.tests.factories import GenerationFactory, complete
from membership import services as membership
from membership.models import Charge, PointsEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def enqueued(monkeypatch):
    """What reached the broker: (generation id, queue) for each job sent."""
    from generation import tasks

    sent = []
    monkeypatch.setattr(
        tasks.generation_run, "apply_async", lambda args, queue, countdown=None: sent.append((args[0], queue))
    )
    return sent


def create(client, **body):
    return client.post("/api/generation/create", {"prompt": "雨后的城市，轻快的钢琴", **body}, format="json")


def test_create_charges_one_unit_and_enqueues_on_commit(auth_api, enqueued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = create(auth_api, style="pop", mood="happy", duration=45, options={"instrumental": True})

    body = response.json()
    assert response.status_code == 201, body
    assert body["code"] == 0 and body["message"] == "生成任务已创建"
    data = body["data"]
    assert data["status"] == "pending"
    assert data["chargedWith"] == "quota"
    assert data["quota"] == {"remaining": 2, "used": 1, "total": 3}
    generation = Generation.objects.get(pk=data["generationId"])
    assert (generation.style, generation.mood, generation.duration, generation.options) == (
        "pop",
        "happy",
        45,
        {"instrumental": True},
    )
    assert generation.charge.kind == "quota"
    assert enqueued == [(data["generationId"], "generation")]


def test_members_go_to_the_priority_queue(api, member, enqueued, django_capture_on_commit_callbacks):
    api.force_authenticate(member)

    with django_capture_on_commit_callbacks(execute=True):
        data = create(api).json()["data"]

    assert data["quota"]["total"] == 50
    assert enqueued == [(data["generationId"], "generation_priority")]


def test_duration_defaults_to_30_seconds(auth_api, enqueued):
    generation_id = create(auth_api).json()["data"]["generationId"]

    assert Generation.objects.get(pk=generation_id).duration == 30


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"prompt": ""}, "prompt"),
        ({"prompt": "x" * 501}, "prompt"),
        ({"duration": 9}, "duration"),
        ({"duration": 241}, "duration"),
        ({"duration": "long"}, "duration"),
        ({"options": "x"}, "options"),
        ({"options": {"note": "x" * 2000}}, "options"),
        ({"options": {"lyrics": "a\u0000b"}}, "options"),  # PostgreSQL cannot store NUL: 400, not a 500
        ({"options": {"nested": [{"k\u0000": 1}]}}, "options"),
        ({"prompt": "a\u0000b"}, "prompt"),
        ({"style": "x" * 101}, "style"),
    ],
)
def test_bad_input_is_400_before_anything_is_charged(
    auth_api, enqueued, body, field, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = create(auth_api, **body)

    assert response.status_code == 400
    assert response.json()["code"] == 400
    assert field in response.json()["details"]
    assert not Charge.objects.exists() and not Generation.objects.exists() and enqueued == []


def test_missing_prompt_is_400(auth_api, enqueued):
    response = auth_api.post("/api/generation/create", {}, format="json")

    assert response.status_code == 400
    assert list(response.json()["details"]) == ["prompt"]


def test_quota_used_up_is_40004_and_creates_nothing(auth_api, enqueued, django_capture_on_commit_callbacks):
    for _ in range(3):
        create(auth_api)

    with django_capture_on_commit_callbacks(execute=True):
        response = create(auth_api)

    assert response.status_code == 402
    assert response.json()["code"] == 40004
    assert response.json()["details"] == {"remainingToday": 0, "points": 0, "pointsCost": 10}
    assert Generation.objects.count() == 3
    assert enqueued == []


def test_points_pay_when_the_quota_is_used_up(auth_api, enqueued):
    membership.points_credit(user=auth_api.user, amount=10, reason=PointsEntry.Reason.PURCHASE)
    for _ in range(3):
        create(auth_api)

    response = create(auth_api)

    assert response.status_code == 201
    assert response.json()["data"]["chargedWith"] == "points"
    assert PointsEntry.objects.filter(user=auth_api.user, reason="generation").count() == 1


def test_create_needs_login(api, enqueued):
    response = create(api)

    assert response.status_code == 401
    assert not Generation.objects.exists()


def test_writes_need_login(api, enqueued):
    generation = GenerationFactory()

    music = api.post("/api/music/tasks", {"prompt": "a calm song"}, format="json")
    favorite = api.post(f"/api/generation/{generation.pk}/favorite")

    assert (music.status_code, music.json()["code"]) == (401, 401)
    assert (favorite.status_code, favorite.json()["code"]) == (401, 401)
    assert Generation.objects.count() == 1 and not Favorite.objects.exists() and not Charge.objects.exists()


def test_detail_of_a_pending_generation(auth_api, enqueued):
    generation_id = create(auth_api, style="rock").json()["data"]["generationId"]

    response = auth_api.get(f"/api/generation/{generation_id}")

    data = response.json()["data"]
    assert response.status_code == 200
    assert data["generationId"] == generation_id
    assert data["status"] == "pending"
    assert data["params"]["style"] == "rock"
    assert data["params"]["prompt"] == "雨后的城市，轻快的钢琴"
    assert data["result"] is None
    assert data["errorMessage"] is None
    assert data["isFavorite"] is False
    assert data["createdAt"].endswith("Z")


def test_detail_of_a_completed_generation_has_our_urls_and_no_hq_for_free_users(auth_api):
    generation = complete(GenerationFactory(user=auth_api.user))

    result = auth_api.get(f"/api/generation/{generation.pk}").json()["data"]["result"]

    assert result["audioUrl"].startswith("http://127.0.0.1:8000/media/generations/")
    assert result["coverUrl"].endswith(".jpg")
    assert result["hqAudioUrl"] is None
    assert result["title"] == "晴天"
    assert result["completedAt"].endswith("Z")


def test_members_get_the_hq_audio_url(api, member):
    api.force_authenticate(member)
    generation = complete(GenerationFactory(user=member))

    result = api.get(f"/api/generation/{generation.pk}").json()["data"]["result"]

    assert result["hqAudioUrl"].startswith("http://127.0.0.1:8000/media-signed/")  # an expiring link
    assert result["hqAudioUrl"] != result["audioUrl"]


def test_someone_elses_generation_is_404(auth_api):
    other = GenerationFactory()

    for path in (f"/api/generation/{other.pk}", f"/api/music/tasks/{other.pk}"):
        response = auth_api.get(path)
        assert response.status_code == 404 and response.json()["code"] == 404
    response = auth_api.post(f"/api/generation/{other.pk}/favorite")
    assert response.status_code == 404
    assert not Favorite.objects.exists()


def test_unknown_and_malformed_ids(auth_api):
    for path in ("/api/generation/{}", "/api/music/tasks/{}"):
        response = auth_api.get(path.format(uuid.uuid4()))
        assert (response.status_code, response.json()["code"]) == (404, 404)
        response = auth_api.get(path.format("not-an-id"))
        assert (response.status_code, response.json()["code"]) == (400, 1002)
    response = auth_api.post(f"/api/generation/{uuid.uuid4()}/favorite")
    assert (response.status_code, response.json()["code"]) == (404, 404)
    response = auth_api.post("/api/generation/not-an-id/favorite")
    assert (response.status_code, response.json()["code"]) == (400, 1002)
    assert not Favorite.objects.exists()


def test_reads_need_login(api):
    generation = GenerationFactory()
    for path in (
        "/api/generation",
        f"/api/generation/{generation.pk}",
        "/api/generation/favorites/list",
        f"/api/music/tasks/{generation.pk}",
    ):
        assert api.get(path).status_code == 401


def test_history_filters_by_status_newest_first(auth_api, django_assert_max_num_queries):
    mine = [GenerationFactory(user=auth_api.user) for _ in range(4)]
    complete(mine[1])
    complete(mine[3])
    GenerationFactory()  # someone else's

    with django_assert_max_num_queries(6):
        everything = auth_api.get("/api/generation?pageSize=100").json()["data"]
    completed = auth_api.get("/api/generation?status=completed").json()["data"]

    assert everything["pagination"]["total"] == 4
    assert [g["generationId"] for g in completed["list"]] == [str(mine[3].pk), str(mine[1].pk)]


def test_history_query_count_does_not_grow_with_the_page(auth_api, django_assert_max_num_queries):
    for _ in range(30):
        complete(GenerationFactory(user=auth_api.user))

    with django_assert_max_num_queries(6):
        assert len(auth_api.get("/api/generation?pageSize=30").json()["data"]["list"]) == 30


def test_history_with_an_unknown_status_is_400(auth_api):
    response = auth_api.get("/api/generation?status=done")

    assert response.status_code == 400
    assert "status" in response.json()["details"]


def test_favorite_toggles_and_lists(auth_api):
    first, second = GenerationFactory(user=auth_api.user), GenerationFactory(user=auth_api.user)

    on = auth_api.post(f"/api/generation/{first.pk}/favorite").json()
    auth_api.post(f"/api/generation/{second.pk}/favorite")
    off = auth_api.post(f"/api/generation/{second.pk}/favorite").json()
    listed = auth_api.get("/api/generation/favorites/list").json()["data"]

    assert (on["code"], on["data"], on["message"]) == (0, {"isFavorite": True}, "已收藏")
    assert (off["data"], off["message"]) == ({"isFavorite": False}, "已取消收藏")
    assert [g["generationId"] for g in listed["list"]] == [str(first.pk)]
    assert listed["list"][0]["isFavorite"] is True
    assert auth_api.get(f"/api/generation/{first.pk}").json()["data"]["isFavorite"] is True


def test_music_task_create_accepts_the_seeds_spelling(auth_api, enqueued):
    response = auth_api.post(
        "/api/music/tasks",
        {
            "title": "夏夜",
            "tags": ["lofi", "chill"],
            "prompt": "[Verse]\n晚风吹过",
            "negative_tags": ["metal"],
        },
        format="json",
    )

    body = response.json()
    assert response.status_code == 201, body
    data = body["data"]
    assert set(data) == {"taskId", "status", "params", "audioUrl", "coverUrl", "errorMessage", "createdAt"}
    assert data["status"] == "pending" and data["audioUrl"] is None
    assert data["params"]["negativeTags"] == ["metal"]
    assert data["params"]["tags"] == ["lofi", "chill"]
    generation = Generation.objects.get(pk=data["taskId"])
    assert (generation.source, generation.title) == ("music_task", "夏夜")


def test_music_task_accepts_camel_case_and_comma_separated_tags(auth_api, enqueued):
    response = auth_api.post(
        "/api/music/tasks",
        {
            "prompt": "a calm song",
            "tags": "piano, rain",
            "negativeTags": "drums",
        },
        format="json",
    )

    data = response.json()["data"]
    assert data["params"]["tags"] == ["piano", "rain"]
    assert data["params"]["negativeTags"] == ["drums"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "x"}, "prompt"),
        ({"prompt": "x" * 3001}, "prompt"),
        ({"prompt": "a", "title": "x" * 101}, "title"),
        ({"prompt": "a", "tags": [f"t{n}" for n in range(21)]}, "tags"),
        ({"prompt": "a", "tags": ["x" * 31]}, "tags"),
        ({"prompt": "a", "tags": 5}, "tags"),
        ({"prompt": "a", "negative_tags": ["a\u0000"]}, "negativeTags"),
        ({"prompt": "a", "duration": 241}, "duration"),
    ],
)
def test_music_task_bad_input_is_400_and_charges_nothing(auth_api, enqueued, body, field):
    response = auth_api.post("/api/music/tasks", body, format="json")

    assert (response.status_code, response.json()["code"]) == (400, 400)
    assert list(response.json()["details"]) == [field]
    assert not Charge.objects.exists() and not Generation.objects.exists() and enqueued == []


def test_music_task_when_the_quota_is_used_up_is_40004(auth_api, enqueued, django_capture_on_commit_callbacks):
    for _ in range(3):
        create(auth_api)

    with django_capture_on_commit_callbacks(execute=True):
        response = auth_api.post("/api/music/tasks", {"prompt": "a calm song"}, format="json")

    assert (response.status_code, response.json()["code"]) == (402, 40004)
    assert Generation.objects.count() == 3 and enqueued == []  # (the first three never committed: not sent)


def test_music_tasks_of_members_go_to_the_priority_queue(api, member, enqueued, django_capture_on_commit_callbacks):
    api.force_authenticate(member)

    with django_capture_on_commit_callbacks(execute=True):
        task_id = api.post("/api/music/tasks", {"prompt": "a calm song"}, format="json").json()["data"]["taskId"]

    assert enqueued == [(task_id, "generation_priority")]


def test_music_task_detail_when_completed(auth_api):
    generation = complete(GenerationFactory(user=auth_api.user, source="music_task"))

    data = auth_api.get(f"/api/music/tasks/{generation.pk}").json()["data"]

    assert data["status"] == "completed"
    assert data["audioUrl"].startswith("http://127.0.0.1:8000/media/")


def test_favorites_list_is_paginated_and_its_query_count_does_not_grow(auth_api, django_assert_max_num_queries):
    mine = [complete(GenerationFactory(user=auth_api.user)) for _ in range(12)]
    for generation in mine:
        Favorite.objects.create(user=auth_api.user, generation=generation)
    Favorite.objects.create(user=GenerationFactory().user, generation=GenerationFactory())  # someone else's

    with django_assert_max_num_queries(6):
        first = auth_api.get("/api/generation/favorites/list?pageSize=10").json()["data"]
    second = auth_api.get("/api/generation/favorites/list?page=2&pageSize=10").json()["data"]

    assert first["pagination"] == {"page": 1, "pageSize": 10, "total": 12, "totalPages": 2}
    assert [g["generationId"] for g in first["list"] + second["list"]] == [str(g.pk) for g in reversed(mine)]
    assert all(g["isFavorite"] and g["result"]["audioUrl"] for g in first["list"])
