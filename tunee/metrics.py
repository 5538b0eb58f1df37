"""The business metrics exported at /metrics, beside django-prometheus's HTTP and database ones (and the per-app
counters of `moderation/metrics.py` and `notifications/metrics.py`). docs/operations.md lists them with the alerts
that read them (`deploy/prometheus/alerts.yml`).

Counters are counted where the thing happens (generation pipeline and services, payments services, accounts
services) through the small functions below; those that a rollback must not count wait for the commit
(`transaction.on_commit`, which runs at once outside a transaction).

Two gauges are computed at scrape time by collectors, never by a network call to a provider:

- `tunee_celery_queue_depth{queue}`: messages waiting in each Celery queue, asked of the broker (Redis `LLEN`,
  kombu's filesystem transport: its files, RabbitMQ and others: a passive `queue_declare`), with a short timeout.
  A broker that does not answer never breaks /metrics: `tunee_celery_broker_up` is then 0 and no depth is given.
- `tunee_suno_credits`: the Suno gateway's credits left, read from the cache where the beat job `generation.
  suno_credits` (`suno_credits_refresh`) keeps the last answer of the client's `credits()`.

Processes: each process counts in its own memory unless PROMETHEUS_MULTIPROC_DIR names a directory shared by the
web workers and the Celery workers (prometheus_client's multiprocess mode); `/metrics` then adds them all up
(`export_registry`). Without it, a scrape sees the counts of the one web process that answered, and none of the
Celery workers' (generations): see docs/operations.md, "Metrics".
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django_prometheus.middleware import PrometheusAfterMiddleware
from django_prometheus.utils import Time, TimeSince
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

# --- generations ----------------------------------------------------------------------------------------------------

GENERATIONS_STARTED = Counter(
    "tunee_generations_started_total",
    "Generations taken up by a worker (pending → processing), by music provider",
    ["provider"],
)
GENERATIONS_FINISHED = Counter(
    "tunee_generations_finished_total",
    "Generations completed with a song, by music provider",
    ["provider"],
)
GENERATIONS_FAILED = Counter(
    "tunee_generations_failed_total",
    "Generations failed (and refunded), by music provider",
    ["provider"],
)
GENERATION_DURATION = Histogram(
    "tunee_generation_duration_seconds",
    "From queued to completed or failed, by music provider and outcome",
    ["provider", "outcome"],
    buckets=(5, 10, 20, 30, 45, 60, 90, 120, 180, 240, 300, 450, 600, 900, 1800),
)

# --- orders and payments --------------------------------------------------------------------------------------------

ORDERS_CREATED = Counter(
    "tunee_orders_created_total", "Orders placed, by payment method and kind (membership, points)", ["method", "kind"]
)
ORDERS_PAID = Counter(
    "tunee_orders_paid_total", "Orders settled as paid, by payment method and kind", ["method", "kind"]
)
ORDERS_PAID_FEN = Counter(
    "tunee_orders_paid_fen_total", "Money of the orders settled as paid, in fen, by payment method", ["method"]
)
PAYMENT_NOTIFICATIONS_REFUSED = Counter(
    "tunee_payment_notifications_refused_total",
    "Payment notifications answered FAIL, by provider and reason (unverified, unreadable, invalid, over_cap, "
    "unknown_order, mismatch)",
    ["provider", "reason"],
)

# --- accounts -------------------------------------------------------------------------------------------------------

SMS_SENT = Counter("tunee_sms_sent_total", "SMS codes handed to the SMS provider, by backend", ["backend"])
SMS_REFUSED = Counter(
    "tunee_sms_refused_total",
    "SMS codes not sent: refused by our limits (daily_cap, ip_cap, cooldown) or for good by the provider (provider)",
    ["reason"],
)
LOGIN_FAILURES = Counter(
    "tunee_login_failures_total",
    "Failed logins, by method (email, phone, wechat, admin) and reason",
    ["method", "reason"],
)

# Series that alerts read exist from the start at 0: `increase()` cannot see the first count of a series born with
# it, and a ratio needs both of its sides.
NOTIFICATION_REFUSALS = ("unverified", "unreadable", "invalid", "over_cap", "unknown_order", "mismatch")
for _method in ("wechat", "alipay"):
    for _kind in ("membership", "points"):
        ORDERS_CREATED.labels(_method, _kind)
        ORDERS_PAID.labels(_method, _kind)
    ORDERS_PAID_FEN.labels(_method)
    for _reason in NOTIFICATION_REFUSALS:
        PAYMENT_NOTIFICATIONS_REFUSED.labels(_method, _reason)
for _provider in ("local", "suno"):
    for _counter in (GENERATIONS_STARTED, GENERATIONS_FINISHED, GENERATIONS_FAILED):
        _counter.labels(_provider)


def _after_commit(count) -> None:
    """Count once the current transaction commits (at once outside one); a rolled-back change is not counted."""
    transaction.on_commit(count, robust=True)


def _provider_label(provider: str | None) -> str:
    return provider or settings.MUSIC_PROVIDER


def generation_started(*, provider: str | None = None) -> None:
    GENERATIONS_STARTED.labels(_provider_label(provider)).inc()


def generation_ended(generation, outcome: str) -> None:
    """A generation completed (`outcome` "completed") or failed ("failed"): counted with its time since queued."""
    provider = _provider_label(getattr(generation, "provider", ""))
    queued_at = getattr(generation, "queued_at", None)
    seconds = max(0.0, (timezone.now() - queued_at).total_seconds()) if queued_at else None
    counter = GENERATIONS_FINISHED if outcome == "completed" else GENERATIONS_FAILED
    label = "completed" if outcome == "completed" else "failed"

    def count():
        counter.labels(provider).inc()
        if seconds is not None:
            GENERATION_DURATION.labels(provider, label).observe(seconds)

    _after_commit(count)


def order_created(order) -> None:
    method, kind = str(order.payment_method), str(order.kind)
    _after_commit(lambda: ORDERS_CREATED.labels(method, kind).inc())


def order_paid(order) -> None:
    method, kind, fen = str(order.payment_method), str(order.kind), int(order.amount_fen or 0)

    def count():
        ORDERS_PAID.labels(method, kind).inc()
        ORDERS_PAID_FEN.labels(method).inc(fen)

    _after_commit(count)


def notification_refused(provider: str, reason: str) -> None:
    """Counted at once: the refusal happened whatever becomes of the transaction around it."""
    PAYMENT_NOTIFICATIONS_REFUSED.labels(str(provider), reason).inc()


def sms_sent() -> None:
    SMS_SENT.labels(settings.SMS_BACKEND).inc()


def sms_refused(reason: str) -> None:
    """Counted at once: a refusal raises, and rolls back the transaction it happened in."""
    SMS_REFUSED.labels(reason).inc()


def login_failed(method: str, reason: str) -> None:
    LOGIN_FAILURES.labels(method, reason).inc()


def _admin_login_failed(sender, credentials=None, request=None, **kwargs):
    """Django's authentication (the admin's login form) failed."""
    login_failed("admin", "wrong_credentials")


user_login_failed.connect(_admin_login_failed, dispatch_uid="tunee.metrics.admin_login_failed")

# --- Suno credits ---------------------------------------------------------------------------------------------------

SUNO_CREDITS_KEY = "metrics:suno-credits"


def suno_credits_refresh() -> float | None:
    """Ask the Suno gateway for the credits left and keep the answer for the /metrics gauge (beat job
    `generation.suno_credits`). Nothing unless MUSIC_PROVIDER=suno. A failed call keeps the last value (its age shows
    in `tunee_suno_credits_updated_timestamp_seconds`) and returns None."""
    if settings.MUSIC_PROVIDER != "suno" or not settings.SUNO_API_KEY:
        return None
    from generation.providers.base import ProviderError, get_music_provider

    try:
        credits = float(get_music_provider().credits())
    except (ProviderError, TypeError, ValueError) as exc:
        logger.warning("suno credits could not be read: %r", exc)
        return None
    cache.set(SUNO_CREDITS_KEY, {"credits": credits, "at": time.time()}, timeout=None)
    return credits


class SunoCreditsCollector(Collector):
    """`tunee_suno_credits` and when it was read, from the cache (never the gateway) while MUSIC_PROVIDER=suno."""

    def describe(self):
        return self._families()

    def _families(self):
        return [
            GaugeMetricFamily("tunee_suno_credits", "Credits left on the Suno gateway account (last reading)"),
            GaugeMetricFamily(
                "tunee_suno_credits_updated_timestamp_seconds", "When the Suno credits were last read (Unix time)"
            ),
        ]

    def collect(self):
        if settings.MUSIC_PROVIDER != "suno":
            return []
        try:
            reading = cache.get(SUNO_CREDITS_KEY)
        except Exception as exc:  # the cache down must not break /metrics
            logger.warning("metrics: suno credits unreadable from the cache: %r", exc)
            return []
        if not isinstance(reading, dict):
            return []
        credits, at = self._families()
        credits.add_metric([], float(reading["credits"]))
        at.add_metric([], float(reading["at"]))
        return [credits, at]


# --- Celery queue depth ---------------------------------------------------------------------------------------------

BROKER_TIMEOUT = 2.0  # seconds a scrape waits for the broker


def _redis_depths(url: str, options: dict, queues: list[str]) -> dict[str, int]:
    """kombu's Redis transport keeps each queue as a list named like the queue, plus one list per priority step
    (`<queue>\\x06\\x16<priority>`); the depth is the sum of their lengths."""
    import redis
    from kombu.transport.redis import Channel

    prefix = options.get("global_keyprefix", "") or ""
    sep, steps = Channel.sep, options.get("priority_steps") or Channel.priority_steps
    client = redis.Redis.from_url(url, socket_timeout=BROKER_TIMEOUT, socket_connect_timeout=BROKER_TIMEOUT)
    try:
        with client.pipeline(transaction=False) as pipe:
            for queue in queues:
                for step in steps:
                    pipe.llen(f"{prefix}{queue}{sep}{step}" if step else f"{prefix}{queue}")
            lengths = pipe.execute()
    finally:
        client.close()
    per_queue = len(steps)
    return {queue: int(sum(lengths[i * per_queue : (i + 1) * per_queue])) for i, queue in enumerate(queues)}


def _filesystem_depths(options: dict, queues: list[str]) -> dict[str, int]:
    """kombu's filesystem transport writes each waiting message as `<time>_<uuid>.<queue>.msg` in data_folder_in."""
    counts = dict.fromkeys(queues, 0)
    with os.scandir(options.get("data_folder_in") or "data_in") as entries:
        for entry in entries:
            name = entry.name.partition(".")[2]
            if name.endswith(".msg") and name[:-4] in counts:
                counts[name[:-4]] += 1
    return counts


