"""SMS backends, chosen by `SMS_BACKEND`: `console` (default), `locmem` (tests) and `aliyun` (Dysmsapi SendSms).

Every backend has the same interface: `send(phone=..., text=..., params=...)`. `text` is the whole message (what
the console prints); `params` are the template variables a real provider fills into its approved template.
Errors come out as `ProviderUnavailable` (retry) or `ProviderRejected` (give up).
"""

import json
import logging
import sys
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from . import ProviderRejected, ProviderUnavailable

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmsMessage:
    phone: str
    text: str
    params: dict = field(default_factory=dict)


class ConsoleBackend:
    """Prints exactly one line per message on standard output (the worker's console under `make run`).

    Written to the process's real stdout: a Celery worker replaces `sys.stdout` with a logging proxy that would
    prefix the line with a timestamp and a level and send it to stderr.
    """

    def send(self, *, phone: str, text: str, params: dict) -> None:
        out = sys.__stdout__ or sys.stdout
        out.write(f"SMS to {phone}: {text}\n")
        out.flush()


# The locmem backend's outbox, like django.core.mail.outbox: tests read it and clear it.
outbox: list[SmsMessage] = []


class LocmemBackend:
    def send(self, *, phone: str, text: str, params: dict) -> None:
        outbox.append(SmsMessage(phone=phone, text=text, params=dict(params)))


class AliyunBackend:
    """Alibaba Cloud SMS through `alibabacloud-dysmsapi20170525` (RPC action SendSms, version 2017-05-25).

    `ALIYUN_SMS_ENDPOINT` is a host (`dysmsapi.aliyuncs.com`, HTTPS) or a full `http://host:port` (a local fake).
    """

    # Answers that mean "not now" rather than "never" (Aliyun's flow control).
    TRANSIENT_CODES = {"isv.BUSINESS_LIMIT_CONTROL", "isp.SYSTEM_ERROR", "Throttling.User", "ServiceUnavailable"}

    def __init__(self):
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi.models import Config

        for name in ("ALIYUN_SMS_ACCESS_KEY_ID", "ALIYUN_SMS_ACCESS_KEY_SECRET", "ALIYUN_SMS_SIGN_NAME"):
            if not getattr(settings, name):
                raise ImproperlyConfigured(f"SMS_BACKEND=aliyun needs {name}")
        endpoint = settings.ALIYUN_SMS_ENDPOINT
        protocol = "https"
        for scheme in ("http", "https"):
            if endpoint.startswith(f"{scheme}://"):
                protocol, endpoint = scheme, endpoint.removeprefix(f"{scheme}://").rstrip("/")
        timeout_ms = int(settings.SMS_TIMEOUT_SECONDS * 1000)
        self.client = Client(
            Config(
                access_key_id=settings.ALIYUN_SMS_ACCESS_KEY_ID,
                access_key_secret=settings.ALIYUN_SMS_ACCESS_KEY_SECRET,
                endpoint=endpoint,
                protocol=protocol,
                connect_timeout=timeout_ms,
                read_timeout=timeout_ms,
            )
        )
        self.timeout_ms = timeout_ms

    def send(self, *, phone: str, text: str, params: dict) -> None:
        from alibabacloud_dysmsapi20170525.models import SendSmsRequest
        from darabonba.runtime import RuntimeOptions

        request = SendSmsRequest(
            phone_numbers=phone,
            sign_name=settings.ALIYUN_SMS_SIGN_NAME,
            template_code=settings.ALIYUN_SMS_TEMPLATE_CODE,
            template_param=json.dumps(params, ensure_ascii=False),
        )
        runtime = RuntimeOptions(
            autoretry=False, connect_timeout=self.timeout_ms, read_timeout=self.timeout_ms, max_attempts=1
        )
        try:
            response = self.client.send_sms_with_options(request, runtime)
        except Exception as exc:  # the SDK raises its own hierarchy for HTTP errors and transport failures
            raise _classify_sdk_error(exc) from exc
        body = response.body
        if body is None or body.code != "OK":
            code = getattr(body, "code", None)
            message = f"Aliyun SMS refused: {code} {getattr(body, 'message', '')}".strip()
            if code in self.TRANSIENT_CODES:
                raise ProviderUnavailable(message)
            raise ProviderRejected(message)


def _classify_sdk_error(exc: Exception) -> Exception:
    """The SDK's ClientException (4xx, e.g. bad signature or parameters) is permanent; throttling, 5xx, timeouts
    and connection errors are transient."""
    from alibabacloud_tea_openapi.exceptions import ThrottlingException

    status = getattr(exc, "status_code", None)
    code = getattr(exc, "code", None)
    detail = f"{type(exc).__name__}: {code or ''} {getattr(exc, 'message', exc)}"
    if isinstance(exc, ThrottlingException) or code in AliyunBackend.TRANSIENT_CODES:
        return ProviderUnavailable(f"Aliyun SMS throttled: {detail}")
    if isinstance(status, int) and 400 <= status < 500:
        return ProviderRejected(f"Aliyun SMS refused: {detail}")
    return ProviderUnavailable(f"Aliyun SMS unreachable: {detail}")


BACKENDS = {"console": ConsoleBackend, "locmem": LocmemBackend, "aliyun": AliyunBackend}


def get_backend():
    try:
        return BACKENDS[settings.SMS_BACKEND]()
    except KeyError:
        raise ImproperlyConfigured(f"Unknown SMS_BACKEND {settings.SMS_BACKEND!r}: one of {sorted(BACKENDS)}") from None
