"""Signed requests (API_SIGNING_REQUIRED): good, stale, future, replayed, tampered, wrong secret, disabled key,
exempt routes — each request signed exactly as the README's Python example does (security/client_example.py, the
file the README shows)."""

import json
import re
from pathlib import Path

import pytest
import time_machine

from security import services
from security.client_example import sign_request

pytestmark = pytest.mark.django_db

README = Path(__file__).resolve().parents[2] / "README.md"
EXAMPLE = Path(__file__).resolve().parents[1] / "client_example.py"


def signed(client, method, path, *, key, secret, body=b"", sign_body=None, sign_path=None, **extra):
    headers = sign_request(
        key, secret, method, f"http://testserver{sign_path or path}", body if sign_body is None else sign_body
    )
    meta = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
    content_type = "application/json" if body else None
    kwargs = {"content_type": content_type} if content_type else {}
    return client.generic(method, path, body, **kwargs, **meta, **extra), headers


def reason(response):
    body = response.json()
    assert response.status_code == 401 and body["code"] == 401, body
    return body["details"]["reason"]


def test_the_readme_shows_the_example_that_the_tests_sign_with():
    assert EXAMPLE.read_text().strip() in README.read_text()


def test_a_signed_request_passes_and_an_unsigned_one_is_refused(signing_on, app_key, auth_api):
    response, _ = signed(auth_api, "GET", "/api/user/me", key=app_key.key.key_id, secret=app_key.secret)
    assert response.status_code == 200, response.json()

    unsigned = auth_api.get("/api/user/me")
    assert reason(unsigned) == "missing"


def test_a_signed_post_with_query_and_body_passes(signing_on, app_key, auth_api, monkeypatch):
    from generation import tasks

    monkeypatch.setattr(tasks.generation_run, "apply_async", lambda *args, **kwargs: None)
    body = json.dumps({"prompt": "雨后的城市"}).encode()
    response, _ = signed(
        auth_api, "POST", "/api/generation/create?b=2&a=1&a=0", key=app_key.key.key_id, secret=app_key.secret, body=body
    )
    assert response.status_code == 201, response.json()


def test_signing_off_lets_unsigned_requests_through(settings, auth_api):
    settings.API_SIGNING_REQUIRED = False
    assert auth_api.get("/api/user/me").status_code == 200


def test_a_stale_timestamp_is_refused(signing_on, app_key, auth_api):
    with time_machine.travel("2026-01-01 00:00:00+00:00", tick=False) as clock:
        headers = sign_request(app_key.key.key_id, app_key.secret, "GET", "http://testserver/api/user/me")
        clock.shift(5 * 60 + 1)
        meta = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
        assert reason(auth_api.get("/api/user/me", **meta)) == "stale"


def test_a_timestamp_from_the_future_is_refused(signing_on, app_key, auth_api):
    with time_machine.travel("2026-01-01 00:10:00+00:00", tick=False) as clock:
        headers = sign_request(app_key.key.key_id, app_key.secret, "GET", "http://testserver/api/user/me")
        clock.shift(-(5 * 60 + 1))
        meta = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
        assert reason(auth_api.get("/api/user/me", **meta)) == "stale"


def test_within_the_window_a_little_clock_skew_is_fine(signing_on, app_key, auth_api):
    with time_machine.travel("2026-01-01 00:10:00+00:00", tick=False) as clock:
        headers = sign_request(app_key.key.key_id, app_key.secret, "GET", "http://testserver/api/user/me")
        clock.shift(4 * 60)
        meta = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
        assert auth_api.get("/api/user/me", **meta).status_code == 200


def test_a_replayed_request_is_refused(signing_on, app_key, auth_api):
    first, headers = signed(auth_api, "GET", "/api/user/me", key=app_key.key.key_id, secret=app_key.secret)
    assert first.status_code == 200
    meta = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    assert reason(auth_api.get("/api/user/me", **meta)) == "replayed"


def test_a_tampered_body_is_refused_and_nothing_is_created(signing_on, app_key, auth_api):
    from generation.models import Generation

    body = json.dumps({"prompt": "rainy city"}).encode()
    tampered = json.dumps({"prompt": "sunny city"}).encode()
    response, _ = signed(
        auth_api,
        "POST",
        "/api/generation/create",
        key=app_key.key.key_id,
        secret=app_key.secret,
        body=tampered,
        sign_body=body,
    )
    assert reason(response) == "bad_signature"
    assert not Generation.objects.exists()


