"""Stored files served from our origin: never as HTML or SVG, never `private/` without a signed, unexpired link."""

from datetime import timedelta

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from tunee.storage import public_url, signed_url

MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 100
SAFE = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox"}


def stored(name: str, data: bytes = MP3) -> str:
    return default_storage.save(name, ContentFile(data))


def path_of(url: str) -> str:
    return url.removeprefix("http://127.0.0.1:8000")


@pytest.mark.parametrize(
    ("name", "content_type"),
    [("a/song.mp3", "audio/mpeg"), ("a/cover.jpg", "image/jpeg"), ("a/x.png", "image/png"), ("a/x.m4a", "audio/mp4")],
)
def test_stored_types_are_served_with_their_type_and_the_safety_headers(client, name, content_type):
    stored(name)
    response = client.get(f"/media/{name}")
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert "attachment" not in response.get("Content-Disposition", "")
    assert {key: response[key] for key in SAFE} == SAFE


@pytest.mark.parametrize("name", ["a/cover.html", "a/cover.svg", "a/page.htm", "a/x.xml", "a/noext", "a/x.js"])
def test_anything_else_is_a_download_never_a_page(client, name):
    stored(name, b"<svg onload=alert(1)><script>alert(1)</script></svg>")
    response = client.get(f"/media/{name}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == "attachment"
    assert {key: response[key] for key in SAFE} == SAFE


def test_private_files_are_not_served_by_the_media_view(client):
    name = stored("private/generations/g/audio-hq-0123.mp3")
    for path in (f"/media/{name}", "/media/generations/../private/generations/g/audio-hq-0123.mp3", "/media/private/"):
        assert client.get(path).status_code == 404, path
    assert public_url(name).startswith("http://127.0.0.1:8000/media-signed/")  # even public_url signs it


def test_a_signed_link_serves_the_file_until_it_expires(client, settings):
    settings.MEDIA_SIGNED_URL_TTL = 60
    name = stored("private/generations/g/audio-hq-4567.mp3")
    url = signed_url(name)

    response = client.get(path_of(url))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == MP3
    assert response["Content-Type"] == "audio/mpeg"
    assert {key: response[key] for key in SAFE} == SAFE

    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        assert client.get(path_of(url)).status_code == 404


def test_a_forged_or_altered_signed_link_is_404(client):
    name = stored("private/generations/g/audio-hq-89ab.mp3")
    token = signed_url(name).rsplit("/", 1)[1]
    for forged in (token[:-2] + "xx", "nothing", token.replace(":", "-", 1)):
        assert client.get(f"/media-signed/{forged}").status_code == 404
    other = signed_url("private/generations/g/does-not-exist.mp3")
    assert client.get(path_of(other)).status_code == 404


def test_a_signed_link_to_an_unsafe_type_is_still_a_download(client):
    name = stored("private/x/page.html", b"<script>alert(1)</script>")
    response = client.get(path_of(signed_url(name)))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream" and response["Content-Disposition"] == "attachment"


@pytest.mark.parametrize("script_prefix", ["/", "/tunee/"])
def test_a_signed_link_is_the_url_reverse_gives_for_its_token(settings, script_prefix):
    from django.urls import reverse, set_script_prefix

    from tunee.storage import signed_name

    set_script_prefix(script_prefix)
    try:
        url = signed_url("private/a/0123456789abcdef.mp3")
        token = url.rsplit("/", 1)[1]
        assert url == settings.PUBLIC_BASE_URL + reverse("media-signed", kwargs={"token": token})
        assert signed_name(token) == "private/a/0123456789abcdef.mp3"
    finally:
        set_script_prefix("/")


def test_a_compressed_token_of_an_earlier_link_still_opens_it():
    import time

    from django.core import signing

    from tunee.storage import SIGNED_SALT, signed_name

    token = signing.dumps({"n": "private/a/x.mp3", "e": int(time.time()) + 60}, salt=SIGNED_SALT, compress=True)

    assert signed_name(token) == "private/a/x.mp3"
