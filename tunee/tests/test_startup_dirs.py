"""Importing the settings creates no directory; Django's start-up makes the ones the service writes to."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _python(code: str, var_dir: Path, **extra) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(DJANGO_SETTINGS_MODULE="tunee.settings", VAR_DIR=str(var_dir), SECRET_KEY="x" * 50, **extra)
    env.pop("CELERY_BROKER_URL", None)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_settings_import_makes_no_directory_and_start_up_makes_them(tmp_path):
    var_dir = tmp_path / "var"
    result = _python("from django.conf import settings; print(settings.VAR_DIR)", var_dir)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(var_dir) and not var_dir.exists()

    result = _python("import django; django.setup()", var_dir)
    assert result.returncode == 0, result.stderr
    assert (var_dir / "static").is_dir()
    assert (var_dir / "celery" / "broker" / "out").is_dir()  # the file broker's folders (no CELERY_BROKER_URL)
