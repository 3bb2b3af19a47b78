"""Cold start of the Cloud Run entry: a fresh interpreter until the function could serve its first event.

    .venv/bin/python -m benchmarks.cold_start [--repeat 9]

Each sample is a new process (as a new Cloud Run instance is): wall time from launching the interpreter
until it is *ready*, and, inside it, the time spent importing. Ready means the objects a first request
needs exist, without any network call:

* original: ``import main.py`` — functions-framework, google-cloud-storage, and ``storage.Client()``
  plus the urllib3 pool, which it builds at import;
* zdlogs: ``import zdlogs.cloud_function``, then what its first event builds: the settings from the
  environment, the Zendesk client, and the GCS client (``zdlogs.stores.gcs``, imported lazily).

An empty interpreter (``python -c pass``) is given for reference. Medians of the samples.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

from benchmarks._harness import BASELINE, EMAIL, TOKEN, print_table, ratio, require_baseline

ZDLOGS = """
import time; t0 = time.perf_counter()
import zdlogs.cloud_function
from zdlogs.config import load_settings
from zdlogs.stores.gcs import _client
from zdlogs.zendesk.client import ZendeskClient
imported = time.perf_counter()
settings = load_settings()
client = ZendeskClient(settings)
bucket = _client(settings.output).bucket("bench")
print(imported - t0)
"""

ORIGINAL = f"""
import time; t0 = time.perf_counter()
import importlib.util
spec = importlib.util.spec_from_file_location("seed_main", {str(BASELINE)!r})
module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)
print(time.perf_counter() - t0)
"""


def environment() -> dict[str, str]:
    """Both read the same variables; the emulator host keeps google-cloud-storage off the metadata server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZENDESK_", "ZDLOGS_", "GCS_"))}
    env.update(
        ZENDESK_BASE_URL="http://127.0.0.1:9",
        ZENDESK_EMAIL=EMAIL,
        ZENDESK_API_TOKEN=TOKEN,
        GCS_BUCKET="bench",
        STORAGE_EMULATOR_HOST="http://127.0.0.1:9",
        GOOGLE_CLOUD_PROJECT="bench",
    )
    return env


def sample(code: str) -> tuple[float, float]:
    """(wall seconds from launch to ready, seconds importing as seen inside)."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], env=environment(), capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    return wall, float(done.stdout.strip().splitlines()[-1] or 0)


def medians(code: str, repeat: int) -> tuple[float, float]:
    subprocess.run([sys.executable, "-c", code], env=environment(), capture_output=True, check=True)  # warm disk cache
    samples = [sample(code) for _ in range(repeat)]
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    require_baseline()
    empty, _ = medians("print(0)", args.repeat)
    ours, theirs = medians(ZDLOGS, args.repeat), medians(ORIGINAL, args.repeat)
    rows = [
        ["launch to ready (ms)", f"{ours[0] * 1000:.0f}", f"{theirs[0] * 1000:.0f}", ratio(ours[0], theirs[0])],
        ["of which imports (ms)", f"{ours[1] * 1000:.0f}", f"{theirs[1] * 1000:.0f}", ratio(ours[1], theirs[1])],
        ["launch to ready, minus an empty interpreter (ms)", f"{(ours[0] - empty) * 1000:.0f}",
         f"{(theirs[0] - empty) * 1000:.0f}", ratio(ours[0] - empty, theirs[0] - empty)],
    ]  # fmt: skip
    print_table(f"Cold start (median of {args.repeat}; empty interpreter {empty * 1000:.0f} ms)",
                ["cold start", "zdlogs", "original", "zdlogs/original"], rows)  # fmt: skip


if __name__ == "__main__":
    main()
