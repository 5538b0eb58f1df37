"""gunicorn.conf.py: the app is preloaded in the master, which is only safe while loading it connects to nothing (a
socket opened before the fork would be shared by every worker)."""

import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]

# Loads gunicorn.conf.py as gunicorn does, runs its when_ready hook (the URLconf and every view imported, the loaded
# objects frozen out of the garbage collector's sight) and reports the sockets the process holds and the database
# connections Django opened.
PROBE = """
import os, runpy, subprocess, types
conf = runpy.run_path("gunicorn.conf.py")
print("preload", conf["preload_app"])
import tunee.wsgi
conf["when_ready"](types.SimpleNamespace(cfg=types.SimpleNamespace(preload_app=True)))
from django.db import connections
from django.urls import get_resolver
assert get_resolver()._populated
import gc
print("frozen", gc.get_freeze_count() > 10_000)
fds = subprocess.run(["ls", "-l", f"/proc/{os.getpid()}/fd"], capture_output=True, text=True, check=True).stdout
print("sockets", fds.count("socket:"))
print("connections", sum(c.connection is not None for c in connections.all(initialized_only=True)))
"""


def run_probe(**env_overrides):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "GUNICORN_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="tunee.settings",
        DEBUG="0",
        SECRET_KEY="gunicorn-conf-test-" + "k" * 40,
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        ALLOWED_HOSTS="localhost",
        # The production cache and broker: Redis (a connection there is what must not be opened at import).
        REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"),
        LOG_LEVEL="WARNING",
    )
    env.update(env_overrides)
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return dict(line.split(" ", 1) for line in out.stdout.splitlines())


def test_loading_the_app_in_the_master_opens_no_connection():
    report = run_probe()
    assert report == {"preload": "True", "frozen": "True", "sockets": "0", "connections": "0"}


def test_preload_can_be_turned_off():
    assert run_probe(GUNICORN_PRELOAD="0")["preload"] == "False"
