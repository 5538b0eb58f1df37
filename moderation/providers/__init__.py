"""Clients of content screening: `local` (the word list, offline) and `wechat` (content security 2.0), chosen by
MODERATION_PROVIDER. Both answer a `Check` for text; media checks are answered at once by `local` and later (on
the message push) by `wechat`."""

from dataclasses import dataclass

from django.conf import settings

from tunee import providers

# WeChat's scenes (msgSecCheck / mediaCheckAsync `scene`).
SCENE_PROFILE = 1
SCENE_COMMENT = 2
SCENE_FORUM = 3
SCENE_SOCIAL = 4

MEDIA_AUDIO = 1
MEDIA_IMAGE = 2


@dataclass(frozen=True)
class Check:
    outcome: str  # models.Outcome: pass / review / risky
    label: str = ""
    provider: str = "local"
    trace_id: str = ""


class ModerationUnavailable(providers.ProviderError):
    """The provider failed, timed out or answered nonsense: the caller falls back to the local checks."""

    retryable = True


def provider_name() -> str:
    return "wechat" if settings.MODERATION_PROVIDER == "wechat" else "local"
