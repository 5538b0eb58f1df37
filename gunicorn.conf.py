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
# The app is loaded in each worker, not in the master: connections (PostgreSQL, Redis) are never shared by a fork.
preload_app = False


def child_exit(server, worker):
    """prometheus_client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR): a dead worker's live gauges stop counting."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
