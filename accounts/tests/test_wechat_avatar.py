"""A WeChat avatarUrl is copied into our storage, re-encoded, by a job after the login; never shown as given."""

import io
import struct
import zlib

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from accounts.models import User
from accounts.services import wechat_avatar_copy
from accounts.tests.conftest import NotificationsQueue
from accounts.tests.helpers import body, image_upload

pytestmark = pytest.mark.django_db


class DefaultQueue(NotificationsQueue):
    name = "files"  # photo processing (tunee/queues.py)


@pytest.fixture
def default_queue():
    queue = DefaultQueue()
    queue.drain()
    yield queue
    queue.drain()


@pytest.fixture
def sandbox(settings):
    settings.WECHAT_APP_ID = ""
    settings.WECHAT_SANDBOX = True


@pytest.fixture
def avatar_server(settings, httpserver):
    """pytest-httpserver's server, on the allowlist, serving a JPEG with EXIF (GPS) at /a.jpg."""
    settings.ASSET_FETCH_PRIVATE_ALLOWLIST = [f"{httpserver.host}:{httpserver.port}"]
    httpserver.expect_request("/a.jpg").respond_with_data(
        image_upload(size=(300, 200)).read(), content_type="image/jpeg"
    )
    return httpserver


def login(api, capture, url: str) -> dict:
    with capture(execute=True):
        response = api.post("/api/auth/wechat-login", {"code": "abc", "avatarUrl": url}, format="json")
    return body(response, 200, 0)["data"]


def me(api, data) -> dict:
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {data['accessToken']}")
    return body(api.get("/api/user/me"), 200, 0)["data"]


def test_the_clients_url_is_never_shown_and_our_reencoded_copy_is_after_the_job(
    api, sandbox, avatar_server, default_queue, django_capture_on_commit_callbacks
):
    url = avatar_server.url_for("/a.jpg")
    data = login(api, django_capture_on_commit_callbacks, url)

    assert data["user"]["wechat"]["avatarUrl"] is None and data["user"]["avatarUrl"] is None
    assert avatar_server.log == []  # the login did not fetch it
    jobs = default_queue.drain()
    assert [(job.task, job.args, job.queue) for job in jobs] == [
        ("accounts.copy_wechat_avatar", [data["user"]["id"], url], "files")
    ]

    assert wechat_avatar_copy(user_id=data["user"]["id"], url=url) is True

    profile = me(api, data)
    user = User.objects.get()
    assert user.wechat_avatar.name.startswith(f"avatars/{user.pk}/")
    assert profile["wechat"]["avatarUrl"] == f"http://127.0.0.1:8000/media/{user.wechat_avatar.name}"
    assert profile["avatarUrl"] == profile["wechat"]["avatarUrl"]  # no uploaded avatar: the WeChat one stands in
    with default_storage.open(user.wechat_avatar.name) as stored, Image.open(stored) as image:
        assert image.format == "JPEG" and not image.getexif()  # re-encoded: no camera, no GPS


def test_a_private_address_is_refused(api, settings, sandbox, avatar_server, django_capture_on_commit_callbacks):
    url = avatar_server.url_for("/a.jpg")
    data = login(api, django_capture_on_commit_callbacks, url)
    settings.ASSET_FETCH_PRIVATE_ALLOWLIST = []

    assert wechat_avatar_copy(user_id=data["user"]["id"], url=url) is False

    assert avatar_server.log == []
    assert not User.objects.get().wechat_avatar
    assert me(api, data)["wechat"]["avatarUrl"] is None
    for internal in ("http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/a.jpg", "file:///etc/passwd"):
        User.objects.update(wechat_avatar_url=internal)
        assert wechat_avatar_copy(user_id=data["user"]["id"], url=internal) is False


def pixel_bomb() -> bytes:
    """A tiny PNG whose header declares 30000 x 30000 pixels."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4)).save(out, format="GIF")
    return out.getvalue()


@pytest.mark.parametrize(
    "content",
    [b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', b"<html></html>", pixel_bomb(), gif()],
    ids=["svg", "html", "pixel-bomb", "gif"],
)
def test_what_is_not_a_sane_image_is_dropped(api, sandbox, avatar_server, django_capture_on_commit_callbacks, content):
    avatar_server.expect_request("/bad").respond_with_data(content, content_type="image/png")
    url = avatar_server.url_for("/bad")
    data = login(api, django_capture_on_commit_callbacks, url)

    assert wechat_avatar_copy(user_id=data["user"]["id"], url=url) is False
    assert not User.objects.get().wechat_avatar


def test_a_copy_for_a_url_the_user_no_longer_has_is_skipped(
    api, sandbox, avatar_server, django_capture_on_commit_callbacks
):
    data = login(api, django_capture_on_commit_callbacks, avatar_server.url_for("/a.jpg"))
    User.objects.update(wechat_avatar_url="https://thirdwx.qlogo.cn/newer.jpg")  # a later login brought another

    assert wechat_avatar_copy(user_id=data["user"]["id"], url=avatar_server.url_for("/a.jpg")) is False
    assert avatar_server.log == []


def test_a_broker_that_is_down_does_not_fail_the_login(api, sandbox, monkeypatch, django_capture_on_commit_callbacks):
    def down(*args, **kwargs):
        raise OSError("broker unreachable")

    monkeypatch.setattr("accounts.tasks.copy_wechat_avatar.apply_async", down)
    data = login(api, django_capture_on_commit_callbacks, "https://thirdwx.qlogo.cn/a.jpg")

    assert data["user"]["wechat"]["avatarUrl"] is None
    assert User.objects.get().wechat_avatar_url == "https://thirdwx.qlogo.cn/a.jpg"
