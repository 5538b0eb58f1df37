"""Clients of the outside services accounts talks to (SMS, WeChat login), each with an offline twin.

Their errors are the shared ones of `tunee.providers` (`detail`, `retryable`), plus `ProviderNotConfigured`."""

from tunee.providers import ProviderError, ProviderRejected, ProviderUnavailable

__all__ = ["ProviderError", "ProviderNotConfigured", "ProviderRejected", "ProviderUnavailable"]


class ProviderNotConfigured(ProviderError):
    """No credentials for the service and no offline twin allowed to stand in (e.g. WECHAT_SANDBOX off)."""

    retryable = False
