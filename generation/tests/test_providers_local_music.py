"""The offline music provider: real MP3s at both bit rates, deterministic, shaped by the request; covers."""

import io

import mutagen.mp3
import numpy as np
import pytest
from PIL import Image, ImageDraw

from generation.providers import ImageAnalysis, MusicRequest, TaskState
from generation.providers.composition import SCALES, compose
from generation.providers.covers import cjk_font, cjk_font_path, draw_cover
from generation.providers.local_music import LocalMusicProvider, render
from generation.providers.vocabulary import TITLES

MPEG1_BITRATES = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
MPEG1_RATES = (44100, 48000, 32000)
MAJOR_MODES = {"major", "lydian", "mixolydian"}
MINOR_MODES = {"minor", "harmonic_minor", "dorian"}

WARM_BRIGHT = ImageAnalysis(
    description="阳光下的橙色花田",
    mood="happy",
    style="pop",
    palette=("#ffb347", "#ffd27f", "#ff7f50"),
    brightness=0.8,
    warmth=0.5,
    saturation=0.7,
    contrast=0.5,
)
DARK_COOL = ImageAnalysis(
    description="深夜的蓝色街道",
    mood="sad",
    style="ambient",
    palette=("#0b1a2e", "#1d3557", "#2b2d42"),
    brightness=0.15,
    warmth=-0.4,
    saturation=0.3,
    contrast=0.2,
)


def mp3_frames(data: bytes) -> list[tuple[int, int, int]]:
    """Walks every MPEG-1 Layer III frame after the ID3 tag: (bitrate kbps, sample rate, channels) per frame.
    Fails on the first byte that is not a frame header, so the whole file must be a valid stream."""
    pos = 0
    if data[:3] == b"ID3":
        size = data[6:10]
        pos = 10 + ((size[0] << 21) | (size[1] << 14) | (size[2] << 7) | size[3])
    frames = []
    while pos + 4 <= len(data):
        b1, b2, b3 = data[pos + 1], data[pos + 2], data[pos + 3]
        assert data[pos] == 0xFF and (b1 & 0xFE) == 0xFA, f"no MPEG-1 Layer III frame header at byte {pos}"
        kbps, rate = MPEG1_BITRATES[b2 >> 4], MPEG1_RATES[(b2 >> 2) & 3]
        channels = 1 if (b3 >> 6) == 3 else 2
        frames.append((kbps, rate, channels))
        pos += 144000 * kbps // rate + ((b2 >> 1) & 1)
    assert pos == len(data), "the stream ends inside a frame"
    return frames


@pytest.fixture(scope="module")
def song():
    request = MusicRequest(
        prompt="一首轻快的流行歌曲", style="pop", mood="happy", duration=30, seed="gen-1", high_quality=True
    )
    return request, LocalMusicProvider().submit(request)


def test_a_free_users_song_has_no_high_quality_file_and_the_same_standard_one(song):
    request, members = song
    free = LocalMusicProvider().submit(MusicRequest.from_dict({**request.to_dict(), "high_quality": False}))

    assert free.result.track.audio_hq is None
    assert free.result.track.audio.data == members.result.track.audio.data


def test_a_real_mp3_comes_out_at_128_and_320_kbps_for_the_asked_duration(song):
    _, submission = song
    track = submission.result.track
    assert submission.task_id.startswith("local-") and track.audio.content_type == "audio/mpeg"
    for asset, kbps in ((track.audio, 128), (track.audio_hq, 320)):
        info = mutagen.mp3.MP3(io.BytesIO(asset.data)).info
        assert abs(info.length - 30) <= 1
        assert info.bitrate == kbps * 1000 and info.sample_rate == 44100 and info.channels == 2
        frames = mp3_frames(asset.data)
        assert {f[0] for f in frames} == {kbps}  # constant bit rate from the first frame to the last
        assert abs(len(frames) * 1152 / 44100 - 30) <= 1
    assert track.duration == 30
    assert mutagen.mp3.MP3(io.BytesIO(track.audio.data)).tags["TIT2"].text == [track.title]