def _kombu_depths(url: str, options: dict, queues: list[str]) -> dict[str, int]:
    """Any other transport (RabbitMQ, the in-memory one of the tests): a passive queue_declare per queue; a queue
    the broker does not know yet is empty."""
    from kombu import Connection

    counts = {}
    with Connection(url, transport_options=options, connect_timeout=BROKER_TIMEOUT) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=BROKER_TIMEOUT)
        channel = conn.channel()
        try:
            for queue in queues:
                try:
                    counts[queue] = int(channel.queue_declare(queue=queue, passive=True).message_count)
                except conn.channel_errors:
                    counts[queue] = 0
                    channel = conn.channel()  # AMQP closes a channel on NOT_FOUND
        finally:
            channel.close()
    return counts


def queue_depths(broker_url: str, transport_options: dict | None, queues: Iterable[str]) -> dict[str, int]:
    """Messages waiting in each queue of the broker at `broker_url`. Raises whatever the broker raises."""
    queues, options = list(queues), dict(transport_options or {})
    scheme = urlsplit(broker_url).scheme.split("+")[0]
    if scheme in ("redis", "rediss"):
        return _redis_depths(broker_url, options, queues)
    if scheme == "filesystem":
        return _filesystem_depths(options, queues)
    return _kombu_depths(broker_url, options, queues)


