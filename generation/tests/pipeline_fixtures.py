"""Fixtures of the pipeline tests: fast pipeline settings, a fake Suno task gateway on 127.0.0.1, a real Celery
worker in a thread. Test modules import the fixtures they use (`from .pipeline_fixtures import ...  # noqa: F401`).
"""

import base64
import io
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
from PIL import Image
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
    calls per task; `submits` keeps the bodies accepted. A body the real gateway would refuse is refused here
    too (`refusal`), and kept in `refused`.
    """

    def __init__(self, server: HTTPServer, audio: bytes, cover: bytes, statuses=SLOW):
        self.server = server
        self.statuses = tuple(statuses)
        self.submit_errors: list[tuple[int, int]] = []
        self.poll_errors: list[tuple[int, int]] = []
        self.submits: list[dict] = []
        self.refused: list[tuple[dict, str]] = []  # bodies the gateway's rules refused, with its reason
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

    @staticmethod
    def refusal(body) -> tuple[int, str] | None:
        """What the gateway answers to a generate body it refuses: (JSON code, msg); None when it accepts it.

        The rules of sunoapi.org's `POST /api/v1/generate` (its documentation), V4_5 limits: `customMode`,
        `instrumental`, `model` and `callBackUrl` are required; custom mode needs `style` and `title`, and a
        `prompt` (the lyrics) unless instrumental; prompt ≤ 5000, style ≤ 1000, title ≤ 100 characters; outside
        custom mode the prompt (a description) is required and ≤ 500 characters.
        """
        if not isinstance(body, dict):
            return 400, "body must be a JSON object"
        if not isinstance(body.get("customMode"), bool) or not isinstance(body.get("instrumental"), bool):
            return 400, "customMode and instrumental are required booleans"
        if not body.get("model") or not body.get("callBackUrl"):
            return 400, "model and callBackUrl are required"
        prompt, style, title = (body.get(key) or "" for key in ("prompt", "style", "title"))
        if not all(isinstance(value, str) for value in (prompt, style, title)):
            return 400, "prompt, style and title must be strings"
        if body["customMode"]:
            if not style.strip() or not title.strip():
                return 400, "style and title are required in custom mode"
            if not body["instrumental"] and not prompt.strip():
                return 400, "prompt is required in custom mode unless instrumental"
            if len(prompt) > 5000 or len(style) > 1000 or len(title) > 100:
                return 413, "prompt, style or title too long"
            return None
        if not prompt.strip():
            return 400, "prompt is required"
        if len(prompt) > 500:
            return 413, "prompt too long: at most 500 characters outside custom mode"
        return None

    def _generate(self, request):
        if not self._authorized(request):
            return self._json({"code": 401, "msg": "unauthorized"}, 401)
        with self._lock:
            if self.submit_errors:
                status, code = self.submit_errors.pop(0)
                return self._json({"code": code, "msg": "error"}, status)
            body = request.get_json(silent=True)
            refused = self.refusal(body)
            if refused is not None:
                self.refused.append((body, refused[1]))
                return self._json({"code": refused[0], "msg": refused[1], "data": None})
            task_id = f"task-{next(self._ids)}"
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
    settings.ASSET_FETCH_PRIVATE_ALLOWLIST = [f"127.0.0.1:{gateway_server.port}"]  # its /files/ are on 127.0.0.1
    return fake


OPENAI_KEY = "sk-test"
VISION_ANSWER = {
    "description": "夕阳下的海边，温暖而安静",
    "mood": "romantic",
    "style": "lofi",
    "tags": ["海边", "夕阳", "Summer"],
    "title": "海风来信",
    "lyrics": None,
}


class FakeOpenAI:
    """An OpenAI-compatible `POST /v1/chat/completions` on 127.0.0.1, speaking what the vision client needs.

    Answers `statuses` in order (the last repeats; an error status carries OpenAI's error body); 200 is a chat
    completion whose content is `answer` as JSON. Like the real API it refuses (401) a wrong key, and (400) a
    request without a model, without `response_format` json_object, or without an `image_url` part holding a
    `data:` URL of a decodable image. `calls` counts requests; `refused` keeps the reasons of refusals.
    """

    def __init__(self, server: HTTPServer, statuses=(200,), answer: dict | None = None):
        self.statuses = list(statuses)
        self.answer = dict(VISION_ANSWER if answer is None else answer)
        self.calls = 0
        self.refused: list[str] = []
        server.expect_request("/v1/chat/completions", method="POST").respond_with_handler(self.handle)

    @staticmethod
    def _error(status: int, code: str, message: str) -> Response:
        body = {"error": {"message": message, "type": code, "param": None, "code": code}}
        return Response(json.dumps(body), status=status, content_type="application/json")

    @staticmethod
    def problem(body) -> str | None:
        if not isinstance(body, dict) or not body.get("model"):
            return "model is required"
        if body.get("response_format") != {"type": "json_object"}:
            return "response_format json_object expected"
        for message in body.get("messages") or []:
            for part in message.get("content") if isinstance(message.get("content"), list) else []:
                url = (part.get("image_url") or {}).get("url", "") if part.get("type") == "image_url" else ""
                if url.startswith("data:image/") and ";base64," in url:
                    try:
                        Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).verify()
                    except Exception:
                        return "invalid_image_format"
                    return None
        return "an image_url part with a data URL is required"

    def handle(self, request):
        self.calls += 1
        if request.headers.get("Authorization") != f"Bearer {OPENAI_KEY}":
            self.refused.append("invalid_api_key")
            return self._error(401, "invalid_api_key", "Incorrect API key provided")
        problem = self.problem(request.get_json(silent=True))
        if problem:
            self.refused.append(problem)
            return self._error(400, "invalid_request_error", problem)
        status = self.statuses[min(self.calls - 1, len(self.statuses) - 1)]
        if status != 200:
            return self._error(status, "server_error" if status >= 500 else "invalid_request_error", "nope")
        completion = {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1700000000,
            "model": "gpt-4o-mini",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": json.dumps(self.answer, ensure_ascii=False)},
                    "finish_reason": "stop",
                    "logprobs": None,
                }
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
        return Response(json.dumps(completion), status=200, content_type="application/json")


@pytest.fixture
def openai_vision(settings, httpserver):
    """`openai_vision(statuses=(200,), answer=None)`: VISION_PROVIDER=openai pointed at a FakeOpenAI."""

    def make(statuses=(200,), answer: dict | None = None) -> FakeOpenAI:
        fake = FakeOpenAI(httpserver, statuses, answer)
        settings.VISION_PROVIDER = "openai"
        settings.OPENAI_API_KEY = OPENAI_KEY
        settings.OPENAI_BASE_URL = httpserver.url_for("/v1")
        settings.OPENAI_TIMEOUT = 5.0
        return fake

    return make


class Jobs:
    """Celery jobs sent by the code under test, delivered by hand in the order sent (as one worker would, ETAs
    ignored: the pipeline tolerates early jobs within its slack), each in a transaction whose on-commit callbacks
    run, so that what a job enqueues on commit is sent too."""

    def __init__(self, monkeypatch, capture):
        self.sent: list[tuple] = []
        self._monkeypatch = monkeypatch
        self._capture = capture

    def watch(self, *tasks) -> "Jobs":
        for task in tasks:
            self._monkeypatch.setattr(
                task,
                "apply_async",
                lambda args=(), kwargs=None, task=task, **options: self.sent.append((task, tuple(args))),
            )
        return self

    def run(self, call):
        """Run `call()` with its on-commit callbacks executed (a request, a service)."""
        with self._capture(execute=True):
            return call()

    def drain(self, limit: int = 200) -> list[tuple[str, object]]:
        outcomes = []
        for _ in range(limit):
            if not self.sent:
                return outcomes
            task, args = self.sent.pop(0)
            outcomes.append((task.name, self.run(lambda task=task, args=args: task(*args))))
        raise AssertionError(f"still sending jobs after {limit}: {outcomes[-5:]}")


@pytest.fixture
def jobs(monkeypatch, django_capture_on_commit_callbacks):
    """The pipeline's jobs (and whatever else a test `watch`es), delivered by `jobs.drain()`."""
    from generation.tasks import generation_run

    return Jobs(monkeypatch, django_capture_on_commit_callbacks).watch(generation_run)


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
    # The jobs earlier tests enqueued with no worker running (their rows long gone) go: consumed now, they would
    # write while this module's first test starts (on SQLite a "table is locked" there, seen in CI).
    app.control.purge()
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
