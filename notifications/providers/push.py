"""App push backends, chosen by `PUSH_BACKEND`: `jpush` (JPush's official SDK), `console` (the default without
JPush credentials) and `locmem` (tests).

Every backend has the same interface: `send(*, recipient=, devices=, message=) -> PushReport`. `recipient` names
the user (what the console prints); `devices` are the user's (platform, registration id) pairs not yet reached.
The report lists the registration ids reached and the ones JPush called invalid (their rows are then removed).
A transient failure raises `PushUnavailable` carrying the report so far, so a retry skips the devices already
reached; a permanent one raises `ProviderRejected`. `needs_devices` says whether a user without devices can be
reached at all (the console prints for everyone, so `make run` shows every finished song).
"""

import json
import sys
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from . import ProviderRejected, ProviderUnavailable


@dataclass(frozen=True)
class PushMessage:
    title: str
    text: str
    extras: dict = field(default_factory=dict)


@dataclass(frozen=True)
class PushTarget:
    platform: str  # ios | android
    registration_id: str


@dataclass
class PushReport:
    sent: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)


class PushUnavailable(ProviderUnavailable):
    def __init__(self, message: str, report: PushReport):
        super().__init__(message)
        self.report = report


class ConsoleBackend:
    """One line per message on the process's real standard output (a Celery worker replaces `sys.stdout` with a
    logging proxy that would prefix the line and send it to stderr), as the SMS console backend does."""

    needs_devices = False

    def send(self, *, recipient: str, devices: list[PushTarget], message: PushMessage) -> PushReport:
        out = sys.__stdout__ or sys.stdout
        out.write(f"PUSH to {recipient}: {message.text}\n")
        out.flush()
        return PushReport(sent=[device.registration_id for device in devices])


@dataclass(frozen=True)
class SentPush:
    recipient: str
    devices: list[PushTarget]
    message: PushMessage


# The locmem backend's outbox, like django.core.mail.outbox: tests read it and clear it.
outbox: list[SentPush] = []


class LocmemBackend:
    needs_devices = False

    def send(self, *, recipient: str, devices: list[PushTarget], message: PushMessage) -> PushReport:
        outbox.append(SentPush(recipient=recipient, devices=list(devices), message=message))
        return PushReport(sent=[device.registration_id for device in devices])


class JPushBackend:
    """JPush Push API v3 through the `jpush` SDK: one push per device (`audience.registration_id`), so that the
    ids JPush cannot find (error 1011: no such target) are told apart and removed.

    The SDK's URLs are module constants (`jpush.common.ZONES`); the client built here sends what the SDK addressed
    to its push base URL to `JPUSH_API_BASE` instead (a local fake in tests), and gives every request a timeout.
    """

    needs_devices = True
    NO_TARGET = 1011  # "cannot find user by this audience": the registration id is unknown or long inactive
    TRANSIENT_CODES = {1030, 2002, 2008}  # internal timeout, API rate limits

    def __init__(self):
        for name in ("JPUSH_APP_KEY", "JPUSH_MASTER_SECRET"):
            if not getattr(settings, name):
                raise ImproperlyConfigured(f"PUSH_BACKEND=jpush needs {name}")
        self.client = _jpush_client()

    def send(self, *, recipient: str, devices: list[PushTarget], message: PushMessage) -> PushReport:
        report = PushReport()
        for device in devices:
            try:
                self._push(device, message)
            except _NoTarget:
                report.invalid.append(device.registration_id)
            except ProviderUnavailable as exc:
                raise PushUnavailable(str(exc), report) from exc
            else:
                report.sent.append(device.registration_id)
        return report

    def _push(self, device: PushTarget, message: PushMessage) -> None:
        import jpush
        from jpush import common

        push = self.client.create_push()
        push.audience = jpush.audience(jpush.registration_id(device.registration_id))
        push.platform = jpush.platform(device.platform)
        push.notification = jpush.notification(
            alert=message.text,
            android=jpush.android(alert=message.text, title=message.title, extras=message.extras),
            ios=jpush.ios(alert={"title": message.title, "body": message.text}, extras=message.extras),
        )
        push.options = {"apns_production": settings.JPUSH_APNS_PRODUCTION, "time_to_live": 86400}
        try:
            push.send()
        except common.Unauthorized as exc:
            raise ProviderRejected("JPush refused the app key or master secret") from exc
        except common.JPushFailure as exc:
            status = getattr(exc.response, "status_code", None)
            if exc.error_code == self.NO_TARGET:
                raise _NoTarget() from exc
            detail = f"JPush {status}: {exc.error_code} {json.dumps(exc.details, ensure_ascii=False, default=str)}"
            if exc.error_code in self.TRANSIENT_CODES or status is None or status == 429 or status >= 500:
                raise ProviderUnavailable(detail) from exc
            raise ProviderRejected(detail) from exc
        except (common.APIConnectionException, common.APIRequestException) as exc:  # timeout, refused
            raise ProviderUnavailable(f"JPush unreachable: {exc.value}") from exc
        except (ValueError, AttributeError) as exc:  # an answer that is not JSON, or JSON without `error`
            raise ProviderUnavailable(f"JPush answered garbage: {exc}") from exc


class _NoTarget(Exception):
    pass


def _jpush_client():
    import jpush
    from jpush import common

    class Client(jpush.JPush):
        def _request(self, method, body, url, content_type=None, version=None, params=None):
            sdk_base = common.get_url("push", self.zone)
            if url.startswith(sdk_base):
                base = settings.JPUSH_API_BASE
                url = (base if base.endswith("/") else base + "/") + url[len(sdk_base) :]
            return super()._request(method, body, url, content_type, version, params)

    return Client(settings.JPUSH_APP_KEY, settings.JPUSH_MASTER_SECRET, timeout=settings.JPUSH_TIMEOUT_SECONDS)


BACKENDS = {"console": ConsoleBackend, "locmem": LocmemBackend, "jpush": JPushBackend}


def get_backend():
    try:
        backend = BACKENDS[settings.PUSH_BACKEND]
    except KeyError:
        raise ImproperlyConfigured(
            f"Unknown PUSH_BACKEND {settings.PUSH_BACKEND!r}: one of {sorted(BACKENDS)}"
        ) from None
    return backend()