class QueueDepthCollector(Collector):
    """`tunee_celery_queue_depth{queue}` for every queue of the Celery app (or those given), asked of its broker at
    scrape time; `tunee_celery_broker_up` 1 when the broker answered, 0 when not (the error is logged)."""

    def __init__(self, *, broker_url: str | None = None, transport_options: dict | None = None, queues=None):
        self.broker_url, self.transport_options, self.queues = broker_url, transport_options, queues

    def _config(self) -> tuple[str, dict, list[str]]:
        from tunee.celery import app

        conf = app.conf
        url = self.broker_url or conf.broker_url or "amqp://"
        options = self.transport_options if self.transport_options is not None else conf.broker_transport_options
        queues = self.queues
        if queues is None:
            queues = [queue.name for queue in conf.task_queues or ()] or [conf.task_default_queue]
        return url, dict(options or {}), list(queues)

    def _families(self):
        return [
            GaugeMetricFamily("tunee_celery_queue_depth", "Messages waiting in each Celery queue", labels=["queue"]),
            GaugeMetricFamily("tunee_celery_broker_up", "1 when the broker answered this scrape's queue depths"),
        ]

    def describe(self):
        return self._families()

    def collect(self):
        depth, up = self._families()
        try:
            url, options, queues = self._config()
            for queue, count in queue_depths(url, options, queues).items():
                depth.add_metric([queue], count)
        except Exception as exc:  # whatever the broker does, /metrics answers
            logger.warning("metrics: queue depths unavailable: %r", exc)
            up.add_metric([], 0)
            return [up]
        up.add_metric([], 1)
        return [depth, up]


