"""Composition (`compose`): a piece of music planned from a `MusicRequest`, ready for the offline provider to render.

The words of the request (prompt, style, mood, tags, and the photo's description) are matched against the
vocabularies of `vocabulary.py` to pick a style and a mood; the mood and, for photos, the picture's brightness /
warmth / saturation / contrast give a valence (sad … happy) and an energy (calm … driving).
From those: the mode (major, lydian, mixolydian, dorian, minor, harmonic minor; pentatonic melodies for 中国风),
the tempo inside the style's range, a chord progression, an arrangement (intro, verse, chorus, bridge, outro),
melodies built from repeated and varied two-bar motifs that land on chord tones, a bass line, an accompaniment
and a drum pattern in the style's idiom. Everything random is drawn from one generator seeded with a SHA-256 of
the request (never Python's salted `hash()`), so the same request always gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field

import numpy as np

from .base import MusicRequest
from .vocabulary import DEFAULT_STYLE_FOR_MOOD, LEAD_KEYWORDS, MOODS, STYLES, TITLES, Style

SCALES = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "harmonic_minor": (0, 2, 3, 5, 7, 8, 11),
}
PENTATONIC = {"major": (0, 2, 4, 7, 9), "minor": (0, 3, 5, 7, 10)}
NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

# chord progressions as 0-based scale degrees, one chord per bar
PROGRESSIONS = {
    "bright": ((0, 4, 5, 3), (0, 5, 3, 4), (5, 3, 0, 4), (3, 4, 2, 5), (0, 3, 0, 4), (0, 2, 3, 4)),
    "dark": ((0, 5, 2, 6), (0, 3, 4, 0), (0, 6, 5, 6), (0, 5, 3, 4), (5, 6, 0, 0), (0, 3, 6, 2)),
    "jazz": ((1, 4, 0, 0), (1, 4, 0, 5), (0, 5, 1, 4), (3, 2, 1, 4)),
}

# sixteenth-step rhythms of one bar for melodies (negative = rest), by density
RHYTHMS = {
    "slow": ((8, 8), (4, 4, 8), (12, 4), (8, 4, 4), (6, 2, 8), (16,)),
    "mid": ((4, 4, 4, 4), (6, 2, 4, 4), (4, 2, 2, 8), (2, 2, 4, 4, 4), (4, 4, 8), (6, 2, 8), (4, -2, 2, 8)),
    "fast": (
        (2, 2, 2, 2, 4, 4),
        (2, 2, 4, 2, 2, 4),
        (4, 2, 2, 4, 2, 2),
        (3, 3, 2, 4, 4),
        (2, 2, 4, 4, 4),
        (4, 4, 2, 2, 4),
    ),
}

# drum patterns: voice -> 16 steps ('x' accent, 'o' soft, '.' none)
DRUMS = {
    "pop": {"kick": "x.......x.o.....", "snare": "....x.......x...", "hat": "x.o.x.o.x.o.x.o."},
    "rock": {
        "kick": "x.....x.x.....o.",
        "snare": "....x.......x...",
        "hat": "x.x.x.x.x.x.x.x.",
        "open_hat": "..............o.",
    },
    "four": {
        "kick": "x...x...x...x...",
        "clap": "....x.......x...",
        "open_hat": "..x...x...x...x.",
        "hat": "o.o.o.o.o.o.o.o.",
    },
    "boombap": {"kick": "x......o..x.....", "snare": "....x.......x...", "hat": "x.o.x.o.x.o.x.oo"},
    "jazz": {"kick": "x.........o.....", "snare": "......o.......o.", "ride": "x...x.o.x...x.o."},
    "folk": {"kick": "x.......x.......", "snare": "....o.......o...", "shaker": "xoxoxoxoxoxoxoxo"},
}


@dataclass(frozen=True)
class Note:
    start: float  # in sixteenth steps from the start of the song
    length: float  # in sixteenth steps
    midi: int
    velocity: float


@dataclass
class Composition:
    title: str
    style: str
    mood: str
    key: int  # pitch class of the tonic, 0 = C
    mode: str
    tempo: int
    progression: tuple[int, ...]
    chorus_progression: tuple[int, ...]
    sections: list[tuple[str, int]]  # (name, bars)
    lead: str
    valence: float
    energy: float
    seed: int
    melody: list[Note] = field(default_factory=list)
    bass: list[Note] = field(default_factory=list)
    comp: list[Note] = field(default_factory=list)
    pad: list[Note] = field(default_factory=list)
    hits: list[tuple[str, float, float]] = field(default_factory=list)  # (drum, step, velocity)

    @property
    def seconds_per_step(self) -> float:
        return 60.0 / self.tempo / 4

    @property
    def key_name(self) -> str:
        return f"{NOTE_NAMES[self.key]} {self.mode.replace('_', ' ')}"

    def summary(self) -> dict:
        return {
            "title": self.title,
            "style": self.style,
            "mood": self.mood,
            "key": self.key_name,
            "tempo": self.tempo,
            "progression": list(self.progression),
            "sections": [f"{name}:{bars}" for name, bars in self.sections],
            "lead": self.lead,
        }


def request_digest(request: MusicRequest) -> str:
    """SHA-256 of everything that shapes the song (callback_url and high_quality excluded: a member's song is the
    same song, with one more file): the song's identity."""
    data = request.to_dict()
    data.pop("callback_url", None)
    data.pop("high_quality", None)
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _match(text: str, keywords) -> int:
    return sum(text.count(word) for word in keywords)


