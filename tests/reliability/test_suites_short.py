"""The short versions of the reliability suites (reliability/*.py), as CI runs them.

Each suite prints one line per stream and exits 0 only when nothing was lost, invented or (except on
SecOps, which has no idempotent write and is held to its one-batch-per-kill bound) duplicated; the full
versions (100-200 kills, 20-50 rounds, a day of hourly runs) and their figures are in docs/RELIABILITY.md.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from reliability.common import ALL_STREAMS, DEFAULT_STREAMS

ROOT = Path(__file__).resolve().parents[2]
STREAM_LINE = re.compile(
    r"^  (\w+): \d+ (?:records|latest versions), lost (\d+), duplicated (\d+), invented (\d+)$", re.MULTILINE
)

SHORT = {
    "crash-all-local": "crash --kills 8 --resources all --storage local",
    "crash-gcs": "crash --kills 5 --storage gcs",
    "crash-all-s3": "crash --kills 3 --resources all --storage s3",
    "crash-all-secops": "crash --kills 5 --resources all --storage secops --secops-answer-delay 0.3",
    "concurrency-local": "concurrency --rounds 3 --storage local",
    "concurrency-gcs": "concurrency --rounds 2 --storage gcs",
    "concurrency-all-s3": "concurrency --rounds 2 --resources all --storage s3",
    "faults-all-local": "faults --hours 3 --resources all --storage local",
}


@pytest.mark.parametrize("suite", SHORT.values(), ids=SHORT.keys())
def test_short_suite_passes(suite: str) -> None:
    name, *args = suite.split()
    command = [sys.executable, "-m", f"reliability.{name}", *args, "--latency", "0.05"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "result: PASS" in result.stdout
    streams = {stream: (int(lost), int(dup), int(new)) for stream, lost, dup, new in STREAM_LINE.findall(result.stdout)}
    assert set(streams) == set(ALL_STREAMS if "all" in args else DEFAULT_STREAMS), result.stdout
    secops = "secops" in args
    for stream, (lost, duplicated, invented) in streams.items():
        assert (lost, invented) == (0, 0), f"{stream}: {result.stdout}"
        assert secops or duplicated == 0, f"{stream}: {result.stdout}"
    if secops:
        assert " 0 beyond the bound (" in result.stdout
        assert "requests refused for their shape 0 (" in result.stdout
