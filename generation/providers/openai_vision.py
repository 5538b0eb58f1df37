"""Vision through the official `openai` SDK: a GPT-4o class model looks at the photo and answers in JSON.

- Chat Completions with a text part and an `image_url` part (a `data:` URL of the photo re-encoded as a JPEG of
  at most 512 px, `detail: "low"`: a fixed small token budget, enough for a mood), `response_format` JSON object.
  `base_url` makes any OpenAI-compatible gateway usable (and lets tests use a local fake).
- The answer is input, not truth: `description`, `mood`, `style`, `tags`, `title` must be there with the right
  types (strings are trimmed and cut to length, unknown moods/styles are mapped onto our vocabulary or replaced
  by what the pixels say). A malformed answer is asked again once; a second one is a permanent error (a model or
  gateway that cannot do JSON will not learn it in the next minute).
- Palette, brightness, warmth, saturation and contrast are measured locally from the pixels, as in the local
  provider, so that covers and music get the same numbers whichever provider described the photo.
- Errors: APITimeoutError → ProviderTimeout; connection errors, 408/409, 429 rate limits and 5xx →
  ProviderUnavailable (retryable); 429 `insufficient_quota` → ProviderOutOfCredits; other 4xx (bad key, refused
  content, bad model) → ProviderRejected. The SDK's own retries are off by default (`max_retries=0`): the Celery
  pipeline retries with backoff instead of a worker sleeping.
"""

from __future__ import annotations

import base64
import json
import logging

import openai

from tunee.api.i18n import T

from .base import (
    ImageAnalysis,
    ProviderError,
    ProviderOutOfCredits,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
)
from .imagestats import decode_image, measure, to_jpeg
from .local_vision import analyse_pixels
from .vocabulary import MOODS, STYLES

logger = logging.getLogger(__name__)

VISION_BUSY = T("图片识别服务暂时不可用，请稍后重试", "The image service is unavailable, please try again later")
VISION_TIMEOUT = T("图片识别超时，请稍后重试", "The image service timed out, please try again later")
VISION_REFUSED = T("这张图片无法识别，请换一张照片", "This photo could not be described, please try another one")
VISION_BROKEN = T("图片识别服务返回了无法理解的结果", "The image service gave an answer we could not understand")
VISION_CONFIG = T("图片识别服务配置错误，请联系客服", "The image service is misconfigured, please contact support")

SYSTEM_PROMPT = (
    "You help a music app turn a photo into a song. Look at the photo and answer with ONE JSON object, no other "
    "text, with these keys:\n"
    '  "description": what the photo shows and how it feels, in Simplified Chinese, at most 80 characters;\n'
    f'  "mood": one of {", ".join(MOODS)};\n'
    f'  "style": the music style that fits best, one of {", ".join(STYLES)};\n'
    '  "tags": 3 to 6 short Simplified Chinese words (scene, feeling, colours);\n'
    '  "title": a song title in Simplified Chinese, at most 12 characters;\n'
    '  "lyrics": four to eight short lines of Simplified Chinese lyrics about the photo, separated by \\n, '
    "or null.\n"
    "Never name real artists or people."
)
USER_PROMPT = "为这张照片写一首歌的创作要素，按要求只返回 JSON。"

LIMITS = {"description": 300, "title": 40, "tag": 16, "tags": 8, "lyrics": 2000}


class MalformedAnswer(ValueError):
    pass


def _keyword_match(value: str, vocabulary: dict) -> str | None:
    value = value.strip().lower()
    if value in vocabulary:
        return value
    for name, entry in vocabulary.items():
        keywords = entry[2] if isinstance(entry, tuple) else entry.keywords
        if any(word in value for word in keywords):
            return name
    return None