@pytest.mark.parametrize("duration", [10, 61])
def test_other_durations_last_as_asked(duration):
    request = MusicRequest(prompt="calm piano", duration=duration, seed="d")
    audio = LocalMusicProvider().submit(request).result.track.audio.data
    assert abs(mutagen.mp3.MP3(io.BytesIO(audio)).info.length - duration) <= 1


def test_the_same_request_renders_identical_bytes(song):
    request, first = song
    again = LocalMusicProvider().submit(MusicRequest.from_dict(request.to_dict()))
    assert again.task_id == first.task_id
    assert again.result.track.audio.data == first.result.track.audio.data
    assert again.result.track.audio_hq.data == first.result.track.audio_hq.data
    assert again.result.track.cover.data == first.result.track.cover.data


def test_a_different_seed_mood_or_style_gives_different_music(song):
    request, first = song
    provider = LocalMusicProvider()
    audio = first.result.track.audio.data
    for change in ({"seed": "gen-2"}, {"mood": "sad"}, {"style": "rock"}):
        other = MusicRequest(**{**request.to_dict(), **change})
        assert provider.submit(other).result.track.audio.data != audio, change


def test_the_music_follows_style_and_mood():
    happy = compose(MusicRequest(prompt="开心的派对", mood="happy", style="pop", seed="s"))
    sad = compose(MusicRequest(prompt="离别", mood="sad", style="classical", seed="s"))
    electronic = compose(MusicRequest(prompt="club night", style="electronic", mood="energetic", seed="s"))
    assert happy.mode in MAJOR_MODES and sad.mode in MINOR_MODES
    assert electronic.tempo > sad.tempo
    assert any(voice == "kick" for voice, _, _ in electronic.hits) and not sad.hits  # classical has no drums
    chinese = compose(MusicRequest(prompt="江南烟雨", style="中国风", seed="s"))
    assert chinese.style == "chinese"
    scale = {
        (chinese.key + step) % 12 for step in ((0, 2, 4, 7, 9) if chinese.mode in MAJOR_MODES else (0, 3, 5, 7, 10))
    }
    assert {note.midi % 12 for note in chinese.melody} <= scale  # a pentatonic melody


def test_a_warm_bright_photo_makes_a_major_faster_song_than_a_dark_cool_one():
    bright = compose(MusicRequest(prompt="", image=WARM_BRIGHT, seed="p"))
    dark = compose(MusicRequest(prompt="", image=DARK_COOL, seed="p"))
    assert bright.mode in MAJOR_MODES and dark.mode in MINOR_MODES
    assert bright.tempo > dark.tempo and bright.energy > dark.energy


def chroma(mono: np.ndarray) -> np.ndarray:
    """Spectral energy per pitch class (0 = C) between 80 Hz and 2 kHz."""
    spectrum = np.abs(np.fft.rfft(mono * np.hanning(len(mono)))) ** 2
    freqs = np.fft.rfftfreq(len(mono), 1 / 44100)
    band = (freqs > 80) & (freqs < 2000)
    pitch_classes = np.round(69 + 12 * np.log2(freqs[band] / 440)).astype(int) % 12
    return np.bincount(pitch_classes, weights=spectrum[band], minlength=12)


@pytest.mark.parametrize(
    ("style", "mood", "drums"),
    [("pop", "happy", True), ("electronic", "energetic", True), ("rock", "angry", True), ("classical", "sad", False)],
)
def test_the_audio_is_music_audible_throughout_in_its_key_and_on_its_beat(style, mood, drums):
    """What an MP3 of the right length could still get wrong: silence, noise, or notes out of key."""
    composition = compose(MusicRequest(prompt="x", style=style, mood=mood, duration=20, seed="chk"))
    mono = render(composition, 20).mean(axis=0).astype(np.float64)
    assert mono.shape == (20 * 44100,)

    assert -20 < 20 * np.log10(np.sqrt(np.mean(mono**2))) < -8  # mastered loudness, no clipping
    assert np.abs(mono).max() < 1.0
    windows = np.sqrt(np.mean(mono.reshape(-1, 22050) ** 2, axis=1))  # half-second windows
    assert (windows < 0.01).sum() <= 2  # sound all along (only the fades are quiet)

    energy = chroma(mono)
    scale = {(composition.key + step) % 12 for step in SCALES[composition.mode]}
    assert energy[sorted(scale)].sum() / energy.sum() > 0.75  # the notes are the key's
    assert set(np.argsort(energy)[-5:]) <= scale

    if drums:  # the loudness pulses with the tempo: onsets repeat every beat or two
        hop = 441  # 10 ms
        envelope = np.sqrt(np.mean(mono.reshape(-1, hop) ** 2, axis=1))
        onsets = np.maximum(np.diff(envelope), 0)
        onsets -= onsets.mean()
        correlation = np.correlate(onsets, onsets, "full")[len(onsets) - 1 :]
        beat = 60 / composition.tempo / 0.01  # in 10 ms frames
        low, high = int(beat * 0.5), int(beat * 2.2)
        period = (low + int(np.argmax(correlation[low:high]))) / beat
        assert min(abs(period - 1), abs(period - 2)) < 0.05, period


