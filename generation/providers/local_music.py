"""The offline music provider: composes a piece from the request (`composition.py`) and renders it to MP3 on this
machine (`render`, with the instruments of `synth.py`). The track is instrumental: `lyrics` are the request's (or the
photo's) when given, else None.
"""

from __future__ import annotations

import numpy as np

from . import synth
from .base import Asset, MusicRequest, MusicResult, PollResult, ProviderUnavailable, Submission, TaskState, Track
from .composition import Composition, compose, request_digest
from .covers import draw_cover
from .vocabulary import STYLE_LABELS, STYLES

__all__ = ["LocalMusicProvider", "compose", "render"]

DRUM_GAINS = {"kick": 0.9, "snare": 0.5, "clap": 0.55, "hat": 0.22, "open_hat": 0.2, "ride": 0.3, "shaker": 0.3}


# --- Rendering --------------------------------------------------------------------------------------------------


def render(c: Composition, duration: float) -> np.ndarray:
    """The composition as planar stereo float32 samples (2, n), exactly `duration` seconds long."""
    style = STYLES[c.style]
    sps = c.seconds_per_step
    n = round(duration * synth.SR)
    total = n + int(2 * synth.SR)  # room for the tails of the last notes
    centre, wide, send = synth.Bus(total), synth.Bus(total), synth.Bus(total)
    cache = synth.NoteCache()

    def at(step: float) -> int:
        swing = style.swing if int(step) % 4 == 2 and step == int(step) else 0.0
        return round((step + swing * 0.5) * sps * synth.SR)

    def held(length: float) -> int:
        return max(1, int(length * sps * synth.SR * 0.95))

    for note in c.melody:
        wave = cache.get(c.lead, note.midi, held(note.length))
        centre.add(at(note.start), wave, 0.30 * note.velocity)
        send.add(at(note.start), wave, 0.22 * note.velocity)
    for note in c.bass:
        centre.add(at(note.start), cache.get(style.bass_instrument, note.midi, held(note.length)), 0.42 * note.velocity)
    comp_gain = 0.16 if style.comp in ("power", "stabs", "jazz") else 0.2
    for note in c.comp:
        wave = cache.get(style.comp_instrument, note.midi, held(note.length))
        wide.add(at(note.start), wave, comp_gain * note.velocity)
        send.add(at(note.start), wave, 0.1 * note.velocity)
    for note in c.pad:
        wave = cache.get("pad", note.midi, held(note.length))
        wide.add(at(note.start), wave, 0.12 * note.velocity)
        send.add(at(note.start), wave, 0.12 * note.velocity)

    kit = synth.drum_kit(np.random.default_rng(c.seed ^ 0x5EED), tuning=1.0 if c.style != "hiphop" else 0.85)
    for voice, step, velocity in c.hits:
        bus = wide if voice in ("hat", "open_hat", "ride", "shaker") else centre
        bus.add(at(step), kit[voice], DRUM_GAINS[voice] * velocity)
        if voice in ("snare", "clap"):
            send.add(at(step), kit[voice], 0.12 * velocity)

    if c.lead in ("lead", "square", "bell", "flute"):
        synth.echo(send.samples, sps * 3 if c.tempo > 90 else sps * 2, 0.35, repeats=3)
    if c.style == "lofi":  # dull, warm, a little dusty
        centre.samples = synth.smooth(centre.samples, 5)
        wide.samples = synth.smooth(wide.samples, 7)
        crackle = np.random.default_rng(c.seed ^ 0xC4AC).integers(0, total, int(total * 0.0004))
        wide.samples[crackle] += np.float32(0.08)
    return synth.master(
        centre.samples,
        wide.samples,
        send.samples,
        n,
        reverb=style.reverb,
        fade_in=0.25,
        fade_out=min(3.0, duration / 8),
    )


# --- The provider -----------------------------------------------------------------------------------------------


LOST = "the local provider keeps no tasks: its result comes back from submit; submit again"


class LocalMusicProvider:
    """MusicProvider that composes and renders on this machine; `submit` returns the finished result."""

    name = "local"
    standard_bitrate = 128
    hq_bitrate = 320

    def submit(self, request: MusicRequest) -> Submission:
        composition = compose(request)
        stereo = render(composition, request.duration)
        tag = synth.id3_tag(title=composition.title, genre=STYLE_LABELS[composition.style]["en"])
        # The 320 kbps file only for members' songs: nobody else may download it, and it costs as much as the rest.
        bitrates = (self.standard_bitrate, self.hq_bitrate) if request.high_quality else (self.standard_bitrate,)
        audio, *hq = (tag + mp3 for mp3 in synth.encode_mp3s(stereo, bitrates=bitrates))
        del stereo
        palette = request.image.palette if request.image and request.image.palette else None
        subtitle = f"{STYLE_LABELS[composition.style]['zh']} · {composition.key_name} · {composition.tempo} BPM"
        cover = draw_cover(
            title=composition.title, subtitle=subtitle, palette=palette, mood=composition.mood, seed=composition.seed
        )
        digest = request_digest(request)
        track = Track(
            title=composition.title,
            duration=float(request.duration),
            audio=Asset.inline(audio, "audio/mpeg", "mp3"),
            audio_hq=Asset.inline(hq[0], "audio/mpeg", "mp3") if hq else None,
            cover=Asset.inline(cover, "image/jpeg", "jpg"),
            lyrics=request.lyrics or (request.image.lyrics if request.image else None),
            provider_track_id=f"local-{digest[:32]}",
        )
        return Submission(
            task_id=f"local-{digest[:32]}",
            result=MusicResult(tracks=(track,)),
            raw={"composition": composition.summary()},
        )

    def poll(self, task_id: str) -> PollResult:
        """Results come back from `submit`; nothing is kept between calls. A poll therefore answers FAILED with a
        retryable error, which tells the pipeline to submit again (the same request renders the same song)."""
        # a new exception each time: the pipeline raises it, and a shared instance would collect tracebacks
        return PollResult(state=TaskState.FAILED, error=ProviderUnavailable(detail=LOST), upstream_status="UNKNOWN")

    def parse_callback(self, payload) -> str | None:
        return None
