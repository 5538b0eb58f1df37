"""Fixtures of the notifications tests: fake WeChat and JPush servers on 127.0.0.1 (pytest-httpserver) speaking
their protocols, the notifications queue of the in-memory broker, and a user who can be told things."""

import base64
import json
from dataclasses import dataclass, field

import pytest
from werkzeug import Request, Response

from accounts.tests.factories import UserFactory
from notifications.providers import push as push_providers
from tunee.celery import app as celery_app

APP_ID = "wx-test-app"
APP_SECRET = "wx-test-secret"
TEMPLATE_READY = "tmpl-ready_Ab-1"
TEMPLATE_FAILED = "tmpl-failed_Cd-2"
JPUSH_KEY = "jpush-test-key"
JPUSH_SECRET = "jpush-test-secret"


class NotificationsQueue:
    """The `notifications` queue of the in-memory broker; `deliver()` runs what is there, and what those jobs
    enqueue, in-process as a worker would (no worker runs in tests). Returns the task names run."""

    name = "notifications"

    def drain(self) -> list[tuple[str, list, dict]]:
        jobs = []
        with celery_app.connection_for_read() as conn:
            queue = conn.SimpleQueue(self.name)
            try:
                while True:
                    try:
                        message = queue.get(block=False)
                    except queue.Empty:
                        break
                    args, kwargs, _embed = message.payload
                    jobs.append((message.headers["task"], args, kwargs))
                    message.ack()
            finally:
                queue.close()
        return jobs

    def deliver(self, limit: int = 20) -> list[str]:
        ran = []
        for _ in range(limit):
            jobs = self.drain()
            if not jobs:
                return ran
            for task, args, kwargs in jobs:
                # throw=False: a retry runs again at once, eagerly (the countdown is not waited for)
                result = celery_app.tasks[task].apply(args=args, kwargs=kwargs, throw=False)
                if result.failed():
                    raise result.result
                ran.append(task)
        raise AssertionError(f"still enqueueing after {limit} rounds: {ran[-5:]}")


@pytest.fixture
def notifications_queue():
    queue = NotificationsQueue()
    queue.drain()  # nothing left over from another test
    yield queue
    queue.drain()


@pytest.fixture
def pushes(settings):
    """The locmem push backend's outbox (a list of SentPush)."""
    settings.PUSH_BACKEND = "locmem"
    push_providers.outbox.clear()
    yield push_providers.outbox
    push_providers.outbox.clear()


@pytest.fixture
def owner(db):
    """A mini program user (WeChat openid) who also has the app."""
    return UserFactory(wechat_openid="o-owner", username="xiaoming")


@dataclass
class FakeWechat:
    """WeChat's server: `GET /cgi-bin/token` hands out tokens (`tokens`, in order, one per fetch), `POST
    /cgi-bin/message/subscribe/send` answers `answers` in order (then `{"errcode": 0}`), checking the token."""

    server: object
    tokens: list[str] = field(default_factory=lambda: ["token-1", "token-2", "token-3"])
    answers: list[dict] = field(default_factory=list)
    fetches: int = 0
    sent: list[dict] = field(default_factory=list)  # bodies of the send calls, with the token they carried

    def install(self):
        self.server.expect_request("/cgi-bin/token", method="GET").respond_with_handler(self._token)
        self.server.expect_request("/cgi-bin/message/subscribe/send", method="POST").respond_with_handler(self._send)

    def _token(self, request: Request) -> Response:
        args = request.args
        if (args.get("grant_type"), args.get("appid"), args.get("secret")) != ("client_credential", APP_ID, APP_SECRET):
            return _json({"errcode": 40013, "errmsg": "invalid appid"})
        self.fetches += 1
        return _json({"access_token": self.tokens[self.fetches - 1], "expires_in": 7200})

    def _send(self, request: Request) -> Response:
        body = json.loads(request.get_data())
        self.sent.append({"access_token": request.args.get("access_token"), **body})
        if self.answers:
            return _json(self.answers.pop(0))
        return _json({"errcode": 0, "errmsg": "ok", "msgid": 294402298110051942})


@pytest.fixture
def wechat(settings, httpserver):
    settings.WECHAT_APP_ID = APP_ID
    settings.WECHAT_APP_SECRET = APP_SECRET
    settings.WECHAT_API_BASE = httpserver.url_for("/")
    settings.WECHAT_TIMEOUT_SECONDS = 1.0
    settings.WECHAT_TEMPLATE_SONG_READY = TEMPLATE_READY
    settings.WECHAT_TEMPLATE_SONG_FAILED = TEMPLATE_FAILED
    settings.WECHAT_MINIPROGRAM_STATE = "trial"
    fake = FakeWechat(httpserver)
    fake.install()
    return fake


@dataclass
class FakeJPush:
    """JPush's Push API v3: `POST /v3/push` with HTTP Basic auth (app key, master secret); registration ids in
    `unknown` answer 400 with error 1011 (no such target), `answers` (status, body) are given first, in order."""

    server: object
    unknown: set[str] = field(default_factory=set)
    answers: list[tuple[int, dict]] = field(default_factory=list)
    pushes: list[dict] = field(default_factory=list)

    def install(self):
        self.server.expect_request("/v3/push", method="POST").respond_with_handler(self._push)

    def _push(self, request: Request) -> Response:
        expected = "Basic " + base64.b64encode(f"{JPUSH_KEY}:{JPUSH_SECRET}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return _json({"error": {"code": 1004, "message": "basic auth failed"}}, status=401)
        body = json.loads(request.get_data())
        if self.answers:
            status, answer = self.answers.pop(0)
            return _json(answer, status=status)
        ids = body["audience"]["registration_id"]
        if set(ids) <= self.unknown:
            return _json({"error": {"code": 1011, "message": "cannot find user by this audience"}}, status=400)
        self.pushes.append(body)
        return _json({"sendno": "0", "msg_id": str(1000 + len(self.pushes))})


@pytest.fixture
def jpush(settings, httpserver):
    settings.PUSH_BACKEND = "jpush"
    settings.JPUSH_APP_KEY = JPUSH_KEY
    settings.JPUSH_MASTER_SECRET = JPUSH_SECRET
    settings.JPUSH_API_BASE = httpserver.url_for("/v3/")
    settings.JPUSH_TIMEOUT_SECONDS = 1.0
    settings.JPUSH_APNS_PRODUCTION = False
    fake = FakeJPush(httpserver)
    fake.install()
    return fake


def _json(data, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, content_type="application/json")
