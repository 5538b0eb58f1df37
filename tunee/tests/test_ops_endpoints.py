"""Probes, metrics, the OpenAPI schema and its offline docs."""

import json

import pytest
from django.core.management import call_command
from django.db.utils import ConnectionHandler

from tunee import health

pytestmark = pytest.mark.django_db


def test_healthz(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_ok_when_everything_is_reachable(client):
    response = client.get("/readyz")

    assert response.status_code == 200, response.json()
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "broker": "ok"}


def test_readyz_is_503_naming_the_database_when_it_is_unreachable(client, monkeypatch):
    unreachable = ConnectionHandler(
        {
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "HOST": "127.0.0.1",
                "PORT": "1",
                "NAME": "x",
                "USER": "x",
                "OPTIONS": {"connect_timeout": 2},
            }
        }
    )
    monkeypatch.setattr(health, "connections", unreachable)

    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["database"]
    assert body["checks"]["database"] == "unavailable"
    assert body["checks"]["cache"] == "ok"


def test_readyz_is_503_naming_the_broker_when_it_is_unreachable(client, monkeypatch):
    from tunee.celery import app

    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["failing"] == ["broker"]


def test_metrics_in_prometheus_format(client):
    client.get("/healthz")

    response = client.get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert "django_http_requests_before_middlewares_total" in response.content.decode()


def test_schema_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.json"

    call_command("spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", "--file", str(out))

    schema = json.loads(out.read_text())
    assert schema["openapi"].startswith("3.")
    assert "ErrorEnvelope" in schema["components"]["schemas"]


def test_schema_endpoint_serves_openapi(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    assert json.loads(response.content)["info"]["title"] == "Tunee API"


def test_docs_page_uses_local_assets_only(client):
    response = client.get("/api/docs/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "swagger-ui" in html
    assert "cdn." not in html and "unpkg" not in html and "jsdelivr" not in html
    asset = next(part.split('"')[0] for part in html.split('src="')[1:] if "swagger-ui-bundle" in part)
    assert client.get(asset).status_code == 200


@pytest.mark.parametrize("path", ["/metrics", "/readyz"])
def test_operator_endpoints_need_the_token_when_one_is_set(client, settings, path):
    settings.METRICS_TOKEN = "s3cret-token"
    settings.METRICS_ALLOWED_NETWORKS = []

    anonymous = client.get(path)
    wrong = client.get(path, HTTP_AUTHORIZATION="Bearer nope")
    right = client.get(path, HTTP_AUTHORIZATION="Bearer s3cret-token")

    assert anonymous.status_code == wrong.status_code == 403
    assert anonymous["WWW-Authenticate"].startswith("Bearer")
    assert b"django_http" not in anonymous.content and b"database" not in anonymous.content
    assert right.status_code == 200


@pytest.mark.parametrize("path", ["/metrics", "/readyz"])
def test_operator_endpoints_answer_only_allowed_networks(client, settings, path):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = ["127.0.0.0/8", "10.1.0.0/16"]

    assert client.get(path, REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get(path, REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get(path, REMOTE_ADDR="203.0.113.5").status_code == 403
    assert client.get(path, REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="127.0.0.1").status_code == 403


def test_healthz_stays_public(client, settings):
    settings.METRICS_TOKEN = "s3cret-token"
    settings.METRICS_ALLOWED_NETWORKS = []

    assert client.get("/healthz", REMOTE_ADDR="203.0.113.5").status_code == 200
