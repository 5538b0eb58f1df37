"""Settings come from the environment with embedded defaults; secrets are required when DEBUG is off."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps({'engine': settings.DATABASES['default']['ENGINE'], "
    "'cache': settings.CACHES['default']['BACKEND'], 'storage': settings.STORAGES['default']['BACKEND'], "
    "'broker': settings.CELERY_BROKER_URL, 'tz': settings.TIME_ZONE, 'debug': settings.DEBUG}))"
)
CLEAN = (
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "AWS_STORAGE_BUCKET_NAME",
    "STORAGE",
    "SECRET_KEY",
    "DEBUG",
    "TIME_ZONE",
    "FIELD_ENCRYPTION_KEYS",
    "DB_PREPARED_STATEMENTS",
)
# A valid Fernet key for the production-like loads (FIELD_ENCRYPTION_KEYS is required with DEBUG off).
FERNET_KEY = "Vq7o0m0pQ3s1yJt3o2mS9c5b7d0Jk2Lr8uH6zQw4XyA="


def load_settings(tmp_path, **env):
    environment = {k: v for k, v in os.environ.items() if k not in CLEAN}
    environment.update(DJANGO_SETTINGS_MODULE="tunee.settings", VAR_DIR=str(tmp_path / "var"), **env)
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )


def test_embedded_defaults_need_nothing(tmp_path):
    result = load_settings(tmp_path)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "engine": "django.db.backends.sqlite3",
        "cache": "django.core.cache.backends.locmem.LocMemCache",
        "storage": "django.core.files.storage.FileSystemStorage",
        "broker": "filesystem://",
        "tz": "Asia/Shanghai",
        "debug": True,
    }
    assert (tmp_path / "var" / "secret_key").exists()


def test_production_services_come_from_the_environment(tmp_path):
    result = load_settings(
        tmp_path,
        DEBUG="0",
        SECRET_KEY="x" * 50,
        FIELD_ENCRYPTION_KEYS=FERNET_KEY,
        DATABASE_URL="postgres://u:p@db:5432/tunee",
        REDIS_URL="redis://cache:6379/0",
        CELERY_BROKER_URL="redis://cache:6379/1",
        AWS_STORAGE_BUCKET_NAME="songs",
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "engine": "django.db.backends.postgresql",
        "cache": "tunee.cache.RedisCache",
        "storage": "storages.backends.s3.S3Storage",
        "broker": "redis://cache:6379/1",
        "tz": "Asia/Shanghai",
        "debug": False,
    }


def test_secret_key_is_required_when_debug_is_off(tmp_path):
    result = load_settings(tmp_path, DEBUG="0")

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_debug_off_without_redis_refuses_to_start(tmp_path):
    result = load_settings(tmp_path, DEBUG="0", SECRET_KEY="x" * 50)

    assert result.returncode != 0
    assert "REDIS_URL must be set when DEBUG is off" in result.stderr


def test_debug_off_with_a_local_cache_when_one_process_is_meant(tmp_path):
    result = load_settings(
        tmp_path, DEBUG="0", SECRET_KEY="x" * 50, ALLOW_LOCAL_CACHE="1", FIELD_ENCRYPTION_KEYS=FERNET_KEY
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["cache"] == "django.core.cache.backends.locmem.LocMemCache"


def production_example() -> dict:
    lines = (ROOT / "deploy" / "production.env.example").read_text().splitlines()
    pairs = (line.split("=", 1) for line in lines if line.strip() and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def run_manage(tmp_path, *args, **env):
    environment = {k: v for k, v in os.environ.items() if k not in CLEAN and not k.startswith(("AWS_", "SECURE_"))}
    environment.update(DJANGO_SETTINGS_MODULE="tunee.settings", VAR_DIR=str(tmp_path / "var"), **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def test_the_production_example_passes_the_deploy_checks_without_a_warning(tmp_path):
    import secrets

    env = {**production_example(), "SECRET_KEY": secrets.token_urlsafe(50), "FIELD_ENCRYPTION_KEYS": FERNET_KEY}

    result = run_manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def settings_value(tmp_path, expression: str, **env):
    probe = f"import json, django; from django.conf import settings; django.setup(); print(json.dumps({expression}))"
    environment = {k: v for k, v in os.environ.items() if k not in CLEAN}
    environment.update(DJANGO_SETTINGS_MODULE="tunee.settings", VAR_DIR=str(tmp_path / "var"), **env)
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "x" * 50,
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "FIELD_ENCRYPTION_KEYS": FERNET_KEY,
}


def test_the_forwarded_protocol_is_believed_only_behind_a_proxy_of_ours(tmp_path):
    expression = "getattr(settings, 'SECURE_PROXY_SSL_HEADER', None)"

    assert settings_value(tmp_path, expression, **PRODUCTION) is None
    assert settings_value(tmp_path, expression, **PRODUCTION, NUM_PROXIES="1") == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_operator_endpoints_are_loopback_only_in_production_unless_configured(tmp_path):
    expression = "[settings.METRICS_TOKEN, settings.METRICS_ALLOWED_NETWORKS]"

    assert settings_value(tmp_path, expression, **PRODUCTION) == ["", ["127.0.0.0/8", "::1/128"]]
    assert settings_value(tmp_path, expression, **PRODUCTION, METRICS_TOKEN="t") == ["t", []]
    assert settings_value(tmp_path, expression)[1] == ["0.0.0.0/0", "::/0"]  # development: open


def test_prepared_statements_are_on_for_postgresql_unless_turned_off(tmp_path):
    options, postgres = "settings.DATABASES['default'].get('OPTIONS', {})", "postgres://u:p@db:5432/tunee"

    assert settings_value(tmp_path, options, DATABASE_URL=postgres) == {
        "server_side_binding": True,
        "prepare_threshold": 5,
    }
    assert settings_value(tmp_path, options, DATABASE_URL=postgres, DB_PREPARED_STATEMENTS="0") == {}
    assert "server_side_binding" not in settings_value(tmp_path, options)  # SQLite
