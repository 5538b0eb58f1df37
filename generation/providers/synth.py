"""A small numpy synthesizer for the local music provider: instruments, a drum kit, a mixer and an MP3 encoder.

Choices, measured on a 2-core machine (see bench/render_music.py):
- 44.1 kHz, the rate every player expects. Each part is rendered in mono into one of two buses (centre: lead,
  bass, kick, snare; wide: chords, pads, hats); the stereo image comes from a short Haas delay on the wide bus and
  from two different early-reflection reverbs on the left and right sends. Stereo costs little: the notes are
  rendered once.
- Notes are synthesised additively (sums of harmonics with their own decays: piano, pluck, saw lead, pad, strings,
  flute) or by two-operator FM (electric piano, bell); each (instrument, pitch, length) is rendered once per song
  and then added wherever it recurs, which is most of the time in music.
- Drums: kick = sine sweep, snare/clap = filtered noise + a tone, hats = high-passed noise, ride = FM metal.
- All randomness (drum noise) comes from a generator seeded by the caller: the same seed gives the same samples.
"""

from __future__ import annotations

import io

import lameenc
import numpy as np

SR = 44100
TWO_PI = np.float32(2 * np.pi)
F32 = np.float32


def midi_hz(midi: float) -> float:
    return 440.0 * 2.0 ** ((midi - 69) / 12)


def _time(n: int) -> np.ndarray:
    return np.arange(n, dtype=F32) / F32(SR)


def _adsr(n: int, held: int, attack: float, decay: float, sustain: float, release: float) -> np.ndarray:
    """Attack/decay/sustain while the key is held (`held` samples), then a release to silence; length n."""
    env = np.empty(n, dtype=F32)
    a = max(1, min(held, int(attack * SR)))
    d = max(1, min(held - a, int(decay * SR))) if held > a else 0
    env[:a] = np.linspace(0, 1, a, dtype=F32)
    if d:
        env[a : a + d] = np.linspace(1, sustain, d, dtype=F32)
    level = sustain if d else 1.0
    env[a + d : held] = level
    tail = n - held
    if tail > 0:
        env[held:] = level * np.exp(-np.arange(tail, dtype=F32) / F32(max(1.0, release * SR / 5)))
    return env


def _release_gate(n: int, held: int, release: float) -> np.ndarray:
    """1 while held, then an exponential fade (for struck instruments whose decay is built in)."""
    env = np.ones(n, dtype=F32)
    tail = n - held
    if tail > 0:
        env[held:] = np.exp(-np.arange(tail, dtype=F32) / F32(max(1.0, release * SR / 5)))
    return env


def _vibrato_phase(freq: float, n: int, rate: float, depth: float, delay: float) -> np.ndarray:
    """Phase (radians) of a tone whose pitch wobbles by `depth` (fraction) at `rate` Hz after `delay` seconds."""
    t = _time(n)
    phase = TWO_PI * F32(freq) * t
    if depth:
        ramp = np.clip((t - delay) / 0.3, 0, 1)
        inst = F32(freq * depth) * ramp * np.sin(TWO_PI * F32(rate) * t)
        phase += TWO_PI * np.cumsum(inst, dtype=F32) / F32(SR)
    return phase


def _harmonics(phase: np.ndarray, amps, decays=None, nyquist_freq: float = 0.0, base: float = 0.0) -> np.ndarray:
    out = np.zeros(phase.shape[0], dtype=F32)
    t = _time(phase.shape[0]) if decays is not None else None
    for k, amp in enumerate(amps, start=1):
        if amp == 0 or base * k > 0.45 * SR:
            continue
        partial = np.sin(phase * F32(k))
        if decays is not None:
            partial *= np.exp(-t * F32(decays[k - 1]))
        out += F32(amp) * partial
    return out


# --- Instruments: f(freq, held_samples) -> mono float32 wave (peak about 1), including its release tail ----------


