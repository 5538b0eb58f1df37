"""Clients of the services that tell users a song is ready: WeChat subscribe messages (`wechat.py`) and app push
through JPush (`push.py`, with its console and locmem twins)."""


class ProviderError(Exception):
    """An outside service failed. `retryable` says whether trying again later may help (timeouts, 5xx)."""

    retryable = False


class ProviderUnavailable(ProviderError):
    """Timeout, connection refused, 5xx, throttled: transient."""

    retryable = True


class ProviderRejected(ProviderError):
    """The service answered and said no (bad template, bad data, bad credentials): permanent."""

    retryable = False


class NotSubscribed(ProviderRejected):
    """WeChat 43101: the user holds no subscription for this template (refused it, or used it up)."""
