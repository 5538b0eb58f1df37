"""How fast the local music provider makes songs: `.venv/bin/python bench/render_music.py [--repeat N]`.

For 30, 120 and 240 seconds of music it times composing + rendering (numpy), encoding each MP3 (128 and
320 kbps, LAME) and drawing the cover, then the provider's whole job (`LocalMusicProvider.submit`) as it runs for a
free user's song (128 kbps and the cover) and for a member's (both MP3s, in one pass over the samples), and prints
seconds of audio produced per second of CPU time (how many workers one core can feed). Times are the best of
--repeat runs.
"""

import argparse
import os
import sys
import time
from pathlib import Path

# The project's root, not this folder, is on the import path (bench/http.py would shadow the standard `http`).
sys.path[0:1] = [str(Path(__file__).resolve().parent.parent)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tunee.settings")

import django  # noqa: E402  (after the path and settings above)

django.setup()

from generation.providers import MusicRequest, synth  # noqa: E402
from generation.providers.covers import draw_cover  # noqa: E402
from generation.providers.local_music import LocalMusicProvider, compose, render  # noqa: E402


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return value, time.perf_counter() - wall, time.process_time() - cpu


def run(duration: int, repeat: int) -> dict[str, float]:
    best: dict[str, float] = {}
    provider = LocalMusicProvider()
    for i in range(repeat):
        request = MusicRequest(
            prompt="一首轻快的流行歌曲，阳光和海边", style="pop", mood="happy", duration=duration, seed=f"b{i}"
        )
        stereo, _, c1 = timed(lambda: render(compose(request), duration))  # noqa: B023
        _, _, c2 = timed(lambda: synth.encode_mp3(stereo, bitrate=128))  # noqa: B023
        _, _, c3 = timed(lambda: synth.encode_mp3(stereo, bitrate=320))  # noqa: B023
        _, _, c4 = timed(lambda: draw_cover(title="夏日海岸", palette=None, mood="happy", seed=i))  # noqa: B023
        member = MusicRequest.from_dict({**request.to_dict(), "high_quality": True})
        _, _, free_cpu = timed(lambda: provider.submit(request))  # noqa: B023
        _, _, member_cpu = timed(lambda: provider.submit(member))  # noqa: B023
        sample = {"render": c1, "mp3_128": c2, "mp3_320": c3, "cover": c4, "free": free_cpu, "member": member_cpu}
        for key, value in sample.items():
            best[key] = min(best.get(key, float("inf")), value)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--durations", type=int, nargs="*", default=[30, 120, 240])
    args = parser.parse_args()
    print(f"local music provider, {os.cpu_count()} CPU(s), 44.1 kHz stereo, best of {args.repeat}")
    print("CPU seconds; 'free', 'member': the whole job for a free user's or a member's song; then audio s per CPU s")
    columns = ("audio s", 8), ("render", 8), ("mp3 128", 8), ("mp3 320", 8), ("cover", 7), ("free", 7), ("member", 7)
    header = " ".join(f"{name:>{width}}" for name, width in columns) + f" {'audio s/cpu s':>14} {'member':>7}"
    print(header)
    print("-" * len(header))
    for duration in args.durations:
        r = run(duration, args.repeat)
        print(
            f"{duration:>8} {r['render']:>8.2f} {r['mp3_128']:>8.2f} {r['mp3_320']:>8.2f} {r['cover']:>7.2f} "
            f"{r['free']:>7.2f} {r['member']:>7.2f} {duration / r['free']:>14.1f} {duration / r['member']:>7.1f}"
        )


if __name__ == "__main__":
    main()