def _piano(freq: float, held: int) -> np.ndarray:
    n = held + int(0.35 * SR)
    t = _time(n)
    out = np.zeros(n, dtype=F32)
    for k, amp in enumerate((1.0, 0.55, 0.32, 0.22, 0.12, 0.08, 0.05, 0.03), start=1):
        fk = freq * k * (1 + 0.0004 * k * k)
        if fk > 0.45 * SR:
            break
        out += F32(amp) * np.sin(TWO_PI * F32(fk) * t) * np.exp(-t * F32(0.9 + 0.8 * k + freq / 900))
    out *= _adsr(n, n, 0.003, 0, 1, 0) * _release_gate(n, held, 0.25)
    return out


def _epiano(freq: float, held: int) -> np.ndarray:
    n = held + int(0.3 * SR)
    t = _time(n)
    index = F32(1.4) * np.exp(-t * F32(4.0)) + F32(0.25)
    carrier = np.sin(TWO_PI * F32(freq) * t + index * np.sin(TWO_PI * F32(freq) * t))
    tine = F32(0.08) * np.sin(TWO_PI * F32(freq * 7) * t) * np.exp(-t * F32(14))
    out = (carrier + tine) * np.exp(-t * F32(1.6)) * _adsr(n, n, 0.004, 0, 1, 0) * _release_gate(n, held, 0.2)
    return out


def _bell(freq: float, held: int) -> np.ndarray:
    n = held + int(0.8 * SR)
    t = _time(n)
    index = F32(2.2) * np.exp(-t * F32(2.5))
    out = np.sin(TWO_PI * F32(freq) * t + index * np.sin(TWO_PI * F32(freq * 3.5) * t))
    out *= np.exp(-t * F32(1.8)) * _adsr(n, n, 0.002, 0, 1, 0)
    return out


def _pluck(freq: float, held: int) -> np.ndarray:
    n = held + int(0.4 * SR)
    t = _time(n)
    out = np.zeros(n, dtype=F32)
    for k in range(1, 11):
        fk = freq * k
        if fk > 0.45 * SR:
            break
        amp = abs(np.sin(np.pi * k * 0.22)) / k
        out += F32(amp) * np.sin(TWO_PI * F32(fk) * t) * np.exp(-t * F32(2.2 + 1.6 * k))
    out *= _adsr(n, n, 0.002, 0, 1, 0) * _release_gate(n, held, 0.3)
    return out * F32(1.6)


def _saw_lead(freq: float, held: int) -> np.ndarray:
    n = held + int(0.12 * SR)
    phase = _vibrato_phase(freq, n, 5.5, 0.004, 0.18)
    out = _harmonics(phase, [1 / k for k in range(1, 11)], base=freq)
    return out * _adsr(n, held, 0.012, 0.12, 0.75, 0.1) * F32(0.65)


def _square_lead(freq: float, held: int) -> np.ndarray:
    n = held + int(0.08 * SR)
    phase = _vibrato_phase(freq, n, 6.0, 0.003, 0.2)
    out = _harmonics(phase, [1 / k if k % 2 else 0 for k in range(1, 12)], base=freq)
    return out * _adsr(n, held, 0.006, 0.08, 0.7, 0.06) * F32(0.7)


def _flute(freq: float, held: int) -> np.ndarray:
    n = held + int(0.15 * SR)
    phase = _vibrato_phase(freq, n, 5.0, 0.006, 0.15)
    out = _harmonics(phase, (1.0, 0.28, 0.12, 0.05), base=freq)
    breath = _NOISE[:n] * F32(0.04) * np.exp(-_time(n) * F32(8))
    return (out + breath) * _adsr(n, held, 0.07, 0.1, 0.85, 0.12)


def _strings(freq: float, held: int) -> np.ndarray:
    n = held + int(0.35 * SR)
    amps = [1 / k for k in range(1, 9)]
    out = _harmonics(_vibrato_phase(freq * 0.9977, n, 5.2, 0.005, 0.2), amps, base=freq)
    out += _harmonics(_vibrato_phase(freq * 1.0023, n, 4.7, 0.005, 0.25), amps, base=freq)
    return out * _adsr(n, held, 0.18, 0.2, 0.85, 0.3) * F32(0.4)