def validate_answer(content: str | None, pixels: ImageAnalysis) -> ImageAnalysis:
    """The model's JSON answer checked and normalised, with the pixels' numbers; MalformedAnswer otherwise."""
    if not content:
        raise MalformedAnswer("empty answer")
    try:
        answer = json.loads(content)
    except ValueError as exc:
        raise MalformedAnswer(f"not JSON: {content[:120]!r}") from exc
    if not isinstance(answer, dict):
        raise MalformedAnswer("not a JSON object")
    for key in ("description", "mood", "style", "title"):
        if not isinstance(answer.get(key), str) or not answer[key].strip():
            raise MalformedAnswer(f"{key!r} missing or not a string")
    tags = answer.get("tags")
    if isinstance(tags, str):
        tags = tags.replace("，", ",").split(",")
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise MalformedAnswer("'tags' is not a list of strings")
    lyrics = answer.get("lyrics")
    if lyrics is not None and not isinstance(lyrics, str):
        raise MalformedAnswer("'lyrics' is neither a string nor null")

    clean_tags: list[str] = []
    for tag in tags:
        tag = tag.strip()[: LIMITS["tag"]]
        if tag and tag not in clean_tags:
            clean_tags.append(tag)
    return ImageAnalysis(
        description=answer["description"].strip()[: LIMITS["description"]],
        mood=_keyword_match(answer["mood"], MOODS) or pixels.mood,
        style=_keyword_match(answer["style"], STYLES) or pixels.style,
        tags=tuple(clean_tags[: LIMITS["tags"]]) or pixels.tags,
        title=answer["title"].strip()[: LIMITS["title"]],
        lyrics=(lyrics or "").strip()[: LIMITS["lyrics"]] or None,
        palette=pixels.palette,
        brightness=pixels.brightness,
        warmth=pixels.warmth,
        saturation=pixels.saturation,
        contrast=pixels.contrast,
    )


class OpenAIVisionProvider:
    """VisionProvider backed by a GPT-4o class model through the official SDK."""

    name = "openai"

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None = None,
        model: str = "gpt-4o-mini",
        timeout: float = 30.0,
        max_retries: int = 0,
    ):
        self.model = model
        self.client = openai.OpenAI(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries)

    def describe(self, image_bytes: bytes, content_type: str = "") -> ImageAnalysis:
        image = decode_image(image_bytes, max_side=512)  # not an image → ProviderRejected before any request
        small = image.copy()
        small.thumbnail((256, 256))
        pixels = analyse_pixels(measure(small), fingerprint="0" * 8)
        data_url = "data:image/jpeg;base64," + base64.b64encode(to_jpeg(image)).decode()
        problem = None
        for _attempt in range(2):
            content = self._ask(data_url)
            try:
                return validate_answer(content, pixels)
            except MalformedAnswer as exc:
                problem = exc
                logger.warning("vision model %s gave a malformed answer: %s", self.model, exc)
        raise ProviderRejected(VISION_BROKEN, detail=f"malformed answer twice: {problem}")

    def _ask(self, data_url: str) -> str | None:
        try:
            completion = self.client.chat.completions.create(
                model=self.model,
                messages=[
                    {"role": "system", "content": SYSTEM_PROMPT},
                    {
                        "role": "user",
                        "content": [
                            {"type": "text", "text": USER_PROMPT},
                            {"type": "image_url", "image_url": {"url": data_url, "detail": "low"}},
                        ],
                    },
                ],
                response_format={"type": "json_object"},
                max_tokens=700,
                temperature=0.7,
            )
        except openai.APITimeoutError as exc:  # before APIConnectionError, its parent
            raise ProviderTimeout(VISION_TIMEOUT, detail=f"vision: {exc}") from exc
        except openai.APIConnectionError as exc:
            raise ProviderUnavailable(VISION_BUSY, detail=f"vision: {exc}") from exc
        except openai.APIStatusError as exc:
            raise _status_error(exc) from exc
        except openai.OpenAIError as exc:
            raise ProviderUnavailable(VISION_BUSY, detail=f"vision: {exc}") from exc
        if not completion.choices:
            return None
        message = completion.choices[0].message
        if getattr(message, "refusal", None):
            raise ProviderRejected(VISION_REFUSED, detail=f"vision model refused: {message.refusal[:200]}")
        return message.content


def _status_error(exc: openai.APIStatusError) -> ProviderError:
    status = exc.status_code
    detail = f"vision: HTTP {status} {exc.message[:200]}"
    code = getattr(exc, "code", None) or (exc.body.get("code") if isinstance(exc.body, dict) else None)
    retry_after = None
    try:
        retry_after = float(exc.response.headers.get("retry-after", "")) if exc.response is not None else None
    except ValueError:
        retry_after = None
    if status == 429 and code == "insufficient_quota":
        logger.error("vision provider needs an operator: %s", detail)
        return ProviderOutOfCredits(VISION_BUSY, detail=detail)
    if status in (408, 409, 429) or status >= 500:
        return ProviderUnavailable(VISION_BUSY, detail=detail, retry_after=retry_after)
    if status in (401, 403, 404):
        logger.error("vision provider needs an operator: %s", detail)
        return ProviderRejected(VISION_CONFIG, detail=detail, alert=True)
    return ProviderRejected(VISION_REFUSED, detail=detail)