SCRAPE_TIME_COLLECTORS = (QueueDepthCollector(), SunoCreditsCollector())
for _collector in SCRAPE_TIME_COLLECTORS:
    REGISTRY.register(_collector)


def multiprocess_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def export_registry() -> CollectorRegistry:
    """What /metrics exports: this process's registry, or, in multiprocess mode, every process's counts added up
    (prometheus_client's MultiProcessCollector) plus the scrape-time gauges."""
    if not multiprocess_dir():
        return REGISTRY
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    for collector in SCRAPE_TIME_COLLECTORS:
        registry.register(collector)
    return registry


class HttpMetricsMiddleware(PrometheusAfterMiddleware):
    """django-prometheus's after-middleware, counting only what is read (the alerts of deploy/prometheus/alerts.yml
    and the dashboards of docs/operations.md): `django_http_responses_total_by_status_view_method` and
    `django_http_requests_latency_seconds_by_view_method`, plus the exceptions by type and view. The library's other
    per-request series (by transport, by charset, body sizes, template names, AJAX, streaming…) are not kept: each
    one was a label lookup and a lock on every request of a hot path, and nothing reads them. The totals of
    `PrometheusBeforeMiddleware` (requests, responses, latency before the middleware) are still counted."""

    def process_request(self, request):
        request.prometheus_after_middleware_event = Time()

    def process_view(self, request, view_func, *view_args, **view_kwargs):
        return None

    def process_template_response(self, request, response):
        return response

    def process_response(self, request, response):
        method = self._method(request)
        name = self._get_view_name(request)
        self.metrics.responses_by_status_view_method.labels(
            status=str(response.status_code), view=name, method=method
        ).inc()
        started = getattr(request, "prometheus_after_middleware_event", None)
        if started is not None:
            self.metrics.requests_latency_by_view_method.labels(view=name, method=method).observe(TimeSince(started))
        return response
