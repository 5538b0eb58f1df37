"""The floors of bench/http.py (bench/bare.py) do what the API does: the same session check, the same quota."""

import importlib.util
import json
from pathlib import Path

import pytest
from django.test import RequestFactory

from accounts.services.sessions import session_revoke
from accounts.tests.clients import tokens_for
from membership.selectors import quota_status
from membership.services import quota_consume

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def floors():
    spec = importlib.util.spec_from_file_location("bench_bare", ROOT / "bench" / "bare.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def get(path, token):
    return RequestFactory().get(path, HTTP_AUTHORIZATION=f"Bearer {token}")


def test_importing_the_floors_leaves_the_process_settings_alone(floors, settings):
    assert "tunee.requestid.RequestIdMiddleware" in settings.MIDDLEWARE
    assert settings.ROOT_URLCONF == "tunee.urls"


def test_the_session_floor_answers_the_token_user_and_refuses_a_revoked_session(floors, user):
    bundle = tokens_for(user)
    response = floors.floor_session(get("/floor/session", bundle.access_token))
    assert response.status_code == 200
    assert json.loads(response.content)["data"] == {"id": str(user.pk)}

    session_revoke(session_id=bundle.session.id, user=user)
    assert floors.floor_session(get("/floor/session", bundle.access_token)).status_code == 401


def test_the_quota_floor_reads_the_quota_the_api_shows(floors, user, auth_api):
    quota_consume(user=user, reference="floor-test")
    response = floors.floor_quota(get("/floor/quota", tokens_for(user).access_token))
    status = quota_status(user=user)

    assert response.status_code == 200
    data = json.loads(response.content)["data"]
    assert data == {
        "date": status.day.isoformat(),
        "dailyLimit": status.daily_limit,
        "usedToday": 1,
        "remainingToday": status.daily_limit - 1,
        "points": status.points,
    }
    api = auth_api.get("/api/generation/quota").json()["data"]
    shown = (api["usedToday"], api["remainingToday"], api["dailyLimit"])
    assert shown == (1, data["remainingToday"], data["dailyLimit"])


def test_the_profile_floor_reads_the_profile_row(floors, user):
    response = floors.floor_profile(get("/floor/profile", tokens_for(user).access_token))

    assert response.status_code == 200
    assert json.loads(response.content)["data"] == {"id": str(user.pk), "username": user.username, "usedToday": 0}
