"""WECHAT_SANDBOX: without WeChat credentials, WeChat login is a sandbox only when allowed (the default with DEBUG);
otherwise it answers 50000 and `manage.py check` warns."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from accounts.models import LoginSession, User
from accounts.tests.helpers import body

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def unconfigured(settings):
    """A production deploy that forgot its WeChat credentials."""
    settings.DEBUG = False
    settings.WECHAT_SANDBOX = False
    settings.WECHAT_APP_ID = ""
    settings.WECHAT_APP_SECRET = ""
    return settings


def wechat_login(api, code="any-code", **extra):
    return api.post("/api/auth/wechat-login", {"code": code}, format="json", **extra)


def check_output() -> str:
    err = io.StringIO()
    call_command("check", stdout=io.StringIO(), stderr=err)
    return err.getvalue()


def test_sandbox_off_and_no_app_id_is_50000_and_logs_nobody_in(api, unconfigured):
    data = body(wechat_login(api), 502, 50000)

    assert data["message"] == "微信登录未配置" and data["data"] is None
    assert User.objects.count() == 0 and LoginSession.objects.count() == 0


def test_not_configured_message_follows_accept_language(api, unconfigured):
    data = body(wechat_login(api, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9"), 502, 50000)

    assert data["message"] == "WeChat login is not configured"


def test_sandbox_on_still_logs_in_without_app_id_even_with_debug_off(api, unconfigured):
    unconfigured.WECHAT_SANDBOX = True

    first = body(wechat_login(api, "same"), 200, 0)["data"]
    again = body(wechat_login(api, "same"), 200, 0)["data"]

    assert first["user"]["id"] == again["user"]["id"] and User.objects.count() == 1


def test_check_warns_when_wechat_login_is_not_configured(unconfigured):
    assert "accounts.W001" in check_output()


def test_check_warns_when_the_sandbox_is_on_with_debug_off(unconfigured):
    unconfigured.WECHAT_SANDBOX = True

    assert "accounts.W002" in check_output()


@pytest.mark.parametrize(("debug", "sandbox", "app_id"), [(True, True, ""), (False, False, "wx-app")])
def test_check_is_quiet_in_development_and_when_configured(settings, debug, sandbox, app_id):
    settings.DEBUG, settings.WECHAT_SANDBOX, settings.WECHAT_APP_ID = debug, sandbox, app_id

    assert "accounts.W00" not in check_output()


@pytest.mark.parametrize(
    ("env", "expected"),
    [({}, True), ({"DEBUG": "0"}, False), ({"DEBUG": "0", "WECHAT_SANDBOX": "1"}, True)],
)
def test_wechat_sandbox_defaults_to_debug(tmp_path, env, expected):
    probe = "import django; from django.conf import settings; django.setup(); print(settings.WECHAT_SANDBOX)"
    environment = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "WECHAT_SANDBOX", "WECHAT_APP_ID")}
    environment.update(DJANGO_SETTINGS_MODULE="tunee.settings", VAR_DIR=str(tmp_path / "var"), **env)
    if env.get("DEBUG") == "0":
        environment.update(SECRET_KEY="x" * 50, REDIS_URL=environment.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
        environment.setdefault("FIELD_ENCRYPTION_KEYS", "Vq7o0m0pQ3s1yJt3o2mS9c5b7d0Jk2Lr8uH6zQw4XyA=")

    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(expected)
