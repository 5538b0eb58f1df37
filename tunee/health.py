"""Probes for load balancers and orchestrators: /healthz (alive, public) and /readyz (dependencies reachable), and
the guard of the operator endpoints (/readyz, /metrics): they tell an outsider what runs where and how busy it is.
"""

import functools
import logging
from ipaddress import ip_address, ip_network

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.http import JsonResponse
from django.utils.crypto import constant_time_compare

from tunee.api.client import client_ip

logger = logging.getLogger(__name__)


def _allowed_networks():
    return [ip_network(net.strip(), strict=False) for net in settings.METRICS_ALLOWED_NETWORKS if net.strip()]


def operator_allowed(request) -> bool:
    """The bearer of METRICS_TOKEN, or a client in METRICS_ALLOWED_NETWORKS (see settings)."""
    token = settings.METRICS_TOKEN
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if token and header.startswith("Bearer ") and constant_time_compare(header[7:].strip(), token):
        return True
    address = client_ip(request)
    if address is None:
        return False
    ip = ip_address(address)
    return any(ip.version == net.version and ip in net for net in _allowed_networks())


def operator_only(view):
    """Refuse (403) whoever `operator_allowed` does not let in; nothing of the view runs for them."""

    @functools.wraps(view)
    def guarded(request, *args, **kwargs):
        if not operator_allowed(request):
            response = JsonResponse({"status": "forbidden"}, status=403)
            if settings.METRICS_TOKEN:
                response["WWW-Authenticate"] = 'Bearer realm="operators"'
            return response
        return view(request, *args, **kwargs)

    return guarded


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


@operator_only
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


@operator_only
def metrics(request):
    """django-prometheus's metrics and ours (`tunee/metrics.py`) behind the operator guard."""
    from django.http import HttpResponse
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    from tunee import metrics as business

    return HttpResponse(generate_latest(business.export_registry()), content_type=CONTENT_TYPE_LATEST)