def test_a_title_is_made_up_when_none_is_given_and_kept_when_given():
    made_up = compose(MusicRequest(prompt="一首关于夏天的歌，轻快一点", mood="happy", seed="t")).title
    assert made_up in TITLES["happy"]
    assert compose(MusicRequest(prompt="x", title="我的歌", seed="t")).title == "我的歌"
    assert (
        compose(
            MusicRequest(prompt="x", image=WARM_BRIGHT.__class__(**{**WARM_BRIGHT.to_dict(), "title": "花田"}))
        ).title
        == "花田"
    )


def test_lyrics_pass_through_and_an_instrumental_has_none():
    provider = LocalMusicProvider()
    sung = provider.submit(MusicRequest(prompt="p", duration=10, lyrics="[Verse]\n你好", seed="l"))
    assert sung.result.track.lyrics == "[Verse]\n你好"
    assert (
        provider.submit(MusicRequest(prompt="p", duration=10, instrumental=True, seed="l")).result.track.lyrics is None
    )


def test_the_local_provider_keeps_no_tasks_so_a_poll_says_submit_again():
    provider = LocalMusicProvider()
    poll = provider.poll("local-anything")
    assert poll.state == TaskState.FAILED and poll.retryable is True
    assert provider.parse_callback({"data": {"task_id": "x"}}) is None


# --- covers --------------------------------------------------------------------------------------------------------


def test_the_cover_is_an_800px_jpeg(song):
    cover = song[1].result.track.cover
    assert cover.content_type == "image/jpeg" and cover.extension == "jpg"
    image = Image.open(io.BytesIO(cover.data))
    assert image.format == "JPEG" and image.size == (800, 800)


def test_the_chinese_title_is_drawn_with_a_cjk_font():
    path = cjk_font_path()
    assert path is not None and path.name == "NotoSansCJKsc-Regular.otf"
    font = cjk_font(48)

    # real glyphs: two different characters render differently (a font without them draws the same empty box)
    def glyph(ch):
        image = Image.new("L", (64, 64))
        ImageDraw.Draw(image).text((4, 0), ch, font=font, fill=255)
        return np.asarray(image)

    assert glyph("春").sum() > 0 and (glyph("春") != glyph("夏")).any()
    with_title = draw_cover(title="夏日晚风", palette=None, mood="happy", seed=7)
    without = draw_cover(title=None, palette=None, mood="happy", seed=7)
    assert with_title != without
    lower = lambda data: np.asarray(Image.open(io.BytesIO(data)).convert("L"))[620:760, 40:500].astype(int)  # noqa: E731
    assert np.abs(lower(with_title) - lower(without)).mean() > 5  # the text is where the title goes


def test_the_cover_takes_the_photo_palette():
    red = draw_cover(title=None, palette=("#d01010", "#f04040", "#a00000"), mood="calm", seed=1)
    blue = draw_cover(title=None, palette=("#1010d0", "#4040f0", "#0000a0"), mood="calm", seed=1)
    mean = lambda data: np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).reshape(-1, 3).mean(axis=0)  # noqa: E731
    assert mean(red)[0] > mean(red)[2] + 50 and mean(blue)[2] > mean(blue)[0] + 50
