"""The provider interface: what the generation pipeline hands to a music or vision provider, and what it gets back.

Plain frozen dataclasses and Protocols, no Django models: a provider knows nothing of generations, users or
storage. Every value object converts to and from a JSON-able dict (`to_dict` / `from_dict`) so that it can travel
through Celery and be kept on a row. See `generation/providers/__init__.py` for how the pipeline uses them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any, Protocol, runtime_checkable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from tunee import fetch as fetching
from tunee import providers
from tunee.api.i18n import T

logger = logging.getLogger(__name__)

MIN_DURATION = 10
MAX_DURATION = 240
DEFAULT_DURATION = 30


# --- Errors -----------------------------------------------------------------------------------------------------


class ProviderError(providers.ProviderError):
    """A provider could not do the job (`tunee.providers.ProviderError`). `message` is for the user (bilingual `T`),
    `detail` for logs and admins; the error's `str()` is the detail, or the message in English when there is none.

    `retryable`: the same call may succeed later (the pipeline retries with backoff, within GENERATION_TIMEOUT);
    otherwise the generation fails at once and is refunded. `retry_after`: seconds the upstream asked us to wait,
    when it said so. `alert`: an operator must act (bad key, no credits left); the client logs it at ERROR.
    """

    retryable = False
    default_message = T("音乐服务暂时不可用，请稍后重试", "The music service is unavailable, please try again later")

    def __init__(
        self,
        message: T | None = None,
        *,
        detail: str = "",
        retry_after: float | None = None,
        alert: bool = False,
    ):
        self.message = message if message is not None else self.default_message
        self.alert = alert
        super().__init__(detail, retry_after=retry_after)

    def __str__(self) -> str:
        return self.detail or self.message.en

    @property
    def user_message(self) -> str:
        """The message in the active language (Chinese unless English is active)."""
        return str(self.message)


class ProviderTimeout(ProviderError):
    """The upstream did not answer in time. Retryable. (A submit that timed out may still have created a task.)"""

    retryable = True
    default_message = T("音乐服务响应超时，请稍后重试", "The music service timed out, please try again later")


class ProviderUnavailable(ProviderError):
    """Connection refused, 5xx, maintenance, rate limited, garbled answer: retryable."""

    retryable = True


class ProviderRejected(ProviderError):
    """The upstream refused this request for good (bad input, sensitive words, bad key): do not retry."""

    retryable = False
    default_message = T("生成请求被拒绝", "The generation request was rejected")


class ProviderOutOfCredits(ProviderRejected):
    """The upstream account has no credits left. Permanent for this generation (it fails and is refunded at once
    rather than holding the user for minutes); `alert` is set so that operators top up."""

    default_message = T("音乐服务额度不足，请稍后再试", "The music service is out of capacity, please try again later")

    def __init__(self, message: T | None = None, **kwargs):
        kwargs.setdefault("alert", True)
        super().__init__(message, **kwargs)


# --- Vision -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImageAnalysis:
    """What a vision provider saw in a photo.

    Words: `description` (one or two sentences, Chinese), `mood` and `style` (short lowercase English keywords
    such as "happy" / "pop", the vocabulary of `vocabulary.MOODS` / `STYLES`), `tags` (a few short words),
    `title` (a song title), `lyrics` (optional). Pixels: `palette` ("#rrggbb", most used first), `brightness`
    0..1, `warmth` -1 (blue) .. 1 (red), `saturation` 0..1, `contrast` 0..1.
    """

    description: str
    mood: str
    style: str
    tags: tuple[str, ...] = ()
    title: str = ""
    lyrics: str | None = None
    palette: tuple[str, ...] = ()
    brightness: float = 0.5
    warmth: float = 0.0
    saturation: float = 0.5
    contrast: float = 0.5

    def __post_init__(self):
        object.__setattr__(self, "tags", tuple(self.tags))
        object.__setattr__(self, "palette", tuple(self.palette))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["tags"] = list(self.tags)
        data["palette"] = list(self.palette)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ImageAnalysis:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@runtime_checkable
class VisionProvider(Protocol):
    name: str

    def describe(self, image_bytes: bytes, content_type: str) -> ImageAnalysis:
        """Describe a photo. Raises ProviderRejected for bytes that are not an image, ProviderTimeout /
        ProviderUnavailable for transient upstream trouble."""
        ...


# --- Music ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MusicRequest:
    """What to compose. Only `prompt` is really needed; everything else refines it.

    `duration` is in seconds (10-240). `seed`: any string; the local provider renders identical bytes for an
    identical request, seed included. Pass the generation's id: a retried job then renders the same song, and two
    users with the same prompt still get different songs. `callback_url`: where a provider that calls back
    (suno) should POST; providers that finish at once ignore it. `high_quality`: the song is a member's, who may
    download the high-quality file (the local provider makes its 320 kbps MP3 only then).
    """

    prompt: str = ""
    style: str = ""
    mood: str = ""
    duration: int = DEFAULT_DURATION
    title: str = ""
    tags: tuple[str, ...] = ()
    negative_tags: str = ""
    instrumental: bool = False
    lyrics: str | None = None
    image: ImageAnalysis | None = None
    seed: str = ""
    callback_url: str | None = None
    high_quality: bool = False

    def __post_init__(self):
        if isinstance(self.tags, str):
            tags = tuple(t.strip() for t in self.tags.split(",") if t.strip())
        else:
            tags = tuple(str(t).strip() for t in self.tags if str(t).strip())
        object.__setattr__(self, "tags", tags)
        if isinstance(self.image, Mapping):
            object.__setattr__(self, "image", ImageAnalysis.from_dict(self.image))
        if isinstance(self.duration, bool) or not isinstance(self.duration, int | float):
            raise ValueError(f"duration must be a number of seconds, not {self.duration!r}")
        if not MIN_DURATION <= self.duration <= MAX_DURATION:
            raise ValueError(f"duration must be between {MIN_DURATION} and {MAX_DURATION} seconds")
        object.__setattr__(self, "duration", round(self.duration))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["tags"] = list(self.tags)
        data["image"] = self.image.to_dict() if self.image else None
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MusicRequest:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Asset:
    """A file a provider produced: either bytes in memory (`data`) or a URL on the provider's side (`url`).

    Either way the pipeline copies it into our own storage (`fetch_asset` gives the bytes); a provider's URL is
    never shown to users (they expire). `content_type` and `extension` are what the provider
    claims: stored files are named and typed by their bytes (`tunee.fetch.sniff`), never by these.
    """

    content_type: str
    extension: str
    data: bytes | None = field(default=None, repr=False)
    url: str | None = None

    def __post_init__(self):
        if (self.data is None) == (self.url is None):
            raise ValueError("an Asset has either data or url")
        object.__setattr__(self, "extension", self.extension.lstrip("."))

    @classmethod
    def inline(cls, data: bytes, content_type: str, extension: str) -> Asset:
        return cls(content_type=content_type, extension=extension, data=data)

    @classmethod
    def remote(cls, url: str, content_type: str, extension: str) -> Asset:
        return cls(content_type=content_type, extension=extension, url=url)

    @property
    def is_remote(self) -> bool:
        return self.url is not None

    def describe(self) -> dict[str, Any]:
        """A JSON-able summary for logs and raw answers (never the bytes)."""
        return {
            "contentType": self.content_type,
            "extension": self.extension,
            "url": self.url,
            "size": len(self.data) if self.data is not None else None,
        }


@dataclass(frozen=True)
class Track:
    """One song. `audio` is the standard file (MP3, 128 kbps from the local provider); `audio_hq` the
    high-quality one when the provider makes one (local: MP3 320 kbps; suno: None, so the pipeline uses `audio`
    for both). `duration` in seconds."""

    title: str
    duration: float
    audio: Asset
    audio_hq: Asset | None = None
    cover: Asset | None = None
    lyrics: str | None = None
    provider_track_id: str = ""


@dataclass(frozen=True)
class MusicResult:
    """A finished task: one or more tracks (suno makes two per request); `tracks[0]` is the one to keep."""

    tracks: tuple[Track, ...]

    def __post_init__(self):
        object.__setattr__(self, "tracks", tuple(self.tracks))
        if not self.tracks:
            raise ValueError("a MusicResult has at least one track")

    @property
    def track(self) -> Track:
        return self.tracks[0]


@dataclass(frozen=True)
class Submission:
    """A task the provider accepted. `result` is already set when the provider finished at once (local)."""

    task_id: str
    result: MusicResult | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


class TaskState(StrEnum):
    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True)
class PollResult:
    """Where an upstream task stands.

    COMPLETED carries `result`; FAILED carries `error` (a ProviderError: `error.message` for the user,
    `error.retryable` says whether submitting again may help); PENDING carries neither. `upstream_status` is the
    provider's own word (e.g. "FIRST_SUCCESS") and `raw` its answer, for the admin.
    """

    state: TaskState
    result: MusicResult | None = None
    error: ProviderError | None = None
    upstream_status: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self):
        if self.state == TaskState.COMPLETED and self.result is None:
            raise ValueError("a completed poll carries a result")
        if self.state == TaskState.FAILED and self.error is None:
            raise ValueError("a failed poll carries an error")

    @property
    def error_message(self) -> str | None:
        return self.error.user_message if self.error else None

    @property
    def retryable(self) -> bool:
        return bool(self.error and self.error.retryable)


@runtime_checkable
class MusicProvider(Protocol):
    name: str

    def submit(self, request: MusicRequest) -> Submission:
        """Start a task. Raises ProviderError (see its subclasses for retryable vs permanent)."""
        ...

    def poll(self, task_id: str) -> PollResult:
        """Ask how a task stands. A transport failure raises ProviderError; an upstream task that failed
        returns state FAILED."""
        ...

    def parse_callback(self, payload: Any) -> str | None:
        """The task id a callback body is about, or None when it is not one of ours / not understood.
        A callback only hints: the pipeline confirms with `poll(task_id)` before acting."""
        ...


# --- Downloading a provider's file ------------------------------------------------------------------------------

ASSET_GONE = T("生成的文件已失效，请重新生成", "The generated file is no longer available, please generate again")
ASSET_TOO_LARGE = T("生成的文件过大", "The generated file is too large")
ASSET_WRONG_TYPE = T("生成的文件格式不受支持", "The generated file is not in a supported format")


def fetch_asset(
    asset: Asset, *, max_bytes: int, timeout: float, allowed: Iterable[fetching.MediaType] = fetching.ALL
) -> bytes:
    """The bytes of an asset: in memory already, or downloaded from the provider's URL through `tunee.fetch`
    (public addresses only unless ASSET_FETCH_PRIVATE_ALLOWLIST names them, redirects checked hop by hop).

    Either way the bytes must be one of `allowed` (audio and image types, judged by the bytes: `tunee.fetch.sniff`
    tells the caller which one, to name the stored file). `timeout` bounds the whole download, `max_bytes` its
    size: a file that is larger raises ProviderRejected without reading on. 404/410 (expired), other 4xx, a refused
    address or a wrong type → ProviderRejected; 5xx, 429, connection errors → ProviderUnavailable; too slow →
    ProviderTimeout.
    """
    allowed = frozenset(allowed)
    if not asset.is_remote:
        if len(asset.data) > max_bytes:
            raise ProviderRejected(ASSET_TOO_LARGE, detail=f"inline asset of {len(asset.data)} bytes")
        kind = fetching.sniff(asset.data)
        if kind is None or kind not in allowed:
            raise ProviderRejected(ASSET_WRONG_TYPE, detail=f"inline asset is {kind.content_type if kind else '?'}")
        return asset.data
    try:
        return fetching.fetch(asset.url, max_bytes=max_bytes, timeout=timeout, allowed=allowed).data
    except fetching.FetchTimeout as exc:
        raise ProviderTimeout(detail=exc.detail) from exc
    except fetching.FetchUnavailable as exc:
        raise ProviderUnavailable(detail=exc.detail) from exc
    except fetching.FetchTooLarge as exc:
        raise ProviderRejected(ASSET_TOO_LARGE, detail=exc.detail) from exc
    except fetching.FetchWrongType as exc:
        raise ProviderRejected(ASSET_WRONG_TYPE, detail=exc.detail) from exc
    except fetching.FetchRefused as exc:
        raise ProviderRejected(ASSET_GONE, detail=exc.detail) from exc


# --- Choosing the providers from settings ----------------------------------------------------------------------

MUSIC_PROVIDERS = ("local", "suno")
VISION_PROVIDERS = ("local", "openai")


def get_music_provider() -> MusicProvider:
    """The music provider named by settings.MUSIC_PROVIDER ("local" or "suno")."""
    name = settings.MUSIC_PROVIDER
    if name == "local":
        return _local_music()
    if name == "suno":
        if not settings.SUNO_API_KEY:
            raise ImproperlyConfigured("MUSIC_PROVIDER=suno needs SUNO_API_KEY")
        return _suno(settings.SUNO_API_BASE, settings.SUNO_API_KEY, settings.SUNO_MODEL, float(settings.SUNO_TIMEOUT))
    raise ImproperlyConfigured(f"MUSIC_PROVIDER must be one of {MUSIC_PROVIDERS}, not {name!r}")


def get_vision_provider() -> VisionProvider:
    """The vision provider named by settings.VISION_PROVIDER ("local" or "openai")."""
    name = settings.VISION_PROVIDER
    if name == "local":
        return _local_vision()
    if name == "openai":
        if not settings.OPENAI_API_KEY:
            raise ImproperlyConfigured("VISION_PROVIDER=openai needs OPENAI_API_KEY")
        return _openai(
            settings.OPENAI_API_KEY,
            settings.OPENAI_BASE_URL or None,
            settings.OPENAI_VISION_MODEL,
            float(settings.OPENAI_TIMEOUT),
        )
    raise ImproperlyConfigured(f"VISION_PROVIDER must be one of {VISION_PROVIDERS}, not {name!r}")


# One client per configuration and process, so that HTTP connections are reused between jobs.
@lru_cache(maxsize=1)
def _local_music():
    from .local_music import LocalMusicProvider

    return LocalMusicProvider()


@lru_cache(maxsize=4)
def _suno(base_url: str, api_key: str, model: str, timeout: float):
    from .suno import SunoProvider

    return SunoProvider(base_url=base_url, api_key=api_key, model=model, timeout=timeout)


@lru_cache(maxsize=1)
def _local_vision():
    from .local_vision import LocalVisionProvider

    return LocalVisionProvider()


@lru_cache(maxsize=4)
def _openai(api_key: str, base_url: str | None, model: str, timeout: float):
    from .openai_vision import OpenAIVisionProvider

    return OpenAIVisionProvider(api_key=api_key, base_url=base_url, model=model, timeout=timeout)
