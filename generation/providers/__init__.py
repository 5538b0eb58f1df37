"""Music and vision providers: the outside services a generation needs, each with an offline twin.

    from generation.providers import get_music_provider, get_vision_provider, MusicRequest, fetch_asset, ...

Choosing
    get_music_provider() -> MusicProvider     settings.MUSIC_PROVIDER: "local" (default) | "suno"
    get_vision_provider() -> VisionProvider   settings.VISION_PROVIDER: "local" (default) | "openai"
    Store `provider.name` on the generation, so that a task keeps talking to the provider that accepted it.

Describing a photo (works, photo songs)
    analysis = get_vision_provider().describe(image_bytes, content_type) -> ImageAnalysis
    ImageAnalysis(description, mood, style, tags, title, lyrics | None, palette, brightness, warmth, saturation,
    contrast); `.to_dict()` / `ImageAnalysis.from_dict()` to keep it on the row or pass it through Celery.
    Bytes that are not an image raise ProviderRejected (permanent) before any network call.

Making a song
    request = MusicRequest(prompt, style="", mood="", duration=30 (10..240 s, ValueError outside), title="",
                           tags=(), negative_tags="", instrumental=False, lyrics=None, image=analysis | None,
                           seed=str(generation.id), callback_url=None)
    (`.to_dict()` / `MusicRequest.from_dict()` for Celery.)
    provider = get_music_provider()
    submission = provider.submit(request) -> Submission(task_id, result: MusicResult | None, raw: dict)
        - store submission.task_id (and raw, for the admin) on the generation before anything else;
        - local: `result` is already there (the song is rendered inside submit, a few seconds of CPU);
        - suno: `result` is None; wait for the callback or poll again later (re-schedule the Celery task with a
          countdown; never sleep in a worker).
    poll = provider.poll(task_id) -> PollResult(state, result, error, upstream_status, raw)
        - TaskState.PENDING: poll again later (suno: the file comes 2-3 minutes after submit);
        - TaskState.COMPLETED: `poll.result`;
        - TaskState.FAILED: `poll.error` is a ProviderError: `poll.error_message` (user-readable, zh/en via
          `poll.error.message.zh/.en`), `poll.retryable` (True only when submitting again may help: the local
          provider keeps no tasks, so its poll answers FAILED + retryable = "submit again", which renders the
          same song because the request is deterministic).
    MusicResult.tracks: tuple[Track, ...] (suno gives two; keep `result.track`, i.e. tracks[0])
    Track(title, duration seconds, audio, audio_hq | None, cover | None, lyrics | None, provider_track_id)
        audio: MP3 128 kbps from local (suno: the gateway's MP3); audio_hq: MP3 320 kbps from local, None from
        suno (then serve `audio` as the high-quality file too).
    Every Asset is either bytes (`asset.data`) or the provider's URL (`asset.url`), with `content_type` and
    `extension`. Copy each into our storage with
        fetch_asset(asset, max_bytes=..., timeout=...) -> bytes
    (inline bytes as they are; remote: one GET with connect/read/total timeouts and a size cap; 404/410 →
    ProviderRejected, 5xx/429/connection → ProviderUnavailable, too slow → ProviderTimeout). URLs given to users
    are always ours: provider links expire after ~15 days.

Callbacks (suno)
    Pass `callback_url` in the request: an endpoint of ours that carries something unguessable (e.g. a signed
    token of the generation id), because the gateway does not sign its callbacks. The endpoint calls
    `provider.parse_callback(request_body) -> task_id | None` (body as dict, bytes or str), answers 200 at once,
    and if a generation with that (provider, task id) exists, enqueues the same poll job. A callback never
    completes or fails a generation by itself: `poll` decides. Keep polling too, since callbacks get lost.
    Local: `parse_callback` always returns None.

Errors (base.py)
    ProviderError(message: T, detail: str, retry_after: float | None, alert: bool), `.retryable`, `.user_message`
      ProviderTimeout, ProviderUnavailable        retryable: retry with backoff (honour `retry_after`)
      ProviderRejected                            permanent: fail the generation, refund it
        ProviderOutOfCredits                      permanent and `alert=True` (the upstream account is empty)
    `message` is for users; `detail` (technical, may contain upstream text) is for logs and the admin only.
    A submit that timed out may have created an upstream task anyway: its later callback then names a task id
    we never stored and is ignored.

Offline twins: local_music (composition.py plans the piece, synth.py renders it, lameenc MP3 + Pillow cover) and
local_vision (pixel statistics). vocabulary.py holds the moods and styles that music and vision providers share.
Real clients: suno (hosted Suno task gateway, `requests`), openai_vision (official `openai` SDK).
"""

from .base import (
    Asset,
    ImageAnalysis,
    MusicProvider,
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
    VisionProvider,
    fetch_asset,
    get_music_provider,
    get_vision_provider,
)

__all__ = [
    "Asset",
    "ImageAnalysis",
    "MusicProvider",
    "MusicRequest",
    "MusicResult",
    "PollResult",
    "ProviderError",
    "ProviderOutOfCredits",
    "ProviderRejected",
    "ProviderTimeout",
    "ProviderUnavailable",
    "Submission",
    "TaskState",
    "Track",
    "VisionProvider",
    "fetch_asset",
    "get_music_provider",
    "get_vision_provider",
]
