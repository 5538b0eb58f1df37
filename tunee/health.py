"""Probes for load balancers and orchestrators: /healthz (alive) and /readyz (dependencies reachable)."""

import logging

from django.core.cache import cache
from django.db import connections
from django.http import JsonResponse

logger = logging.getLogger(__name__)


def healthz(request):
    return JsonResponse({"status": "ok"})


def _check_database():
    for alias in connections:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")


def _check_cache():
    cache.set("readyz", "1", 10)
    if cache.get("readyz") != "1":
        raise RuntimeError("cache did not return what was written")


def _check_broker():
    from tunee.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=3)


CHECKS = {"database": _check_database, "cache": _check_cache, "broker": _check_broker}


def readyz(request):
    results, failing = {}, []
    for name, check in CHECKS.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:  # a probe reports every failure; the reason is logged, not shown
            logger.warning("readyz: %s unavailable: %s", name, exc)
            results[name] = "unavailable"
            failing.append(name)
    status = 503 if failing else 200
    return JsonResponse(
        {"status": "unavailable" if failing else "ok", "failing": failing, "checks": results}, status=status
    )
