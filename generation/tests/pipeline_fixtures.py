"""Fixtures of the pipeline tests: fast pipeline settings, a fake Suno task gateway on 127.0.0.1, a real Celery
worker in a thread. Test modules import the fixtures they use (`from .pipeline_fixtures import ...  # noqa: F401`).
"""

import itertools
import json
import threading
import time
from collections import Counter

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.db import connections
from django.db.backends.signals import connection_created
from pytest_httpserver import HTTPServer
from werkzeug import Response

from generation.providers.base import MusicRequest
from generation.providers.local_music import LocalMusicProvider

SUNO_KEY = "test-key"
SLOW = ("PENDING", "TEXT_SUCCESS", "FIRST_SUCCESS", "SUCCESS")


@pytest.fixture
def fast_pipeline(settings):
    """Polls and retries within a fraction of a second; the local providers."""
    settings.GENERATION_POLL_INTERVAL = 0.05
    settings.GENERATION_POLL_MAX_INTERVAL = 0.2
    settings.GENERATION_RETRY_BACKOFF = 0.05
    settings.GENERATION_MAX_RETRIES = 3
    settings.GENERATION_TIMEOUT = 600
    settings.MUSIC_PROVIDER = "local"
    settings.VISION_PROVIDER = "local"
    settings.PUBLIC_BASE_URL = "http://testserver"


@pytest.fixture(scope="session")
def song_files():
    """A real 10-second MP3 and a JPEG cover, as a gateway would serve them (rendered once by the local provider)."""
    track = LocalMusicProvider().submit(MusicRequest(prompt="gateway song", duration=10, seed="fake")).result.track
    return track.audio.data, track.cover.data


class FakeSuno:
    """sunoapi.org's task gateway: `POST /api/v1/generate` → taskId; `GET /api/v1/generate/record-info` walks
    each task through `statuses` (one per poll, the last repeats); `/files/*` serves the songs' files.

    `submit_errors`: (HTTP status, JSON code) answered to the next submits, in order. `polls` counts record-info
    calls per task; `submits` keeps the bodies received.
    """

    def __init__(self, server: HTTPServer, audio: bytes, cover: bytes, statuses=SLOW):
        self.server = server
        self.statuses = tuple(statuses)
        self.submit_errors: list[tuple[int, int]] = []
        self.poll_errors: list[tuple[int, int]] = []
        self.submits: list[dict] = []
        self.polls: Counter = Counter()
        self.tasks: dict[str, dict] = {}
        self.error_message = "Song Description contained artist name"
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        server.expect_request("/api/v1/generate", method="POST").respond_with_handler(self._generate)
        server.expect_request("/api/v1/generate/record-info", method="GET").respond_with_handler(self._record_info)
        server.expect_request("/files/song.mp3").respond_with_data(audio, content_type="audio/mpeg")
        server.expect_request("/files/cover.jpeg").respond_with_data(cover, content_type="image/jpeg")

    @property
    def base_url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    @staticmethod
    def _json(body: dict, status: int = 200) -> Response:
        return Response(json.dumps(body), status=status, content_type="application/json")

    def _authorized(self, request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {SUNO_KEY}"

    def _generate(self, request):
        if not self._authorized(request):
            return self._json({"code": 401, "msg": "unauthorized"}, 401)
        with self._lock:
            if self.submit_errors:
                status, code = self.submit_errors.pop(0)
                return self._json({"code": code, "msg": "error"}, status)
            task_id = f"task-{next(self._ids)}"
            body = request.get_json()
            self.submits.append(body)
            self.tasks[task_id] = body
        return self._json({"code": 200, "msg": "success", "data": {"taskId": task_id}})

    def _record_info(self, request):
        if not self._authorized(request):
            return self._json({"code": 401, "msg": "unauthorized"}, 401)
        task_id = request.args.get("taskId", "")
        with self._lock:
            if self.poll_errors:
                status, code = self.poll_errors.pop(0)
                return self._json({"code": code, "msg": "error"}, status)
            if task_id not in self.tasks:
                return self._json({"code": 404, "msg": "task not found"}, 200)
            index = self.polls[task_id]
            self.polls[task_id] += 1
            body = self.tasks[task_id]
        status = self.statuses[min(index, len(self.statuses) - 1)]
        data = {"taskId": task_id, "status": status, "param": json.dumps(body), "response": {"sunoData": []}}
        if status in ("FIRST_SUCCESS", "SUCCESS"):
            data["response"]["sunoData"] = [self._song(task_id, n, done=status == "SUCCESS") for n in (1, 2)]
        if status.endswith(("FAILED", "ERROR")):
            data.update(errorCode=400, errorMessage=self.error_message)
        return self._json({"code": 200, "msg": "success", "data": data})

    def _song(self, task_id: str, n: int, *, done: bool) -> dict:
        return {
            "id": f"{task_id}-song-{n}",
            "audioUrl": self.server.url_for("/files/song.mp3") if done else "",
            "streamAudioUrl": self.server.url_for(f"/stream/{task_id}-{n}"),
            "imageUrl": self.server.url_for("/files/cover.jpeg") if done else "",
            "prompt": "[Verse]\n雨停了 城市在发光",
            "modelName": "chirp-v4-5",
            "title": f"雨后 {n}",
            "tags": "pop, piano",
            "createTime": "2025-01-01 00:00:00",
            "duration": 10.0 if done else None,
        }

    def callback_body(self, task_id: str, callback_type: str = "complete") -> dict:
        """What the gateway POSTs to our callBackUrl (only the task id is read from it)."""
        song = self._song(task_id, 1, done=True)
        return {
            "code": 200,
            "msg": "All generated successfully.",
            "data": {
                "callbackType": callback_type,
                "task_id": task_id,
                "data": [{"id": song["id"], "audio_url": "https://evil.example/x.mp3", "title": "forged"}],
            },
        }


@pytest.fixture
def gateway_server():
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def suno(settings, fast_pipeline, gateway_server, song_files):
    """MUSIC_PROVIDER=suno pointed at a fake gateway whose tasks finish on the 4th poll."""
    fake = FakeSuno(gateway_server, *song_files)
    settings.MUSIC_PROVIDER = "suno"
    settings.SUNO_API_BASE = fake.base_url
    settings.SUNO_API_KEY = SUNO_KEY
    settings.SUNO_TIMEOUT = 5.0
    return fake


def _close_thread_connections(**kwargs):
    connections.close_all()


def _read_uncommitted(connection, **kwargs):
    if connection.vendor == "sqlite":
        connection.connection.execute("PRAGMA read_uncommitted = 1")


@pytest.fixture(scope="module")
def celery_worker():
    """A real Celery worker (the project's app, every queue) in a thread, consuming the in-memory broker; one per
    test module (stopping one takes seconds). Settings changed by a test apply to it too (same process).

    On SQLite the test database is in memory, shared between the threads' connections in shared-cache mode, where
    a reader blocks a writer at once ("table is locked") instead of waiting: readers there read uncommitted rows
    so that the test can poll the API while the worker writes. PostgreSQL needs nothing of the sort.
    """
    from tunee.celery import app

    task_postrun.connect(_close_thread_connections, weak=False)
    connection_created.connect(_read_uncommitted, weak=False)
    if connections["default"].connection is not None:
        _read_uncommitted(connections["default"])
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30) as w:
            yield w
    finally:
        task_postrun.disconnect(_close_thread_connections)
        connection_created.disconnect(_read_uncommitted)


def wait_for(predicate, *, timeout: float = 60.0, interval: float = 0.05):
    """Poll `predicate` until it returns something truthy (returned), or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not done within {timeout} s")
        time.sleep(interval)
