"""Client of a hosted Suno task gateway (sunoapi.org style; kie.ai mirrors it).

- `submit`: `POST {base}/api/v1/generate` with a Bearer key → `data.taskId`. Custom mode (our title, our style,
  our lyrics) when the request has a title, a style (or tags) and words to sing (or is instrumental); otherwise
  description mode, where the prompt (≤ 500 characters) describes the song and Suno writes title and lyrics. A
  photo song sings the lyrics the vision model wrote from the photo, or is described by the photo's description,
  style and mood (see `request_body`).
- `poll`: `GET {base}/api/v1/generate/record-info?taskId=…` → `data.status`: SUCCESS → completed with the
  tracks of `data.response.sunoData` as remote assets; CREATE_TASK_FAILED / GENERATE_AUDIO_FAILED /
  SENSITIVE_WORD_ERROR → failed for good, with the gateway's reason in the user's message; PENDING /
  TEXT_SUCCESS / FIRST_SUCCESS → pending. CALLBACK_EXCEPTION means the gateway could not call us back: with
  audio present the songs are done, else failed.
- `parse_callback`: the gateway POSTs `{code, msg, data: {callbackType, task_id, data: [...]}}` three times
  (text, first, complete) or on failure. Callbacks are not signed, so only the task id is read from them; the
  pipeline confirms with `poll`.

Errors (HTTP status or the JSON `code`, the gateway uses both): 401 bad key and 413 prompt too long → permanent
(401 alerts); 429 out of credits → ProviderOutOfCredits, permanent and alerting: the generation fails and is
refunded at once instead of keeping the user waiting for an operator to top up; 430 too frequent, 455
maintenance, 5xx, timeouts, connection errors → retryable (with `retry_after` when known). Each request has an
explicit (connect, read) timeout. Note that a submit which timed out may still have created a task upstream
(its callback then names a task id we never stored, and is ignored).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests

from tunee.api.i18n import T

from .base import (
    Asset,
    MusicRequest,
    MusicResult,
    PollResult,
    ProviderError,
    ProviderOutOfCredits,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
    Submission,
    TaskState,
    Track,
)

logger = logging.getLogger(__name__)

PENDING_STATUSES = {"PENDING", "TEXT_SUCCESS", "FIRST_SUCCESS"}
FAILED_STATUSES = {"CREATE_TASK_FAILED", "GENERATE_AUDIO_FAILED", "CALLBACK_EXCEPTION", "SENSITIVE_WORD_ERROR"}
DESCRIPTION_LIMIT = 500

BAD_CONFIG = T("音乐服务配置错误，请联系客服", "The music service is misconfigured, please contact support")
TOO_LONG = T("描述或歌词太长，请缩短后重试", "The description or lyrics are too long, please shorten them")
BAD_REQUEST = T("音乐服务无法处理这个请求，请修改描述后重试", "The music service could not process this request")
BUSY = T("音乐服务繁忙，请稍后重试", "The music service is busy, please try again later")
MAINTENANCE = T("音乐服务维护中，请稍后重试", "The music service is under maintenance, please try again later")
SENSITIVE = T(
    "描述或歌词中含有不允许的内容（如敏感词或艺人姓名），请修改后重试",
    "The description or lyrics contain words that are not allowed (e.g. an artist's name), please change them",
)


def _failed(reason: str) -> T:
    reason = reason.strip()[:200]
    if not reason:
        return T("音乐生成失败，请重试", "Music generation failed, please try again")
    return T(f"音乐生成失败：{reason}", f"Music generation failed: {reason}")


def _limits(model: str) -> dict[str, int]:
    """Custom-mode length limits of the gateway, by model."""
    old = model in ("V3_5", "V4")
    return {
        "prompt": 3000 if old else 5000,
        "style": 200 if old else 1000,
        "title": 80 if model in ("V3_5", "V4", "V4_5ALL") else 100,
    }


def _extension(url: str, default: str) -> str:
    suffix = urlsplit(url).path.rsplit(".", 1)
    ext = suffix[1].lower() if len(suffix) == 2 else ""
    return ext if ext and len(ext) <= 5 and ext.isalnum() else default


IMAGE_TYPES = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
AUDIO_TYPES = {"mp3": "audio/mpeg", "wav": "audio/wav", "m4a": "audio/mp4"}


class SunoProvider:
    """MusicProvider speaking the hosted gateway's task API."""

    name = "suno"

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        model: str = "V4_5",
        timeout: float = 15.0,
        connect_timeout: float = 5.0,
        session: requests.Session | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.timeout = (min(connect_timeout, timeout), timeout)
        self.session = session or requests.Session()
        self._headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}

    # --- the interface ---

    def submit(self, request: MusicRequest) -> Submission:
        body = self.request_body(request)
        answer = self._call("POST", "/api/v1/generate", json=body)
        data = answer.get("data")
        task_id = data.get("taskId") if isinstance(data, dict) else None
        if not isinstance(task_id, str) or not task_id:
            raise ProviderUnavailable(detail=f"generate answered without a taskId: {answer!r:.300}")
        return Submission(task_id=task_id, raw={"request": body, "response": answer})

    def poll(self, task_id: str) -> PollResult:
        answer = self._call("GET", "/api/v1/generate/record-info", params={"taskId": task_id})
        data = answer.get("data") if isinstance(answer.get("data"), dict) else {}
        status = str(data.get("status") or "").upper()
        tracks = self._tracks(data)
        if status == "SUCCESS" or (status == "CALLBACK_EXCEPTION" and tracks):
            if tracks:
                return PollResult(TaskState.COMPLETED, result=MusicResult(tracks), upstream_status=status, raw=answer)
            # "SUCCESS" before the files are there: keep waiting (GENERATION_TIMEOUT bounds it)
            return PollResult(TaskState.PENDING, upstream_status=status, raw=answer)
        if status in FAILED_STATUSES:
            reason = str(data.get("errorMessage") or "")  # the envelope's msg is "success" here
            message = SENSITIVE if status == "SENSITIVE_WORD_ERROR" else _failed(reason)
            error = ProviderRejected(message, detail=f"task {task_id}: {status} {data.get('errorCode')} {reason}")
            return PollResult(TaskState.FAILED, error=error, upstream_status=status, raw=answer)
        if status not in PENDING_STATUSES:
            logger.warning("suno task %s: unknown status %r, still waiting", task_id, status)
        return PollResult(TaskState.PENDING, upstream_status=status, raw=answer)

    def parse_callback(self, payload: Any) -> str | None:
        if isinstance(payload, bytes | str):
            try:
                payload = json.loads(payload)
            except ValueError:
                return None
        if not isinstance(payload, Mapping):
            return None
        data = payload.get("data")
        if not isinstance(data, Mapping):
            return None
        task_id = data.get("task_id") or data.get("taskId")
        return task_id if isinstance(task_id, str) and 0 < len(task_id) <= 200 else None

    def credits(self) -> int | float:
        """Credits left on the gateway account (for monitoring)."""
        answer = self._call("GET", "/api/v1/generate/credit")
        return answer.get("data") or 0

    # --- building and reading messages ---

    def request_body(self, request: MusicRequest) -> dict[str, Any]:
        """The gateway's generate body for `request`, or ProviderRejected when the gateway would refuse it.

        Custom mode needs a title and a style, and, with vocals, words to sing: the request's lyrics, else the
        photo's (a vision model may write some), else — for a request without a photo only (Photo Song's music
        tasks, whose prompt is custom-generate's lyrics) — the prompt. With a photo the prompt is what the song is
        about (a work's description) and is never sung. Whatever cannot be custom goes in description mode: the
        prompt, the photo's description, the style and the mood in at most 500 characters, and Suno writes the
        title and the lyrics.
        """
        style = ", ".join(dict.fromkeys(s for s in (request.style.strip(), *request.tags) if s))
        title = request.title.strip()
        image = request.image
        lyrics = (request.lyrics or (image.lyrics if image else None) or "").strip()
        sung = lyrics or ("" if image else request.prompt.strip())
        body: dict[str, Any] = {"instrumental": bool(request.instrumental), "model": self.model}
        if request.callback_url:
            body["callBackUrl"] = request.callback_url
        if title and style and (request.instrumental or sung):
            limits = _limits(self.model)
            body.update(customMode=True, title=title[: limits["title"]], style=style[: limits["style"]])
            if request.negative_tags.strip():
                body["negativeTags"] = request.negative_tags.strip()
            if not request.instrumental:
                if len(sung) > limits["prompt"]:
                    raise ProviderRejected(TOO_LONG, detail=f"lyrics of {len(sung)} characters")
                body["prompt"] = sung
        else:
            parts: list[str] = []
            for part in (request.prompt, image.description if image else "", request.style, request.mood):
                part = (part or "").strip()
                if part and not any(part in seen for seen in parts):
                    parts.append(part)
            description = ", ".join(parts)
            if not description:
                raise ProviderRejected(BAD_REQUEST, detail="nothing to describe the song with")
            body.update(customMode=False, prompt=description[:DESCRIPTION_LIMIT])
        return body

    def _tracks(self, data: Mapping[str, Any]) -> tuple[Track, ...]:
        response = data.get("response") if isinstance(data.get("response"), Mapping) else {}
        items = response.get("sunoData") or []
        try:
            instrumental = bool(json.loads(data.get("param") or "{}").get("instrumental"))
        except (ValueError, AttributeError):
            instrumental = False
        tracks = []
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, Mapping):
                continue
            audio_url = item.get("audioUrl") or item.get("sourceAudioUrl")
            if not isinstance(audio_url, str) or not audio_url.startswith(("http://", "https://")):
                continue
            audio_ext = _extension(audio_url, "mp3")
            image_url = item.get("imageUrl") or item.get("sourceImageUrl")
            cover = None
            if isinstance(image_url, str) and image_url.startswith(("http://", "https://")):
                ext = _extension(image_url, "jpeg")
                cover = Asset.remote(image_url, IMAGE_TYPES.get(ext, "image/jpeg"), ext)
            try:
                duration = float(item.get("duration") or 0)
            except (TypeError, ValueError):
                duration = 0.0
            lyrics = item.get("prompt") if not instrumental and isinstance(item.get("prompt"), str) else None
            tracks.append(
                Track(
                    title=str(item.get("title") or "")[:100],
                    duration=duration,
                    audio=Asset.remote(audio_url, AUDIO_TYPES.get(audio_ext, "audio/mpeg"), audio_ext),
                    audio_hq=None,
                    cover=cover,
                    lyrics=lyrics or None,
                    provider_track_id=str(item.get("id") or ""),
                )
            )
        return tuple(tracks)

    # --- transport ---

    def _call(self, method: str, path: str, **kwargs) -> dict[str, Any]:
        url = f"{self.base_url}{path}"
        try:
            response = self.session.request(method, url, headers=self._headers, timeout=self.timeout, **kwargs)
        except requests.Timeout as exc:
            raise ProviderTimeout(detail=f"{method} {path}: {exc}") from exc
        except requests.RequestException as exc:
            raise ProviderUnavailable(detail=f"{method} {path}: {exc}") from exc
        try:
            answer = response.json()
        except ValueError:
            answer = None
        message = str(answer.get("msg") or "") if isinstance(answer, dict) else response.text[:200]
        retry_after = _retry_after(response)
        if response.status_code != 200:
            raise self._error(
                response.status_code, f"{method} {path}: HTTP {response.status_code} {message}", retry_after
            )
        if not isinstance(answer, dict) or "code" not in answer:
            raise ProviderUnavailable(detail=f"{method} {path}: not a gateway answer: {response.text[:200]!r}")
        if answer.get("code") != 200:
            raise self._error(answer.get("code"), f"{method} {path}: code {answer.get('code')} {message}", retry_after)
        return answer

    @staticmethod
    def _error(code: Any, detail: str, retry_after: float | None) -> ProviderError:
        try:
            code = int(code)
        except (TypeError, ValueError):
            return ProviderUnavailable(detail=detail)
        if code in (401, 403):
            error: ProviderError = ProviderRejected(BAD_CONFIG, detail=detail, alert=True)
        elif code == 413:
            error = ProviderRejected(TOO_LONG, detail=detail)
        elif code == 429:
            error = ProviderOutOfCredits(detail=detail)
        elif code == 430:
            error = ProviderUnavailable(BUSY, detail=detail, retry_after=retry_after or 10.0)
        elif code == 455:
            error = ProviderUnavailable(MAINTENANCE, detail=detail, retry_after=retry_after or 60.0)
        elif code == 408:
            error = ProviderTimeout(detail=detail)
        elif code >= 500:
            error = ProviderUnavailable(detail=detail, retry_after=retry_after)
        elif 400 <= code < 500:
            error = ProviderRejected(BAD_REQUEST, detail=detail)
        else:
            error = ProviderUnavailable(detail=detail)
        if error.alert:
            logger.error("suno gateway needs an operator: %s", detail)
        return error


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
