"""The payment sandbox is its own app (`payments_sandbox`), installed only when PAYMENT_SANDBOX is on: with it off, as
in production, no sandbox app, table, route or admin page exists. Each case starts a fresh Python with its own
environment, because the settings decide INSTALLED_APPS when they are imported."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
CREDENTIALS = (
    "WECHAT_PAY_MCH_ID",
    "WECHAT_PAY_API_KEY",
    "ALIPAY_APP_ID",
    "ALIPAY_APP_PRIVATE_KEY",
    "ALIPAY_PUBLIC_KEY",
)
SANDBOX_PATHS = (
    "/sandbox/pay/wechat/TN2024010112001234",
    "/sandbox/pay/alipay/TN2024010112001234",
    "/sandbox/wechatpay/pay/unifiedorder",
    "/sandbox/alipay/gateway.do",
)

INSPECT = """
import json
import sys

import django

django.setup()

from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.db.migrations.loader import MigrationLoader
from django.urls import Resolver404, resolve


def resolves(path):
    try:
        resolve(path)
    except Resolver404:
        return False
    return True


state = MigrationLoader(None, ignore_no_migrations=True).project_state()
print(json.dumps({
    "sandbox": settings.PAYMENT_SANDBOX,
    "installed": apps.is_installed("payments_sandbox"),
    "admin": sorted(m._meta.label for m in admin.site._registry if m._meta.app_label == "payments_sandbox"),
    "routes": {path: resolves(path) for path in sys.argv[1:]},
    "models": sorted(".".join(key) for key in state.models if key[1] == "sandboxtrade"),
}))
"""


def _production_env() -> dict:
    """deploy/production.env.example as the CI's `check --deploy` loads it (plus the secrets it leaves to fill)."""
    env = {}
    for line in (ROOT / "deploy" / "production.env.example").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            name, value = line.split("=", 1)
            env[name.strip()] = value.strip()
    env["SECRET_KEY"] = secrets.token_urlsafe(50)
    env["FIELD_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
    return env


def _inspect(tmp_path, env: dict) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", INSPECT, *SANDBOX_PATHS],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "VAR_DIR": str(tmp_path / "var"),
            "DJANGO_SETTINGS_MODULE": "tunee.settings",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_settings_install_no_sandbox_app_route_admin_or_table(tmp_path):
    found = _inspect(tmp_path, _production_env())

    assert found["sandbox"] is False
    assert found["installed"] is False
    assert found["admin"] == []
    assert not any(found["routes"].values()), found["routes"]
    assert found["models"] == []  # neither payments' old SandboxTrade nor the sandbox app's


def test_sandbox_off_in_development_without_credentials_still_has_none_of_it(tmp_path):
    found = _inspect(tmp_path, {"DEBUG": "1", "PAYMENT_SANDBOX": "0", **dict.fromkeys(CREDENTIALS, "")})

    assert (found["installed"], found["admin"], found["models"]) == (False, [], [])
    assert not any(found["routes"].values()), found["routes"]


def test_sandbox_on_installs_the_app_with_its_routes_admin_and_table(tmp_path):
    found = _inspect(tmp_path, {"DEBUG": "1", **dict.fromkeys(CREDENTIALS, "")})

    assert found["sandbox"] is True
    assert found["installed"] is True
    assert found["admin"] == ["payments_sandbox.SandboxTrade"]
    assert all(found["routes"].values()), found["routes"]
    assert found["models"] == ["payments_sandbox.sandboxtrade"]
