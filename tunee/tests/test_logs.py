"""Structured logs: the request id (accepted, generated, answered, on every log line, carried into the jobs a request
enqueues and into their log lines), the JSON line's shape, and what is masked."""

import copy
import io
import json
import logging
import logging.config
import re

import pytest
from celery import shared_task

from tunee import queues, requestid
from tunee.celery import app as celery_app
from tunee.logmask import mask

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tunee.tests.urls")]

HEX32 = re.compile(r"^[0-9a-f]{32}$")
logger = logging.getLogger("tunee.tests.logs")


@shared_task(name="tunee.tests.log_line")
def log_line(text: str) -> str:
    logger.warning("job says %s", text)
    return requestid.get()


@pytest.fixture
def log_lines(settings):
    """The project's LOGGING with LOG_FORMAT=json, its console handler writing to a buffer: `log_lines()` → the
    JSON objects written so far. Restores settings.LOGGING afterwards."""
    buffer = io.StringIO()
    config = copy.deepcopy(settings.LOGGING)
    config["handlers"]["console"].update(stream=buffer, formatter="json")
    logging.config.dictConfig(config)
    try:
        yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    finally:
        logging.config.dictConfig(settings.LOGGING)


def drain(queue_name: str) -> list:
    """The messages waiting on `queue_name` in the in-memory broker (taken off it)."""
    messages = []
    with celery_app.connection_for_read() as conn:
        queue = conn.SimpleQueue(queue_name)
        try:
            while True:
                try:
                    message = queue.get(block=False)
                except queue.Empty:
                    return messages
                messages.append(message)
                message.ack()
        finally:
            queue.close()


# --- the request id -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("given", ["abc-123", "0f" * 16, "Req_1.2-x", "a" * 64])
def test_a_well_formed_request_id_is_accepted_and_answered(api, given):
    response = api.get("/api/_t/ok", HTTP_X_REQUEST_ID=given)
    assert response.status_code == 200
    assert response["X-Request-ID"] == given


@pytest.mark.parametrize("given", ["", "a" * 65, "has space", "semi;colon", "<script>", "naïve", "a\nb", "a/b"])
def test_a_malformed_request_id_is_replaced_by_a_generated_one(api, given):
    response = api.get("/api/_t/ok", HTTP_X_REQUEST_ID=given)
    assert HEX32.match(response["X-Request-ID"]), response["X-Request-ID"]
    assert response["X-Request-ID"] != given


def test_without_a_request_id_each_request_gets_its_own(api):
    one, two = api.get("/api/_t/ok")["X-Request-ID"], api.get("/healthz")["X-Request-ID"]
    assert HEX32.match(one) and HEX32.match(two) and one != two


def test_errors_and_pages_outside_the_api_answer_it_too(api):
    assert api.get("/api/nowhere", HTTP_X_REQUEST_ID="r-404")["X-Request-ID"] == "r-404"
    assert api.get("/admin/login/", HTTP_X_REQUEST_ID="r-admin")["X-Request-ID"] == "r-admin"


def test_djangos_own_error_line_about_the_request_has_the_id_too(api, log_lines):
    response = api.get("/api/_t/django", HTTP_X_REQUEST_ID="req-django")  # a view outside DRF that raises
    assert response.status_code == 500

    [line] = [line for line in log_lines() if line["logger"] == "django.request"]
    assert line["message"].startswith("Internal Server Error") and line["request_id"] == "req-django"


def test_the_id_is_on_the_log_lines_of_its_request_and_not_after(api, log_lines):
    response = api.post("/api/_t/raise", HTTP_X_REQUEST_ID="req-500")  # logs "Unhandled error" with its traceback
    assert response.status_code == 500
    logger.info("after the request")

    lines = log_lines()
    error = next(line for line in lines if line["message"].startswith("Unhandled error"))
    assert error["request_id"] == "req-500" and error["level"] == "ERROR" and error["logger"] == "tunee.api"
    after = next(line for line in lines if line["message"] == "after the request")
    assert "request_id" not in after


# --- into the jobs --------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)  # real commits: the job is enqueued on commit, inside the request
def test_a_job_enqueued_by_a_request_carries_its_id_in_the_message_headers(api, settings):
    settings.SMS_BACKEND = "locmem"
    drain(queues.NOTIFICATIONS)
    response = api.post("/api/auth/send-code", {"phone": "13800138000"}, format="json", HTTP_X_REQUEST_ID="req-sms")
    assert response.status_code == 200

    [message] = drain(queues.NOTIFICATIONS)
    assert message.headers["task"] == "accounts.send_sms_code"
    assert message.headers[requestid.CELERY_HEADER] == "req-sms"


def test_a_job_logs_with_the_request_id_of_its_message_and_restores_none_after(log_lines):
    result = log_line.apply(args=["hello"], headers={requestid.CELERY_HEADER: "req-job"})

    assert result.get() == "req-job"  # the id the job saw
    [line] = [line for line in log_lines() if line["logger"] == "tunee.tests.logs"]
    assert line["message"] == "job says hello" and line["request_id"] == "req-job"
    assert requestid.get() == ""  # reset once the job ended


def test_a_job_without_a_request_id_is_known_by_its_task_id(log_lines):
    result = log_line.apply(args=["beat"], task_id="task-123")

    assert result.get() == "task-123"
    [line] = [line for line in log_lines() if line["logger"] == "tunee.tests.logs"]
    assert line["request_id"] == "task-123"


def test_a_malformed_carried_id_is_not_trusted(log_lines):
    result = log_line.apply(args=["x"], task_id="task-9", headers={requestid.CELERY_HEADER: "bad id\n"})
    assert result.get() == "task-9"


def test_jobs_enqueued_by_a_job_carry_the_id_on(log_lines):
    drain(queues.DEFAULT)
    token = requestid.current.set("req-chain")  # as inside a request or a job
    try:
        log_line.apply_async(args=["next"], queue=queues.DEFAULT)
    finally:
        requestid.current.reset(token)

    [message] = drain(queues.DEFAULT)
    assert message.headers[requestid.CELERY_HEADER] == "req-chain"


# --- the JSON line and masking --------------------------------------------------------------------------------


def test_a_json_line_has_time_level_logger_message_and_the_extra_fields(log_lines):
    token = requestid.current.set("req-shape")
    try:
        logger.warning("order %s paid", "TN1", extra={"order_no": "TN1", "amount_fen": 1990})
    finally:
        requestid.current.reset(token)

    [line] = log_lines()
    assert set(line) == {"time", "level", "logger", "message", "request_id", "order_no", "amount_fen"}
    assert line["level"] == "WARNING" and line["logger"] == "tunee.tests.logs" and line["message"] == "order TN1 paid"
    assert line["amount_fen"] == 1990 and line["request_id"] == "req-shape"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\+00:00$", line["time"])


def test_phones_emails_tokens_and_codes_are_masked_in_message_extras_and_tracebacks(log_lines):
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlLXZhbHVl"
    logger.warning(
        "login of %s <%s>: Authorization: Bearer %s; refresh=%s; SMS 您的验证码是 654321",
        "13800138000",
        "bob.smith@example.com",
        jwt,
        "r3fr3sh-t0ken",
        extra={"body": '{"password": "hunter2", "code": "123456", "accessToken": "abc"}'},
    )
    try:
        raise ValueError("reset for alice@example.org with code=112233")
    except ValueError:
        logger.exception("failed")

    first, second = log_lines()
    written = json.dumps([first, second], ensure_ascii=False)
    for secret in (
        "13800138000",
        "bob.smith",
        jwt,
        "r3fr3sh-t0ken",
        "654321",
        "hunter2",
        "123456",
        '"abc"',
        "alice",
        "112233",
    ):
        assert secret not in written, secret
    assert "138****8000" in first["message"] and "b***@example.com" in first["message"]
    assert first["body"] == '{"password": "***", "code": "***", "accessToken": "***"}'
    assert "ValueError: reset for a***@example.org with code=***" in second["exc_info"]


@pytest.mark.parametrize(
    "text",
    [
        "order TN2026010112001234 id 1380013800012",  # order numbers, ids: not phones
        "ApiError code 40004 (QUOTA_EXHAUSTED) status 429",  # error codes are not SMS codes
        "generation 9f0e1d2c finished in 123456 ms",
        "user@localhost",
    ],
)
def test_what_is_not_secret_is_left_alone(text):
    assert mask(text) == text
