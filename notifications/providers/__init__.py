"""Clients of the services that tell users a song is ready: WeChat subscribe messages (`wechat.py`) and app push
through JPush (`push.py`, with its console and locmem twins). Their errors are the shared ones of `tunee.providers`
(`detail`, `retryable`), plus `NotSubscribed`."""

from tunee.providers import ProviderError, ProviderRejected, ProviderUnavailable

__all__ = ["NotSubscribed", "ProviderError", "ProviderRejected", "ProviderUnavailable"]


class NotSubscribed(ProviderRejected):
    """WeChat 43101: the user holds no subscription for this template (refused it, or used it up)."""
