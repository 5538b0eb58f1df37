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
)


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
        DATABASE_URL="postgres://u:p@db:5432/tunee",
        REDIS_URL="redis://cache:6379/0",
        CELERY_BROKER_URL="redis://cache:6379/1",
        AWS_STORAGE_BUCKET_NAME="songs",
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "engine": "django.db.backends.postgresql",
        "cache": "django.core.cache.backends.redis.RedisCache",
        "storage": "storages.backends.s3.S3Storage",
        "broker": "redis://cache:6379/1",
        "tz": "Asia/Shanghai",
        "debug": False,
    }


def test_secret_key_is_required_when_debug_is_off(tmp_path):
    result = load_settings(tmp_path, DEBUG="0")

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr
