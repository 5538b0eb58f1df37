"""The Aliyun SMS backend (official SDK) against a local fake Dysmsapi server speaking the SendSms RPC protocol."""

import hashlib
import hmac
import json
from urllib.parse import quote

import pytest

from accounts.models import VerificationCode
from accounts.providers import ProviderRejected, ProviderUnavailable
from accounts.providers.sms import get_backend
from tunee.celery import app as celery_app

pytestmark = pytest.mark.django_db


@pytest.fixture
def aliyun(settings, httpserver):
    settings.SMS_BACKEND = "aliyun"
    settings.ALIYUN_SMS_ACCESS_KEY_ID = "LTAI-test"
    settings.ALIYUN_SMS_ACCESS_KEY_SECRET = "test-secret"
    settings.ALIYUN_SMS_SIGN_NAME = "Tunee"
    settings.ALIYUN_SMS_TEMPLATE_CODE = "SMS_123456"
    settings.ALIYUN_SMS_ENDPOINT = httpserver.url_for("").rstrip("/")
    settings.SMS_TIMEOUT_SECONDS = 2
    return httpserver


def acs3_signature_ok(request, *, key_id: str, secret: str) -> bool:
    """Check Alibaba Cloud's V3 request signature (ACS3-HMAC-SHA256) as the real endpoint does."""
    scheme, _, fields = request.headers["Authorization"].partition(" ")
    parts = dict(field.split("=", 1) for field in fields.split(","))
    signed = parts["SignedHeaders"].split(";")
    query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(request.args.items(multi=True))
    )
    headers = "".join(f"{name}:{request.headers[name].strip()}\n" for name in signed)
    payload = hashlib.sha256(request.get_data()).hexdigest()
    canonical = "\n".join([request.method, request.path, query, headers, parts["SignedHeaders"], payload])
    to_sign = f"{scheme}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    expected = hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    return parts["Credential"] == key_id and hmac.compare_digest(parts["Signature"], expected)


def sendsms_params(request) -> dict:
    params = dict(request.args)
    params.update(request.form)
    return params


def test_send_calls_sendsms_with_the_template_and_code(aliyun):
    aliyun.expect_oneshot_request("/", method="POST").respond_with_json(
        {"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0", "RequestId": "F655A8D5-B967-440B-8683"}
    )

    get_backend().send(phone="13800138000", text="code 123456", params={"code": "123456"})

    ((request, _response),) = aliyun.log
    params = sendsms_params(request)
    assert params["PhoneNumbers"] == "13800138000" and params["SignName"] == "Tunee"
    assert params["TemplateCode"] == "SMS_123456" and json.loads(params["TemplateParam"]) == {"code": "123456"}
    assert request.headers["x-acs-action"] == "SendSms" and request.headers["x-acs-version"] == "2017-05-25"
    assert acs3_signature_ok(request, key_id="LTAI-test", secret="test-secret")


def test_business_refusal_is_permanent(aliyun):
    aliyun.expect_oneshot_request("/", method="POST").respond_with_json(
        {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "invalid mobile number", "RequestId": "x"}
    )
    with pytest.raises(ProviderRejected):
        get_backend().send(phone="13800138000", text="t", params={"code": "1"})


def test_flow_control_is_transient(aliyun):
    aliyun.expect_oneshot_request("/", method="POST").respond_with_json(
        {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "frequency limit", "RequestId": "x"}
    )
    with pytest.raises(ProviderUnavailable):
        get_backend().send(phone="13800138000", text="t", params={"code": "1"})


def test_server_error_is_transient(aliyun):
    aliyun.expect_oneshot_request("/", method="POST").respond_with_json(
        {"Code": "InternalError", "Message": "internal", "RequestId": "x"}, status=500
    )
    with pytest.raises(ProviderUnavailable):
        get_backend().send(phone="13800138000", text="t", params={"code": "1"})


def test_bad_credentials_are_permanent(aliyun):
    aliyun.expect_oneshot_request("/", method="POST").respond_with_json(
        {"Code": "InvalidAccessKeyId.NotFound", "Message": "Specified access key is not found.", "RequestId": "x"},
        status=404,
    )
    with pytest.raises(ProviderRejected):
        get_backend().send(phone="13800138000", text="t", params={"code": "1"})


def test_unreachable_is_transient(settings, aliyun):
    settings.ALIYUN_SMS_ENDPOINT = "http://127.0.0.1:9"
    with pytest.raises(ProviderUnavailable):
        get_backend().send(phone="13800138000", text="t", params={"code": "1"})


def test_the_task_marks_a_refused_code_failed_and_keeps_a_transient_one_pending(
    aliyun, api, notifications, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        api.post("/api/auth/send-code", {"phone": "13800138000"}, format="json")
    job = notifications.drain()[0]
    task = celery_app.tasks[job.task]

    aliyun.expect_oneshot_request("/", method="POST").respond_with_json(
        {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "limit", "RequestId": "x"}
    )
    result = task.apply(args=job.args)  # eager: the retry is recorded, not scheduled
    assert result.state in {"RETRY", "FAILURE"}
    assert VerificationCode.objects.get().delivery == VerificationCode.Delivery.PENDING

    aliyun.expect_oneshot_request("/", method="POST").respond_with_json(
        {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "bad", "RequestId": "x"}
    )
    task.apply(args=job.args, throw=True)
    row = VerificationCode.objects.get()
    assert row.delivery == VerificationCode.Delivery.FAILED and "MOBILE_NUMBER_ILLEGAL" in row.delivery_error
