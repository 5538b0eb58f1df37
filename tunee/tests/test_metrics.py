"""The business metrics (tunee/metrics.py): each counted where it happens (and not when the change rolls back), the
scrape-time gauges (Celery queue depth on Redis and on the file broker, the Suno credits kept by the beat job), and
/metrics showing them, in one process and added up across processes (multiprocess mode)."""

import os
import subprocess
import sys
import uuid

import pytest
from django.db import transaction
from kombu import Connection, Exchange, Queue
from prometheus_client import REGISTRY, CollectorRegistry

from generation.tests import pipeline_fixtures
from payments.tests import conftest as payments_fixtures
from tunee import metrics

# The generation tests' fakes (a Suno gateway on 127.0.0.1, jobs delivered by hand), and the payments tests' sandbox
# (its keys under a temporary VAR_DIR, no real credentials; autouse here too).
fast_pipeline, gateway_server, jobs, song_files, suno = (
    pipeline_fixtures.fast_pipeline,
    pipeline_fixtures.gateway_server,
    pipeline_fixtures.jobs,
    pipeline_fixtures.song_files,
    pipeline_fixtures.suno,
)
_payments_settings, _sandbox_key_folder = payments_fixtures._payments_settings, payments_fixtures._sandbox_key_folder

pytestmark = pytest.mark.django_db


