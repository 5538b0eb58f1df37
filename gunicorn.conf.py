"""gunicorn settings of the web server (`gunicorn tunee.wsgi -c gunicorn.conf.py`; the Dockerfile and compose use it).

Chosen by measuring `make bench` (bench/http.py) on a 2-core machine; every value can be overridden from the
environment. Sync workers: each request is short (a few milliseconds of Python, one or two queries) and the slow
outside calls run in Celery, so threads or green threads buy nothing but risk; one worker per core plus a couple
more keeps the cores busy while a worker waits on PostgreSQL or Redis.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = int(os.environ.get("GUNICORN_THREADS", 1))
# A request that takes this long is a bug or a stuck dependency: the worker is replaced (uploads are bounded in size).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", 30))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", 5))
# Workers are recycled now and then (a slow leak in a library cannot grow for ever); the jitter keeps them from all
# restarting at once.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 5000))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", 500))
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
# The app is loaded once, in the master, and each worker is a fork of it: a worker (re)started by max_requests is
# serving within milliseconds instead of after a second of imports (measured: with the app loaded in each worker, the
# restarts took a quarter of a bare view's throughput and stalled the requests queued behind them for 1.5 s).
# Nothing connects at import; `pre_fork` closes whatever the master might have opened, so no connection is shared.
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") not in ("0", "false", "no", "")


def child_exit(server, worker):
    """prometheus_client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR): a dead worker's live gauges stop counting."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def when_ready(server):
    """With the app preloaded: import the URLconf and every view in the master, so a fresh worker has nothing left
    to import on its first request; then freeze what was loaded out of the garbage collector's sight (`gc.freeze`).

    The ~140,000 objects of the loaded app live as long as the process, yet every full collection in a worker walked
    them all (measured in-process: 0.06 ms a request on average, paid as a 40 ms pause now and then; 0.015 ms
    frozen), and walking them wrote to their pages, which the fork shared with the master until then."""
    if server.cfg.preload_app:
        import gc

        from django.urls import get_resolver

        get_resolver()._populate()  # imports the URLconf and the views
        gc.collect()
        gc.freeze()


def pre_fork(server, worker):
    """No connection opened in the master is inherited by a worker (Django opens them lazily; this is the guard)."""
    if server.cfg.preload_app:
        from django.core.cache import caches
        from django.db import connections

        connections.close_all()
        caches.close_all()
