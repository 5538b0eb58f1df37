"""Clients of the outside services accounts talks to (SMS, WeChat login), each with an offline twin."""


class ProviderError(Exception):
    """An outside service failed. `retryable` says whether trying again later may help (timeouts, 5xx)."""

    retryable = False


class ProviderUnavailable(ProviderError):
    """Timeout, connection refused, 5xx, throttled: transient."""

    retryable = True


class ProviderRejected(ProviderError):
    """The service answered and said no (bad code, bad number, bad template): permanent."""

    retryable = False


class ProviderNotConfigured(ProviderError):
    """No credentials for the service and no offline twin allowed to stand in (e.g. WECHAT_SANDBOX off)."""

    retryable = False