def test_a_tampered_query_is_refused(signing_on, app_key, auth_api):
    response, _ = signed(
        auth_api,
        "GET",
        "/api/generation?status=failed",
        sign_path="/api/generation?status=completed",
        key=app_key.key.key_id,
        secret=app_key.secret,
    )
    assert reason(response) == "bad_signature"


def test_a_tampered_path_or_method_is_refused(signing_on, app_key, auth_api):
    headers = sign_request(app_key.key.key_id, app_key.secret, "GET", "http://testserver/api/generation")
    meta = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    assert reason(auth_api.get("/api/generation/favorites/list", **meta)) == "bad_signature"
    assert reason(auth_api.post("/api/generation", **meta)) == "bad_signature"


def test_a_wrong_secret_is_refused(signing_on, app_key, auth_api):
    response, _ = signed(auth_api, "GET", "/api/user/me", key=app_key.key.key_id, secret="not-the-secret")
    assert reason(response) == "bad_signature"


def test_an_unknown_key_is_refused(signing_on, app_key, auth_api):
    response, _ = signed(auth_api, "GET", "/api/user/me", key="ak_unknown", secret=app_key.secret)
    assert reason(response) == "unknown_key"


def test_a_disabled_key_is_refused_at_once_and_another_active_key_of_the_app_still_works(
    signing_on, app_key, auth_api, django_capture_on_commit_callbacks
):
    second = services.app_key_create(app="miniprogram", note="rotation")
    ok, _ = signed(auth_api, "GET", "/api/user/me", key=app_key.key.key_id, secret=app_key.secret)
    assert ok.status_code == 200  # the key is cached now

    with django_capture_on_commit_callbacks(execute=True):
        services.app_keys_disable(keys=[app_key.key])

    refused, _ = signed(auth_api, "GET", "/api/user/me", key=app_key.key.key_id, secret=app_key.secret)
    assert reason(refused) == "unknown_key"
    still, _ = signed(auth_api, "GET", "/api/user/me", key=second.key.key_id, secret=second.secret)
    assert still.status_code == 200


@pytest.mark.parametrize("missing", ["X-App-Key", "X-Timestamp", "X-Nonce", "X-Signature"])
def test_each_header_is_required(signing_on, app_key, auth_api, missing):
    headers = sign_request(app_key.key.key_id, app_key.secret, "GET", "http://testserver/api/user/me")
    del headers[missing]
    meta = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    assert reason(auth_api.get("/api/user/me", **meta)) == "missing"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/payment/wechat/notify"),
        ("POST", "/api/payment/alipay/notify"),
        ("POST", "/api/generation/callback/local"),
        ("GET", "/api/schema/"),
        ("GET", "/api/docs/"),
        ("GET", "/healthz"),
        ("GET", "/metrics"),
        ("GET", "/admin/login/"),
        ("GET", "/w/00000000-0000-0000-0000-000000000000"),
    ],
)
def test_exempt_routes_need_no_signature(signing_on, api, method, path):
    response = api.generic(method, path, b"", content_type="application/json")
    assert response.status_code != 401
    if response.get("Content-Type", "").startswith("application/json"):
        body = response.json()
        assert not (isinstance(body, dict) and (body.get("details") or {}).get("reason")), body


def test_the_schema_documents_the_headers(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    params = schema["paths"]["/api/user/me"]["get"]["parameters"]
    names = {param["name"] for param in params if param["in"] == "header"}
    assert {"X-App-Key", "X-Timestamp", "X-Nonce", "X-Signature"} <= names
    notify = schema["paths"]["/api/payment/wechat/notify"]["post"].get("parameters", [])
    assert not any(param["name"] == "X-Signature" for param in notify)


def test_signed_photo_uploads_larger_than_the_memory_limit_still_parse(signing_on, app_key, auth_api, settings):
    """A body above DATA_UPLOAD_MAX_MEMORY_SIZE is hashed through a spooled copy; the view still reads it."""
    from io import BytesIO

    from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    image = BytesIO(b"\xff\xd8" + b"0" * 4096)
    image.name = "photo.jpg"
    body = encode_multipart(BOUNDARY, {"title": "x", "image": image})
    headers = sign_request(app_key.key.key_id, app_key.secret, "POST", "http://testserver/api/works", body)
    meta = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    response = auth_api.generic("POST", "/api/works", body, content_type=MULTIPART_CONTENT, **meta)
    # the signature is good and the form was read: the bad image is the view's own answer
    assert response.status_code == 400 and response.json()["code"] == 30001, response.json()
    assert re.search("image", json.dumps(response.json()["details"]))