def _pad(freq: float, held: int) -> np.ndarray:
    n = held + int(0.7 * SR)
    amps = [1 / k**1.3 for k in range(1, 7)]
    out = np.zeros(n, dtype=F32)
    for detune in (0.996, 1.0, 1.004):
        out += _harmonics(_time(n) * TWO_PI * F32(freq * detune), amps, base=freq)
    attack = min(0.8, held / SR * 0.35)
    return out * _adsr(n, held, attack, 0.3, 0.8, 0.6) * F32(0.3)


def _bass_sub(freq: float, held: int) -> np.ndarray:
    n = held + int(0.06 * SR)
    out = _harmonics(_time(n) * TWO_PI * F32(freq), (1.0, 0.3, 0.1), base=freq)
    return out * _adsr(n, held, 0.006, 0.2, 0.7, 0.05)


def _bass_pluck(freq: float, held: int) -> np.ndarray:
    n = held + int(0.08 * SR)
    t = _time(n)
    out = np.zeros(n, dtype=F32)
    for k, amp in enumerate((1.0, 0.5, 0.3, 0.18, 0.1, 0.06), start=1):
        out += F32(amp) * np.sin(TWO_PI * F32(freq * k) * t) * np.exp(-t * F32(1.2 + 2.5 * k))
    return out * _adsr(n, n, 0.004, 0, 1, 0) * _release_gate(n, held, 0.06)


def _bass_saw(freq: float, held: int) -> np.ndarray:
    n = held + int(0.05 * SR)
    t = _time(n)
    out = np.zeros(n, dtype=F32)
    for k in range(1, 13):
        # higher harmonics fade faster: a closing low-pass filter
        out += F32(1 / k) * np.sin(TWO_PI * F32(freq * k) * t) * np.exp(-t * F32(0.5 + 4.0 * k))
    return out * _adsr(n, held, 0.004, 0.1, 0.8, 0.04) * F32(0.9)


def _bass_808(freq: float, held: int) -> np.ndarray:
    n = held + int(0.2 * SR)
    t = _time(n)
    glide = F32(freq) * (1 + np.exp(-t * F32(35)))
    phase = TWO_PI * np.cumsum(glide, dtype=F32) / F32(SR)
    out = np.tanh(np.sin(phase) * F32(1.8)) * np.exp(-t * F32(1.2))
    return out * _adsr(n, n, 0.003, 0, 1, 0) * _release_gate(n, held, 0.15)


INSTRUMENTS = {
    "piano": _piano,
    "epiano": _epiano,
    "bell": _bell,
    "pluck": _pluck,
    "lead": _saw_lead,
    "square": _square_lead,
    "flute": _flute,
    "strings": _strings,
    "pad": _pad,
    "bass_sub": _bass_sub,
    "bass_pluck": _bass_pluck,
    "bass_saw": _bass_saw,
    "bass_808": _bass_808,
}

# A fixed noise table for breath sounds (not the drums): identical in every process.
_NOISE = np.random.default_rng(20240101).uniform(-1, 1, SR * 12).astype(F32)


# --- Drums ------------------------------------------------------------------------------------------------------


def _highpass(x: np.ndarray) -> np.ndarray:
    y = np.empty_like(x)
    y[0] = x[0]
    y[1:] = x[1:] - x[:-1]
    return y