def _pick_mood(request: MusicRequest, text: str) -> str:
    explicit = request.mood.strip().lower()
    if explicit in MOODS:
        return explicit
    scores = {name: _match(explicit, kw) * 3 + _match(text, kw) for name, (_, _, kw) in MOODS.items()}
    best = max(scores.items(), key=lambda kv: (kv[1], kv[0] == "happy"))
    if best[1] > 0:
        return best[0]
    if request.image and request.image.mood in MOODS:
        return request.image.mood
    return "happy"


def _pick_style(request: MusicRequest, text: str, mood: str, rng: np.random.Generator) -> str:
    explicit = request.style.strip().lower()
    if explicit in STYLES:
        return explicit
    scores = {name: _match(explicit, s.keywords) * 3 + _match(text, s.keywords) for name, s in STYLES.items()}
    best = max(scores.items(), key=lambda kv: (kv[1], kv[0] == "pop"))
    if best[1] > 0:
        return best[0]
    if request.image and request.image.style in STYLES:
        return request.image.style
    options = DEFAULT_STYLE_FOR_MOOD[mood]
    return options[int(rng.integers(len(options)))]


def _title(request: MusicRequest, mood: str, rng: np.random.Generator) -> str:
    if request.title.strip():
        return request.title.strip()[:80]
    if request.image and request.image.title.strip():
        return request.image.title.strip()[:80]
    prompt = request.prompt.strip()
    descriptive = ("一首", "歌", "曲", "音乐", "旋律", "song", "music", "track", "beat")
    if (
        0 < len(prompt) <= 10
        and not any(ch in prompt for ch in "，。,.!?！？:：;；")
        and not _match(prompt.lower(), descriptive)
    ):
        return prompt
    options = TITLES[mood]
    return options[int(rng.integers(len(options)))]


def _arrangement(total_bars: int) -> list[tuple[str, int]]:
    if total_bars <= 6:
        return [("intro", 1), ("chorus", total_bars - 1)]
    intro = 4 if total_bars >= 48 else 2
    plan = [("intro", intro)]
    cycle = [("verse", 8), ("chorus", 8), ("verse", 8), ("chorus", 8), ("bridge", 8), ("chorus", 8)]
    remaining = total_bars - intro - 2  # two bars of outro
    i = 0
    while remaining > 0:
        name, bars = cycle[i % len(cycle)] if i < len(cycle) else (("verse", 8), ("chorus", 8))[i % 2]
        bars = min(bars, remaining)
        plan.append((name, bars))
        remaining -= bars
        i += 1
    plan.append(("outro", 2))
    return plan


