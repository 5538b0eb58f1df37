"""What `make run` shows: a real Celery worker (the project's app in a thread, every queue, the in-memory broker)
finishes a song created over HTTP and prints one `PUSH to <owner>: <text>` line through the console twin."""

import pytest

from generation.models import Generation
from generation.tests.pipeline_fixtures import celery_worker, fast_pipeline, wait_for  # noqa: F401
from notifications.models import Delivery

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("fast_pipeline"),
]


def test_a_finished_song_prints_one_push_line_for_its_owner(celery_worker, auth_api, user, settings, capfd):  # noqa: F811
    settings.PUSH_BACKEND = "console"
    settings.WECHAT_APP_ID = ""
    response = auth_api.post("/api/generation/create", {"prompt": "雨后的城市", "duration": 10}, format="json")
    assert response.status_code == 201, response.json()
    generation_id = response.json()["data"]["generationId"]

    row = wait_for(
        lambda: Delivery.objects.filter(generation_id=generation_id, channel="push", status="sent").first(),
        timeout=90,
    )
    # The two channels are delivered by two tasks in an order the worker chooses: wait for the WeChat one too.
    wechat = wait_for(
        lambda: (
            Delivery.objects.filter(generation_id=generation_id, channel="wechat")
            .exclude(status__in=["pending", "sending"])
            .first()
        ),
        timeout=30,
    )

    title = Generation.objects.get(pk=generation_id).result_title
    lines = [line for line in capfd.readouterr().out.splitlines() if line.startswith("PUSH to ")]
    assert lines == [f"PUSH to {user.username}: 你的歌曲《{title}》已生成，快去听听吧"]
    assert row.outcome == "completed"
    assert wechat.status == "skipped"