def drum_kit(rng: np.random.Generator, *, tuning: float = 1.0) -> dict[str, np.ndarray]:
    """One-shot drum samples. `tuning` scales the pitched parts (the kick's sweep, the snare's body)."""
    kit = {}
    n = int(0.45 * SR)
    t = _time(n)
    sweep = F32(45 * tuning) + F32(120 * tuning) * np.exp(-t * F32(32))
    kick = np.sin(TWO_PI * np.cumsum(sweep, dtype=F32) / F32(SR)) * np.exp(-t * F32(8))
    click = rng.uniform(-1, 1, n).astype(F32) * np.exp(-t * F32(900)) * F32(0.4)
    kit["kick"] = np.tanh((kick + click) * F32(1.5))

    n = int(0.28 * SR)
    t = _time(n)
    noise = _highpass(rng.uniform(-1, 1, n).astype(F32))
    body = np.sin(TWO_PI * F32(185 * tuning) * t) * np.exp(-t * F32(28))
    kit["snare"] = (noise * np.exp(-t * F32(16)) * F32(0.7) + body * F32(0.6)).astype(F32)

    n = int(0.3 * SR)
    t = _time(n)
    noise = _highpass(rng.uniform(-1, 1, n).astype(F32))
    bursts = np.zeros(n, dtype=F32)
    for offset in (0.0, 0.011, 0.022):
        start = int(offset * SR)
        bursts[start:] += np.exp(-(t[: n - start]) * F32(60 if offset < 0.02 else 14))
    kit["clap"] = noise * bursts * F32(0.5)

    n = int(0.07 * SR)
    t = _time(n)
    kit["hat"] = _highpass(_highpass(rng.uniform(-1, 1, n).astype(F32))) * np.exp(-t * F32(70)) * F32(0.5)
    n = int(0.4 * SR)
    t = _time(n)
    kit["open_hat"] = _highpass(_highpass(rng.uniform(-1, 1, n).astype(F32))) * np.exp(-t * F32(9)) * F32(0.35)

    n = int(0.9 * SR)
    t = _time(n)
    metal = np.sin(TWO_PI * F32(523) * t + F32(2.8) * np.sin(TWO_PI * F32(1361) * t))
    hiss = _highpass(rng.uniform(-1, 1, n).astype(F32)) * F32(0.3)
    kit["ride"] = (metal * F32(0.35) + hiss) * np.exp(-t * F32(4.5)) * F32(0.5)

    n = int(0.12 * SR)
    t = _time(n)
    kit["shaker"] = _highpass(rng.uniform(-1, 1, n).astype(F32)) * np.sin(np.pi * t / t[-1]) ** 2 * F32(0.25)
    return kit


# --- Mixing -----------------------------------------------------------------------------------------------------


class Bus:
    """A mono track of `n` samples that notes are added into."""

    def __init__(self, n: int):
        self.samples = np.zeros(n, dtype=F32)

    def add(self, start: int, wave: np.ndarray, gain: float) -> None:
        if start >= self.samples.shape[0] or gain == 0:
            return
        end = min(self.samples.shape[0], start + wave.shape[0])
        self.samples[start:end] += wave[: end - start] * F32(gain)


class NoteCache:
    """Renders each (instrument, midi pitch, length) once per song."""

    def __init__(self):
        self._waves: dict[tuple[str, int, int], np.ndarray] = {}

    def get(self, instrument: str, midi: int, held: int) -> np.ndarray:
        key = (instrument, midi, held)
        wave = self._waves.get(key)
        if wave is None:
            wave = INSTRUMENTS[instrument](midi_hz(midi), held)
            self._waves[key] = wave
        return wave


def echo(x: np.ndarray, seconds: float, feedback: float, repeats: int = 3) -> np.ndarray:
    """Adds `repeats` echoes of x, each `seconds` later and `feedback` times quieter, to x (in place)."""
    d = int(seconds * SR)
    dry = x.copy()
    gain = 1.0
    for i in range(1, repeats + 1):
        gain *= feedback
        if d * i >= x.shape[0]:
            break
        x[d * i :] += dry[: x.shape[0] - d * i] * F32(gain)
    return x


def smooth(x: np.ndarray, width: int) -> np.ndarray:
    """A moving average over `width` samples: a gentle low-pass."""
    if width <= 1:
        return x
    y = x.copy()
    for shift in range(1, width):  # a few shifted adds: faster than a cumulative sum for short widths
        y[shift:] += x[:-shift]
    y *= F32(1 / width)
    return y


