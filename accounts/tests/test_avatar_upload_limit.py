"""Avatar uploads (`POST /api/users`, `PATCH /api/user/me`): a body declared larger than AVATAR_MAX_BYTES plus a
small allowance for the other fields is refused from its Content-Length, before any of it is read."""

import io

import pytest

from accounts.models import User
from accounts.tests.helpers import body, image_upload

pytestmark = pytest.mark.django_db

STRONG = "Melody-Harbor-2024"
HUGE = str(500 * 1024 * 1024)


class UnreadBody(io.BytesIO):
    """A request body that remembers whether anyone read from it."""

    touched = False

    def read(self, *args):
        self.touched = True
        return super().read(*args)

    def readline(self, *args):
        self.touched = True
        return super().readline(*args)


def huge(**extra):
    """What the test client sends for a body that claims 500 MB; only a few bytes of it are there."""
    stream = UnreadBody(b"--BoUnDaRy\r\n")
    environ = {
        "CONTENT_LENGTH": HUGE,
        "CONTENT_TYPE": "multipart/form-data; boundary=BoUnDaRy",
        "wsgi.input": stream,
        **extra,
    }
    return stream, environ


def test_register_with_a_huge_declared_body_is_refused_unread(api):
    stream, environ = huge()

    data = body(api.generic("POST", "/api/users", b"", **environ), 400, 400)

    assert list(data["details"]) == ["avatar"] and "5" in data["details"]["avatar"][0]
    assert stream.touched is False
    assert User.objects.count() == 0


def test_profile_patch_with_a_huge_declared_body_is_refused_unread(auth_api, user):
    stream, environ = huge(HTTP_ACCEPT_LANGUAGE="en")

    data = body(auth_api.generic("PATCH", "/api/user/me", b"", **environ), 400, 400)

    assert data["details"]["avatar"] == ["The avatar must be at most 5.0 MB"]
    assert stream.touched is False
    user.refresh_from_db()
    assert not user.avatar


def test_the_limit_follows_avatar_max_bytes(auth_api, settings):
    settings.AVATAR_MAX_BYTES = 1024 * 1024
    stream, environ = huge(CONTENT_LENGTH=str(2 * 1024 * 1024))

    body(auth_api.generic("PATCH", "/api/user/me", b"", **environ), 400, 400)

    assert stream.touched is False


def test_anonymous_profile_patch_is_still_401(api):
    _stream, environ = huge()

    body(api.generic("PATCH", "/api/user/me", b"", **environ), 401, 401)


def test_normal_avatar_uploads_still_work(api, auth_api, user):
    registered = api.post(
        "/api/users", {"username": "alice", "email": "alice@example.com", "password": STRONG, "avatar": image_upload()}
    )
    patched = auth_api.patch("/api/user/me", {"avatar": image_upload("b.png", fmt="PNG")}, format="multipart")

    assert body(registered, 201, 0)["data"]["user"]["avatarUrl"]
    assert "/media/avatars/" in body(patched, 200, 0)["data"]["avatarUrl"]
