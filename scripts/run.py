"""Started by `make run`: web server + Celery worker (with beat) on the embedded defaults.

Ctrl-C (SIGINT) or SIGTERM stops every process started here, and nothing else. Written in Python rather than
shell so that SIGINT is handled even when the caller started `make run` in the background (a shell ignores
SIGINT for background jobs, and a shell script cannot trap a signal that was ignored when it started).
"""

import contextlib
import os
import signal
import subprocess  # nosec B404  # starts our own commands (fixed argv, no shell)
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
PORT = os.environ.get("PORT", "8000")
HOST = "127.0.0.1"
BASE = f"http://{HOST}:{PORT}"
sys.path.insert(0, str(ROOT))
from tunee.queues import worker_arg  # noqa: E402  # plain Python: no Django set up

QUEUES = worker_arg()  # the worker consumes every queue

children: list[subprocess.Popen] = []


def start(*args: str) -> None:
    # Each child leads its own process group, so that stopping it also stops whatever it forked.
    children.append(subprocess.Popen(args, cwd=ROOT, start_new_session=True))  # nosec B603  # our argv, no shell


def stop(*_):
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print("\nStopping…", flush=True)
    for child in children:  # the group leader first: Celery's warm shutdown stops its own pool
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + 20
    for child in children:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
    for child in children:  # whatever is left, and every process of its group
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
    print("Stopped.", flush=True)
    sys.exit(0)


def wait_until_up(timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{BASE}/healthz", timeout=1)  # noqa: S310 # nosec B310  # our own loopback URL
            return True
        except OSError:
            time.sleep(0.3)
    return False


def main() -> None:
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    var = Path(os.environ.get("VAR_DIR", ROOT / "var"))
    (var / "celery").mkdir(parents=True, exist_ok=True)
    if subprocess.run([PY, "manage.py", "ensure_superuser"], cwd=ROOT).returncode:  # nosec B603  # fixed argv
        sys.exit(1)  # it said why (e.g. the configured name belongs to an ordinary account); nothing started yet
    start(
        PY,
        "-m",
        "celery",
        "-A",
        "tunee",
        "worker",
        "--beat",  # its schedule file is CELERY_BEAT_SCHEDULE_FILENAME, under VAR_DIR
        "-Q",
        QUEUES,
        "--concurrency",
        os.environ.get("WORKER_CONCURRENCY", "2"),
        "--loglevel",
        "INFO",
    )
    start(PY, "manage.py", "runserver", "--noreload", f"{HOST}:{PORT}")
    up = wait_until_up()
    demo = var / "demo.txt"
    print(
        f"""
  Tunee is {"running" if up else "starting (slowly)"} — Ctrl-C stops the web server and the worker.
    API docs        {BASE}/api/docs/
    OpenAPI schema  {BASE}/api/schema/
    Admin           {BASE}/admin/
    Health          {BASE}/healthz   {BASE}/readyz   {BASE}/metrics
{demo.read_text() if demo.exists() else ""}""",
        flush=True,
    )
    while True:
        for child in children:
            if child.poll() is not None:
                print(f"\nA process exited ({' '.join(child.args[:4])} …, code {child.returncode}).", flush=True)
                stop()
        time.sleep(0.5)


if __name__ == "__main__":
    main()