def compose(request: MusicRequest) -> Composition:
    digest = request_digest(request)
    seed = int(digest[:16], 16)
    rng = np.random.default_rng(seed)
    image = request.image
    text = " ".join(
        [request.prompt, request.style, request.mood, " ".join(request.tags)]
        + ([image.description, image.mood, image.style, " ".join(image.tags)] if image else [])
    ).lower()

    mood = _pick_mood(request, text)
    style_name = _pick_style(request, text, mood, rng)
    style = STYLES[style_name]
    valence, energy, _ = MOODS[mood]
    if image:  # warm and bright pictures lift the mood; saturated, contrasted ones drive it
        valence += 0.5 * image.warmth + 0.8 * (image.brightness - 0.5)
        energy += 0.4 * (image.saturation - 0.35) + 0.4 * (image.contrast - 0.4) + 0.2 * (image.brightness - 0.5)
    if _match(text, ("fast", "快节奏", "急促", "upbeat")):
        energy += 0.2
    if _match(text, ("slow", "缓慢", "慢节奏", "ballad", "抒情")):
        energy -= 0.2
    valence = float(np.clip(valence + rng.normal(0, 0.05), -1, 1))
    energy = float(np.clip(energy + rng.normal(0, 0.05), 0, 1))

    if valence > 0.55 and energy < 0.45 and style_name in ("ambient", "classical", "jazz"):
        mode = "lydian"
    elif valence > 0.15:
        mode = "major"
    elif valence > -0.1:
        mode = "mixolydian" if energy > 0.5 else "dorian"
    elif valence > -0.6 or style_name in ("jazz", "lofi"):
        mode = "minor" if style_name not in ("jazz", "lofi") else "dorian"
    else:
        mode = "harmonic_minor" if mood == "dark" else "minor"
    low, high = style.tempo
    tempo = round(low + (high - low) * energy + rng.integers(-3, 4))
    key = int(rng.integers(12))

    pool = PROGRESSIONS["jazz"] if style_name == "jazz" else PROGRESSIONS["bright" if SCALES[mode][2] == 4 else "dark"]
    progression = pool[int(rng.integers(len(pool)))]
    chorus_progression = pool[int(rng.integers(len(pool)))]

    lead = style.lead
    for instrument, words in LEAD_KEYWORDS.items():
        if _match(text, words):
            lead = instrument
            break

    bar_seconds = 4 * 60.0 / tempo
    total_bars = math.ceil(request.duration / bar_seconds) + 1
    composition = Composition(
        title=_title(request, mood, rng),
        style=style_name,
        mood=mood,
        key=key,
        mode=mode,
        tempo=tempo,
        progression=progression,
        chorus_progression=chorus_progression,
        sections=_arrangement(total_bars),
        lead=lead,
        valence=valence,
        energy=energy,
        seed=seed,
    )
    _write_parts(composition, style, rng)
    return composition


