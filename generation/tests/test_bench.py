"""bench/render_music.py runs from a fresh checkout and reports seconds of audio per second of CPU."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_benchmark_reports_audio_seconds_per_cpu_second(tmp_path):
    result = subprocess.run(
        [sys.executable, "bench/render_music.py", "--repeat", "1", "--durations", "10"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "VAR_DIR": str(tmp_path), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "audio s/cpu s" in result.stdout
    row = re.search(r"^\s+10\s+(?:[\d.]+\s+){6}([\d.]+)\s+([\d.]+)$", result.stdout, re.MULTILINE)
    assert row, result.stdout
    assert float(row.group(1)) > 0 and float(row.group(2)) > 0
