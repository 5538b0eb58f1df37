"""One provider-error base: every app's provider errors are `tunee.providers.ProviderError`, with one constructor."""

import pytest

from tunee.providers import ProviderError


def test_the_base_keeps_detail_retryable_and_retry_after():
    error = ProviderError("upstream said 503", retry_after=2.5)
    assert (str(error), error.detail, error.retryable, error.retry_after) == (
        "upstream said 503",
        "upstream said 503",
        False,
        2.5,
    )
    assert ProviderError("x", retryable=True).retryable is True
    assert ProviderError().retry_after is None


@pytest.mark.parametrize(
    "module",
    [
        "tunee.providers",
        "accounts.providers",
        "notifications.providers",
        "payments.providers.base",
        "generation.providers.base",
    ],
)
def test_each_app_subclasses_the_base_and_keeps_its_names(module):
    import importlib

    errors = importlib.import_module(module)
    assert issubclass(errors.ProviderError, ProviderError)
    assert errors.ProviderUnavailable.retryable is True
    assert errors.ProviderRejected.retryable is False
    assert issubclass(errors.ProviderUnavailable, errors.ProviderError)


def test_moderation_unavailable_is_a_retryable_provider_error():
    from moderation.providers import ModerationUnavailable

    assert issubclass(ModerationUnavailable, ProviderError) and ModerationUnavailable("down").retryable


def test_each_constructor_still_takes_its_own_extras():
    from generation.providers.base import ProviderOutOfCredits
    from generation.providers.base import ProviderUnavailable as MusicUnavailable
    from payments.providers.base import ProviderRejected as PaymentRejected
    from payments.providers.base import ProviderUnavailable as PaymentUnavailable

    music = MusicUnavailable(detail="", retry_after=10.0)
    assert (str(music), music.retry_after, music.detail) == (music.message.en, 10.0, "")
    assert ProviderOutOfCredits(detail="empty").alert is True
    payment = PaymentRejected("refused", provider_code="ORDERPAID", code="already_paid")
    assert (str(payment), payment.message, payment.detail, payment.retryable) == (
        "refused [ORDERPAID]",
        "refused",
        "refused",
        False,
    )
    assert PaymentUnavailable("not configured", retryable=False).retryable is False