class _Harmony:
    """Pitches of the song's key: scale degrees (any integer, across octaves) to MIDI numbers, chords."""

    def __init__(self, key: int, mode: str, pentatonic: bool):
        self.key = key
        self.scale = SCALES[mode]
        minorish = self.scale[2] == 3
        self.melody_scale = PENTATONIC["minor" if minorish else "major"] if pentatonic else self.scale

    def midi(self, degree: int, octave: int, scale=None) -> int:
        scale = scale or self.scale
        return 12 * (octave + 1) + self.key + 12 * (degree // len(scale)) + scale[degree % len(scale)]

    def melody_midi(self, index: int) -> int:
        return self.midi(index, 4, self.melody_scale)

    def chord(self, degree: int, octave: int, sevenths: bool) -> list[int]:
        notes = [self.midi(degree + step, octave) for step in (0, 2, 4)]
        if sevenths:
            notes.append(self.midi(degree + 6, octave))
        return notes

    def chord_classes(self, degree: int, sevenths: bool) -> set[int]:
        return {m % 12 for m in self.chord(degree, 4, sevenths)}


def _motif(rng: np.random.Generator, density: str, bars: int = 2) -> list[tuple[int, int, int | None]]:
    """A melodic idea: (start step, length steps, scale-step move or None for a rest) over `bars` bars."""
    events = []
    for bar in range(bars):
        rhythm = RHYTHMS[density][int(rng.integers(len(RHYTHMS[density])))]
        step = bar * 16
        for i, length in enumerate(rhythm):
            if length < 0 or (i > 0 and rng.random() < 0.08):
                events.append((step, abs(length), None))
            else:
                move = int(
                    rng.choice((-2, -1, -1, 0, 1, 1, 2, 3, -3), p=(0.1, 0.2, 0.05, 0.1, 0.2, 0.05, 0.12, 0.09, 0.09))
                )
                events.append((step, abs(length), move))
            step += abs(length)
    return events


def _realize(
    motif,
    start_step: int,
    position: int,
    chords: list[set[int]],
    harmony: _Harmony,
    lo: int,
    hi: int,
    velocity: float,
    rng: np.random.Generator,
    final_tonic: bool = False,
) -> tuple[list[Note], int]:
    """Turns a motif into notes starting at `position` (melody-scale index), snapping strong beats to chord tones."""
    notes = []
    sounding = [e for e in motif if e[2] is not None]
    last = sounding[-1] if sounding else None
    for step, length, move in motif:
        if move is None:
            continue
        position = max(lo, min(hi, position + move))
        chord = chords[min(len(chords) - 1, step // 16)]
        if step % 8 == 0:  # strong beat: the nearest chord tone
            for offset in (0, 1, -1, 2, -2):
                if harmony.melody_midi(position + offset) % 12 in chord and lo <= position + offset <= hi:
                    position += offset
                    break
        if final_tonic and (step, length, move) == last:
            position = min(
                range(lo, hi + 1), key=lambda p: (harmony.melody_midi(p) % 12 != harmony.key, abs(p - position))
            )
        accent = 1.0 if step % 4 == 0 else 0.85
        notes.append(
            Note(start_step + step, length, harmony.melody_midi(position), velocity * accent * rng.uniform(0.9, 1.05))
        )
    return notes, position


def _write_parts(c: Composition, style: Style, rng: np.random.Generator) -> None:
    harmony = _Harmony(c.key, c.mode, pentatonic=c.style == "chinese")
    span = len(harmony.melody_scale)
    density = "fast" if c.energy > 0.7 else "slow" if c.energy < 0.3 else "mid"
    verse_motif, verse_cadence = _motif(rng, density), _motif(rng, density)
    chorus_density = {"slow": "mid", "mid": "mid", "fast": "fast"}[density]
    chorus_motif, chorus_cadence = _motif(rng, chorus_density), _motif(rng, chorus_density)
    bridge_motif = _motif(rng, "slow" if density != "slow" else "mid")
    lo, hi = 0, int(span * 1.7)
    bar = 0
    position = span // 2
    total_bars = sum(bars for _, bars in c.sections)
    for index, (name, bars) in enumerate(c.sections):
        progression = c.chorus_progression if name == "chorus" else c.progression
        if name == "bridge":
            progression = tuple(reversed(c.progression))
        degrees = [progression[i % len(progression)] for i in range(bars)]
        if index == len(c.sections) - 1:
            degrees[-1] = 0  # end on the tonic
        chords = [harmony.chord_classes(d, style.sevenths) for d in degrees]

        # melody
        if name in ("verse", "chorus", "bridge") or (name == "intro" and bars == 1 and total_bars <= 7):
            if name == "chorus":
                phrase, cadence, base, vel = chorus_motif, chorus_cadence, span // 2 + 2, 1.0
            elif name == "bridge":
                phrase, cadence, base, vel = bridge_motif, bridge_motif, span // 2 - 1, 0.85
            else:
                phrase, cadence, base, vel = verse_motif, verse_cadence, span // 2, 0.9
            for pair in range(0, bars, 2):
                last_pair = pair + 2 >= bars
                motif = cadence if (pair // 2) % 4 == 3 or last_pair else phrase
                if pair % 4 == 0:
                    position = base  # each four bars start from the section's home register
                notes, position = _realize(
                    motif,
                    (bar + pair) * 16,
                    position,
                    chords[pair : pair + 2],
                    harmony,
                    lo,
                    hi,
                    vel,
                    rng,
                    final_tonic=last_pair,
                )
                c.melody.extend(n for n in notes if n.start < (bar + bars) * 16)

        # harmony: bass, accompaniment, pad
        for i, degree in enumerate(degrees):
            start = (bar + i) * 16
            next_degree = degrees[i + 1] if i + 1 < len(degrees) else degrees[0]
            if name != "intro" or i >= 1 or bars == 1:
                _bass_bar(c, style, harmony, degree, next_degree, start, rng, soft=name in ("intro", "outro"))
            _comp_bar(c, style, harmony, degree, start, rng, sparse=name in ("intro", "outro", "bridge"))
            if style.pad or name in ("intro", "outro", "bridge"):
                for midi in harmony.chord(degree, 3, style.sevenths):
                    c.pad.append(Note(start, 16, midi, 0.5 if name == "chorus" else 0.4))

        # drums
        if style.drums and name in ("verse", "chorus", "bridge"):
            pattern = DRUMS[style.drums]
            full = name == "chorus"
            for i in range(bars):
                start = (bar + i) * 16
                fill = i == bars - 1 and bars >= 4 and c.energy > 0.45
                for voice, steps in pattern.items():
                    if name == "bridge" and voice in ("kick", "open_hat"):
                        continue
                    for s, mark in enumerate(steps):
                        if mark == "." or (fill and s >= 12 and voice in ("snare", "hat")):
                            continue
                        vel = (1.0 if mark == "x" else 0.55) * (1.0 if full else 0.8) * rng.uniform(0.88, 1.0)
                        c.hits.append((voice, start + s, vel))
                if fill:
                    snare = "clap" if "clap" in pattern else "snare"
                    for s in range(12, 16):
                        c.hits.append((snare, start + s, 0.45 + 0.12 * (s - 12)))
            if full and "open_hat" not in pattern:
                c.hits.append(("open_hat", bar * 16, 0.8))
        bar += bars


def _bass_bar(c, style, harmony, degree, next_degree, start, rng, soft):
    root = harmony.midi(degree, 2)
    if root > 47:
        root -= 12
    fifth = harmony.midi(degree + 4, 2) - (12 if root + 12 <= harmony.midi(degree + 4, 2) else 0)
    vel = 0.7 if soft else 1.0
    kind = style.bass
    if kind == "pop":
        events = [(0, 6, root), (6, 2, root), (8, 6, root), (14, 2, fifth if rng.random() < 0.5 else root + 12)]
    elif kind == "rock":
        events = [(s, 2, root) for s in range(0, 16, 2)]
    elif kind == "offbeat":
        events = [(0, 2, root)] + [(s, 2, root + 12 if s == 14 else root) for s in (2, 6, 10, 14)]
    elif kind == "walking":
        target = harmony.midi(next_degree, 2)
        if target > 47:
            target -= 12
        third = harmony.midi(degree + 2, 2) - (12 if harmony.midi(degree + 2, 2) > root + 12 else 0)
        approach = target - 1 if rng.random() < 0.5 else target + 1
        events = [(0, 4, root), (4, 4, third), (8, 4, fifth), (12, 4, approach)]
    elif kind == "trap":
        events = [(0, 7, root), (7, 3, root), (10, 6, root if rng.random() < 0.6 else fifth)]
    elif kind == "folk":
        events = [(0, 8, root), (8, 8, fifth)]
    elif kind == "lofi":
        events = [(0, 6, root), (10, 6, fifth)]
    else:  # whole
        events = [(0, 16, root)]
    for step, length, midi in events:
        c.bass.append(Note(start + step, length, midi, vel * rng.uniform(0.9, 1.0)))


def _comp_bar(c, style, harmony, degree, start, rng, sparse):
    chord = harmony.chord(degree, 4, style.sevenths)
    kind = style.comp
    vel = 0.55 if sparse else 0.75
    if kind == "pad" or (sparse and kind in ("stabs", "power")):
        for midi in chord:
            c.comp.append(Note(start, 16, midi - 12, vel * 0.7))
        return
    if kind == "arp":
        tones = [*chord, chord[0] + 12]
        order = tones + tones[-2:0:-1]
        step_len = 4 if sparse else 2
        for i, s in enumerate(range(0, 16, step_len)):
            c.comp.append(Note(start + s, step_len + 1, order[i % len(order)], vel * (1.0 if s % 4 == 0 else 0.8)))
    elif kind == "block":
        for s in (0, 4, 8, 12):
            for midi in chord:
                c.comp.append(Note(start + s, 4, midi, vel * 0.6))
    elif kind == "alberti":
        low, mid, high = chord[0] - 12, chord[1] - 12, chord[2] - 12
        for i, s in enumerate(range(0, 16, 2)):
            c.comp.append(Note(start + s, 2, (low, high, mid, high)[i % 4], vel * 0.7))
    elif kind == "broken":
        tones = [chord[0] - 12, chord[2] - 12, chord[0], chord[1], chord[2], chord[1]]
        for i, s in enumerate(range(0, 16, 2 if not sparse else 4)):
            c.comp.append(Note(start + s, 3, tones[i % len(tones)], vel * 0.8))
    elif kind == "power":
        root = chord[0] - 12
        for s in range(0, 16, 2):
            for midi in (root, root + 7, root + 12):
                c.comp.append(Note(start + s, 2, midi, vel * 0.5))
    elif kind == "stabs":
        for s in (2, 6, 10, 14) if rng.random() < 0.5 else (0, 3, 6, 10, 12):
            for midi in chord:
                c.comp.append(Note(start + s, 2, midi, vel * 0.6))
    elif kind == "jazz":
        hits = ((0, 6), (6, 2), (10, 6)) if rng.random() < 0.5 else ((2, 4), (8, 4), (14, 2))
        for s, length in hits:
            for midi in chord:
                c.comp.append(Note(start + s, length, midi - 12 if midi > 67 else midi, vel * 0.55))