def value(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class Delta:
    """`with Delta("name", label=...) as d: ...; d.value` — how much a sample grew inside the block."""

    def __init__(self, name: str, **labels):
        self.name, self.labels = name, labels

    def __enter__(self):
        self.before = value(self.name, **self.labels)
        return self

    def __exit__(self, *exc):
        self.value = value(self.name, **self.labels) - self.before


# --- generations ----------------------------------------------------------------------------------------------------


def create_generation(user, jobs):
    from generation import services

    return jobs.run(lambda: services.generation_create(user=user, prompt="雨后的城市，轻快的钢琴", duration=10))


def test_a_generation_failing_upstream_counts_started_and_failed_for_its_provider(user, suno, jobs):
    suno.submit_errors = [(200, 429)]  # out of credits: fails at once
    with (
        Delta("tunee_generations_started_total", provider="suno") as started,
        Delta("tunee_generations_failed_total", provider="suno") as failed,
        Delta("tunee_generations_finished_total", provider="suno") as finished,
        Delta("tunee_generation_duration_seconds_count", provider="suno", outcome="failed") as timed,
    ):
        generation = create_generation(user, jobs)
        assert [outcome for _task, outcome in jobs.drain()] == ["failed"]

    generation.refresh_from_db()
    assert generation.status == "failed"
    assert (started.value, failed.value, finished.value, timed.value) == (1, 1, 0, 1)


def test_a_completed_generation_counts_finished_with_its_duration(user, suno, jobs):
    with (
        Delta("tunee_generations_finished_total", provider="suno") as finished,
        Delta("tunee_generations_failed_total", provider="suno") as failed,
        Delta("tunee_generation_duration_seconds_count", provider="suno", outcome="completed") as timed,
    ):
        create_generation(user, jobs)
        assert [outcome for _task, outcome in jobs.drain()][-1] == "completed"

    assert (finished.value, failed.value, timed.value) == (1, 0, 1)


def test_a_failure_rolled_back_is_not_counted(user, jobs, django_capture_on_commit_callbacks):
    from generation import services

    generation = create_generation(user, jobs)  # local provider, job not run
    with (
        Delta("tunee_generations_failed_total", provider="local") as failed,
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        assert services.generation_fail(generation=generation, message="staff", detail="test")
        raise RuntimeError("rolled back")
    generation.refresh_from_db()
    assert generation.status == "pending"
    assert failed.value == 0

    with failed, django_capture_on_commit_callbacks(execute=True):
        services.generation_fail(generation=generation, message="staff", detail="test")
    assert failed.value == 1


# --- orders and payment notifications -------------------------------------------------------------------------------


def test_an_order_created_and_paid_counts_for_its_method(auth_api, client, django_capture_on_commit_callbacks):
    from payments.models import Order
    from payments.tests.helpers import MONTHLY_FEN, pay_in_sandbox, place_membership_order

    with (
        Delta("tunee_orders_created_total", method="wechat", kind="membership") as created,
        Delta("tunee_orders_paid_total", method="wechat", kind="membership") as unpaid,
        django_capture_on_commit_callbacks(execute=True),
    ):
        data = place_membership_order(auth_api, "monthly", "wechat", "app")
    assert (created.value, unpaid.value) == (1, 0)

    with (
        Delta("tunee_orders_paid_total", method="wechat", kind="membership") as paid,
        Delta("tunee_orders_paid_total", method="alipay", kind="membership") as other,
        Delta("tunee_orders_paid_fen_total", method="wechat") as fen,
        django_capture_on_commit_callbacks(execute=True),
    ):
        pay_in_sandbox(client, data)

    assert Order.objects.get(order_no=data["orderNo"]).status == "paid"
    assert (paid.value, other.value, fen.value) == (1, 0, MONTHLY_FEN)


def test_refused_notifications_count_by_reason(auth_api, client, django_capture_on_commit_callbacks):
    from payments.models import Order
    from payments.tests.helpers import place_membership_order, wechat_notification

    with django_capture_on_commit_callbacks(execute=True):
        data = place_membership_order(auth_api, "monthly", "wechat", "app")
    order = Order.objects.get(order_no=data["orderNo"])

    def post(body: bytes):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/api/payment/wechat/notify", data=body, content_type="text/xml")

    with (
        Delta("tunee_payment_notifications_refused_total", provider="wechat", reason="unverified") as unverified,
        Delta("tunee_payment_notifications_refused_total", provider="wechat", reason="mismatch") as mismatch,
        Delta("tunee_orders_paid_total", method="wechat", kind="membership") as paid,
    ):
        post(wechat_notification(order, api_key="0" * 32))  # forged: wrong key
        post(wechat_notification(order, total_fee="1", cash_fee="1"))  # signed, wrong amount
        post(wechat_notification(order, total_fee="1", cash_fee="1"))

    order.refresh_from_db()
    assert order.status == "pending"
    assert (unverified.value, mismatch.value, paid.value) == (1, 2, 0)


# --- SMS and logins -------------------------------------------------------------------------------------------------


def test_sms_sent_and_refused(settings, monkeypatch):
    from accounts import services
    from accounts.models import VerificationCode
    from accounts.providers import ProviderRejected
    from accounts.providers import sms as sms_providers
    from tunee.api.errors import ApiError

    settings.SMS_BACKEND = "locmem"
    with (
        Delta("tunee_sms_sent_total", backend="locmem") as sent,
        Delta("tunee_sms_refused_total", reason="cooldown") as soon,
    ):
        services.sms_code_send(phone="13800138000", purpose="login", ip="203.0.113.5")
        code = VerificationCode.objects.get()
        assert services.sms_code_deliver(code_id=code.pk, text="code 1", params={"code": "1"}) is True
        with pytest.raises(ApiError):  # again within the cooldown
            services.sms_code_send(phone="13800138000", purpose="login", ip="203.0.113.5")
    assert (sent.value, soon.value) == (1, 1)

    class Refusing:
        def send(self, **kwargs):
            raise ProviderRejected("bad number")

    monkeypatch.setattr(sms_providers, "get_backend", Refusing)
    services.sms_code_send(phone="13900139000", purpose="login", ip="203.0.113.6")
    refused_code = VerificationCode.objects.get(phone="13900139000")
    with Delta("tunee_sms_refused_total", reason="provider") as refused, sent:
        assert services.sms_code_deliver(code_id=refused_code.pk, text="code 2", params={"code": "2"}) is False
    assert (refused.value, sent.value) == (1, 0)


def test_login_failures_count_by_method(api, client):
    from accounts.tests.factories import UserFactory

    UserFactory(email="carol@example.com")
    with Delta("tunee_login_failures_total", method="email", reason="wrong_credentials") as email:
        api.post("/api/login", {"email": "carol@example.com", "password": "wrong"}, format="json")
        api.post("/api/login", {"email": "nobody@example.com", "password": "wrong"}, format="json")
        assert (
            api.post("/api/login", {"email": "carol@example.com", "password": "s3cret-Pass!"}, format="json").json()[
                "code"
            ]
            == 0
        )
    assert email.value == 2

    with Delta("tunee_login_failures_total", method="phone", reason="wrong_code") as phone:
        response = api.post("/api/auth/phone-login", {"phone": "13800138000", "code": "000000"}, format="json")
        assert response.json()["code"] != 0
    assert phone.value == 1

    with Delta("tunee_login_failures_total", method="admin", reason="wrong_credentials") as admin:
        assert client.login(username="carol", password="wrong") is False
    assert admin.value == 1


# --- queue depth ----------------------------------------------------------------------------------------------------


def publish(url: str, options: dict, queue: str, count: int, **properties) -> None:
    target = Queue(queue, Exchange(queue, type="direct"), routing_key=queue)
    with Connection(url, transport_options=options) as conn:
        producer = conn.Producer()
        for n in range(count):
            producer.publish({"n": n}, exchange=target.exchange, routing_key=queue, declare=[target], **properties)


def samples(collector) -> dict:
    registry = CollectorRegistry(auto_describe=True)
    registry.register(collector)
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in registry.collect()
        for sample in family.samples
    }


def test_queue_depth_on_redis_counts_every_priority(settings):
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception:
        pytest.skip(f"no Redis at {url}")
    busy, idle = f"test-{uuid.uuid4().hex[:8]}", f"test-{uuid.uuid4().hex[:8]}"
    options = {"global_keyprefix": "h4metrics:"}
    try:
        publish(url, options, busy, 3)
        publish(url, options, busy, 2, priority=6)  # kept in the queue's priority list

        found = samples(metrics.QueueDepthCollector(broker_url=url, transport_options=options, queues=[busy, idle]))
    finally:
        client = redis.Redis.from_url(url)
        for key in client.scan_iter("h4metrics:*"):
            client.delete(key)

    assert found[("tunee_celery_queue_depth", (("queue", busy),))] == 5
    assert found[("tunee_celery_queue_depth", (("queue", idle),))] == 0
    assert found[("tunee_celery_broker_up", ())] == 1


def test_queue_depth_on_the_file_broker(tmp_path):
    folder = tmp_path / "broker"
    for sub in ("out", "processed", "control"):
        (folder / sub).mkdir(parents=True)
    options = {
        "data_folder_in": str(folder / "out"),
        "data_folder_out": str(folder / "out"),
        "processed_folder": str(folder / "processed"),
        "control_folder": str(folder / "control"),
    }
    publish("filesystem://", options, "files", 2)
    publish("filesystem://", options, "stats", 1)

    found = samples(
        metrics.QueueDepthCollector(
            broker_url="filesystem://", transport_options=options, queues=["files", "stats", "x"]
        )
    )

    assert found[("tunee_celery_queue_depth", (("queue", "files"),))] == 2
    assert found[("tunee_celery_queue_depth", (("queue", "stats"),))] == 1
    assert found[("tunee_celery_queue_depth", (("queue", "x"),))] == 0


def test_a_broker_that_does_not_answer_never_breaks_metrics(client, monkeypatch):
    monkeypatch.setattr(metrics.SCRAPE_TIME_COLLECTORS[0], "broker_url", "redis://127.0.0.1:1/0")

    response = client.get("/metrics")

    assert response.status_code == 200
    text = response.content.decode()
    assert "tunee_celery_broker_up 0.0" in text
    assert "tunee_celery_queue_depth{" not in text


# --- Suno credits ---------------------------------------------------------------------------------------------------


def test_the_beat_job_reads_suno_credits_for_the_gauge_and_a_scrape_never_calls_the_gateway(suno, client):
    from generation import tasks

    suno.server.expect_request("/api/v1/generate/credit", method="GET").respond_with_json(
        {"code": 200, "msg": "success", "data": 321}
    )

    assert tasks.suno_credits_refresh() == 321
    calls = len(suno.server.log)
    text = client.get("/metrics").content.decode()
    text_again = client.get("/metrics").content.decode()

    assert "tunee_suno_credits 321.0" in text and "tunee_suno_credits 321.0" in text_again
    assert "tunee_suno_credits_updated_timestamp_seconds" in text
    assert len(suno.server.log) == calls  # scrapes read the kept value

    suno.server.clear()  # the gateway now fails: the last reading stays
    suno.server.expect_request("/api/v1/generate/credit").respond_with_json({"code": 500, "msg": "boom"}, status=500)
    assert tasks.suno_credits_refresh() is None
    assert "tunee_suno_credits 321.0" in client.get("/metrics").content.decode()


def test_no_suno_credits_without_the_suno_provider(settings, client):
    from generation import tasks

    settings.MUSIC_PROVIDER = "local"

    assert tasks.suno_credits_refresh() is None
    assert "tunee_suno_credits " not in client.get("/metrics").content.decode()


def test_the_suno_credits_job_is_on_the_beat_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["generation-suno-credits"]
    assert entry["task"] == "generation.suno_credits"
    assert entry["schedule"] == settings.SUNO_CREDITS_INTERVAL


# --- /metrics -------------------------------------------------------------------------------------------------------

NAMES = (
    "tunee_generations_started_total",
    "tunee_generations_finished_total",
    "tunee_generations_failed_total",
    "tunee_generation_duration_seconds",
    "tunee_orders_created_total",
    "tunee_orders_paid_total",
    "tunee_orders_paid_fen_total",
    "tunee_payment_notifications_refused_total",
    "tunee_sms_sent_total",
    "tunee_sms_refused_total",
    "tunee_login_failures_total",
    "tunee_celery_queue_depth",
    "tunee_celery_broker_up",
    "django_http_requests_latency_seconds_by_view_method",
)


def test_metrics_shows_every_name(client):
    text = client.get("/metrics").content.decode()

    for name in NAMES:
        assert f"# TYPE {name} " in text, name
    assert 'tunee_orders_paid_total{kind="membership",method="alipay"} 0.0' in text  # there before the first payment


def test_each_request_is_counted_by_status_view_and_method_with_its_latency(client, auth_api):
    def count(text: str, series: str) -> float:
        line = next((line for line in text.splitlines() if line.startswith(series + " ")), None)
        return float(line.split()[-1]) if line else 0.0

    view = 'method="GET",status="200",view="generation-quota"'
    latency = 'django_http_requests_latency_seconds_by_view_method_count{method="GET",view="generation-quota"}'
    before = client.get("/metrics").content.decode()
    assert auth_api.get("/api/generation/quota").status_code == 200
    assert auth_api.get("/api/generation/quota").status_code == 200
    after = client.get("/metrics").content.decode()

    responses = f"django_http_responses_total_by_status_view_method_total{{{view}}}"
    assert count(after, responses) - count(before, responses) == 2
    assert count(after, latency) - count(before, latency) == 2
    # the library's series that nothing reads are not kept (each was a cost on every request)
    assert "django_http_responses_total_by_charset_total{" not in after
    body_sizes = "django_http_requests_body_total_bytes_count"
    assert count(after, body_sizes) == count(before, body_sizes)


COUNT_IN_A_WORKER = """
import django
django.setup()
from tunee import metrics
metrics.sms_sent()
metrics.sms_sent()
metrics.login_failed("email", "wrong_credentials")
"""

SCRAPE = """
import django
django.setup()
from prometheus_client import generate_latest
from tunee import metrics
print(generate_latest(metrics.export_registry()).decode())
"""


def test_multiprocess_mode_adds_up_what_every_process_counted(tmp_path, settings):
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "tunee.settings",
        "SMS_BACKEND": "locmem",
        "VAR_DIR": str(tmp_path / "var"),
    }
    for _ in range(2):  # two workers, one after the other
        subprocess.run([sys.executable, "-c", COUNT_IN_A_WORKER], env=env, check=True, timeout=120)

    scraped = subprocess.run(
        [sys.executable, "-c", SCRAPE], env=env, check=True, timeout=120, capture_output=True, text=True
    ).stdout

    assert 'tunee_sms_sent_total{backend="locmem"} 4.0' in scraped
    assert 'tunee_login_failures_total{method="email",reason="wrong_credentials"} 2.0' in scraped
    assert "tunee_celery_broker_up" in scraped  # the scrape-time gauges are there too
