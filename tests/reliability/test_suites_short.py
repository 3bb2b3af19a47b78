"""The short versions of the reliability suites (reliability/*.py), as CI runs them.

Each suite prints its figures and exits 0 only when nothing was lost or duplicated; the full versions
(200 kills, 50 rounds, a day of hourly runs) and their figures are in docs/RELIABILITY.md.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SHORT = {
    "crash-local": ("crash", "--kills", "8", "--storage", "local"),
    "crash-gcs": ("crash", "--kills", "5", "--storage", "gcs"),
    "concurrency-local": ("concurrency", "--rounds", "3", "--storage", "local"),
    "concurrency-gcs": ("concurrency", "--rounds", "2", "--storage", "gcs"),
    "faults-local": ("faults", "--hours", "3", "--storage", "local"),
}


@pytest.mark.parametrize("suite", SHORT.values(), ids=SHORT.keys())
def test_short_suite_passes(suite: tuple[str, ...]) -> None:
    name, *args = suite
    command = [sys.executable, "-m", f"reliability.{name}", *args, "--latency", "0.05"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "result: PASS" in result.stdout
    assert "lost 0, duplicated 0" in result.stdout
