"""The one base of every outside-service error (SMS and WeChat login, payment gateways, music and vision, content
screening, notifications). Each app's `providers` package subclasses it with its own names and extras.

- `retryable`: whether the same call may succeed later (timeouts, connection failures, 5xx, throttling). A class
  default that one error may override (`retryable=` in the constructor).
- `retry_after`: seconds the service asked us to wait, when it said so; None otherwise.
- `detail`: technical text for logs and the admin (an upstream code, a status, a short excerpt of the answer),
  never shown to users; it is the error's `str()`. Users see the messages each app maps these errors to.
"""

from __future__ import annotations


class ProviderError(Exception):
    """An outside service failed. See the module docstring for `retryable`, `retry_after` and `detail`."""

    retryable: bool = False

    def __init__(self, detail: str = "", *, retryable: bool | None = None, retry_after: float | None = None):
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after
        if retryable is not None:
            self.retryable = retryable

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r}, retryable={self.retryable})"


class ProviderUnavailable(ProviderError):
    """Timeout, connection refused, 5xx, throttled: transient."""

    retryable = True


class ProviderRejected(ProviderError):
    """The service answered and said no (a bad code, number, template or credential): permanent."""

    retryable = False