# Early reflections (delay s, gain); the left and right sets differ so that the room sounds wide.
_ROOM_LEFT = ((0.023, 0.5), (0.041, 0.42), (0.061, 0.33), (0.083, 0.27), (0.113, 0.2), (0.149, 0.14), (0.197, 0.1))
_ROOM_RIGHT = ((0.029, 0.5), (0.047, 0.4), (0.067, 0.34), (0.091, 0.26), (0.127, 0.19), (0.163, 0.13), (0.211, 0.09))


def master(
    centre: np.ndarray, wide: np.ndarray, send: np.ndarray, n: int, *, reverb: float, fade_in: float, fade_out: float
) -> np.ndarray:
    """Mixes the buses to planar stereo (2, n) float32 of exactly n samples, normalised, with fades.

    Works in place on one (2, n) array (about 85 MB for 240 s): no full-length temporaries."""
    out = np.empty((2, n), dtype=F32)
    out[0] = centre[:n]
    out[0] += wide[:n]
    out[1] = centre[:n]
    haas = int(0.012 * SR)  # the wide bus 12 ms later on the right: width without phasey doubling
    out[1, haas:] += wide[: n - haas]
    wet = smooth(send, 6)
    for channel, taps in ((0, _ROOM_LEFT), (1, _ROOM_RIGHT)):
        for seconds, gain in taps:
            d = int(seconds * SR)
            out[channel, d:] += wet[: n - d] * F32(gain * reverb)
    del wet
    energy = 0.0
    for a in range(0, n, 1 << 20):  # mean square in float64, a block at a time
        block = out[:, a : a + (1 << 20)].astype(np.float64)
        energy += float(np.sum(block * block))
    rms = (energy / (2 * n)) ** 0.5 or 1.0
    out *= F32(0.2 / rms * 1.2)  # about -14 dBFS RMS into a tanh soft limiter
    np.tanh(out, out=out)
    peak = max(float(out.max()), -float(out.min())) or 1.0
    out *= F32(0.93 / peak)
    fi, fo = int(fade_in * SR), int(fade_out * SR)
    out[:, :fi] *= np.linspace(0, 1, fi, dtype=F32)
    out[:, n - fo :] *= np.linspace(1, 0, fo, dtype=F32) ** 2
    return out


def encode_mp3s(stereo: np.ndarray, *, bitrates: tuple[int, ...], quality: int = 7) -> list[bytes]:
    """CBR MP3s of planar stereo (2, n) float32 in -1..1, one per bit rate (kbps), in a single pass: each block
    of samples is converted to 16-bit PCM once and fed to every encoder (LAME via lameenc; quality 7 is LAME's
    fast mode, about twice as fast as the default 5 and transparent enough for synthesised music)."""
    encoders, outputs = [], []
    for bitrate in bitrates:
        encoder = lameenc.Encoder()
        encoder.set_bit_rate(bitrate)
        encoder.set_in_sample_rate(SR)
        encoder.set_channels(2)
        encoder.set_quality(quality)
        encoders.append(encoder)
        outputs.append(bytearray())
    block = SR * 10
    for a in range(0, stereo.shape[1], block):
        pcm = np.clip(stereo[:, a : a + block].T * F32(32767), -32768, 32767).astype("<i2").tobytes()
        for encoder, output in zip(encoders, outputs, strict=True):
            output += encoder.encode(pcm)
    for encoder, output in zip(encoders, outputs, strict=True):
        output += encoder.flush()
    return [bytes(output) for output in outputs]


def encode_mp3(stereo: np.ndarray, *, bitrate: int, quality: int = 7) -> bytes:
    return encode_mp3s(stereo, bitrates=(bitrate,), quality=quality)[0]


def id3_tag(*, title: str, artist: str = "Tunee", genre: str = "") -> bytes:
    """An ID3v2.3 tag (title, artist, genre) to put in front of an MP3."""
    from mutagen.id3 import ID3, TCON, TIT2, TPE1

    tags = ID3()
    tags.add(TIT2(encoding=3, text=title))
    tags.add(TPE1(encoding=3, text=artist))
    if genre:
        tags.add(TCON(encoding=3, text=genre))
    out = io.BytesIO()
    tags.save(out, v2_version=3, padding=lambda info: 0)
    return out.getvalue()
