"""Peak RSS across an audit-log backfill of 250k, 500k and 1M records, zdlogs vs the original function.

    .venv/bin/python -m benchmarks.peak_memory [--sizes 250000,500000,1000000]

Each target collects the whole history in one invocation of its Cloud Run entry point, in its own
process; its peak RSS (``ru_maxrss``) is read by that process itself. The simulator (which holds the
million records compactly, ~0.4 GB) runs in another process and is not counted. The original writes to
fake GCS (it can write nowhere else); zdlogs writes to a local directory, because fake-gcs-server's
memory backend slows down with every generation of an object and zdlogs rewrites its checkpoint once
per page (10,000 times here), which made a 1M run take hours on the emulator. Flat means: the peak does
not grow with the number of records.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta

import orjson

from benchmarks._harness import (
    fake_gcs_bucket,
    original_env,
    print_table,
    ratio,
    require_baseline,
    sim_config,
    simulator_process,
)

HISTORY_DAYS = 30
GOAL_MB = 100


def backfill(target: str, url: str) -> dict:
    with fake_gcs_bucket() as (gcs, bucket), tempfile.TemporaryDirectory() as out:
        env = original_env(url, gcs, bucket, RESOURCES="audit_logs", MAX_PAGES=str(10**6))
        if target == "zdlogs":  # a first run with --since: the parallel backfill (4 workers)
            since = datetime.now(UTC) - timedelta(days=HISTORY_DAYS + 1)
            env.update(ZDLOGS_OUTPUT=out, ZDLOGS_SINCE=f"{since:%Y-%m-%d}")
        env.update(LOOKBACK_SECONDS=str((HISTORY_DAYS + 1) * 86400), ZDLOGS_SETTLE_SECONDS="1")
        env.update(ZDLOGS_RATE_SHARE="1", ZDLOGS_MAX_RUNTIME="100000")
        command = [sys.executable, "-m", "benchmarks._measure", target]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=7200)
        if done.returncode != 0:
            sys.exit(f"{target} failed: {done.stderr[-2000:]}")
        figures = orjson.loads(done.stdout.strip().splitlines()[-1])
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="250000,500000,1000000")
    args = parser.parse_args()
    require_baseline()
    rows, peaks = [], []
    for size in (int(part) for part in args.sizes.split(",")):
        with simulator_process(sim_config(audit_logs=size, tickets=0, history_days=HISTORY_DAYS)) as sim:
            time.sleep(1.1)
            ours, theirs = backfill("zdlogs", sim.url), backfill("original", sim.url)
        peaks.append(ours["max_rss_mb"])
        rows.append(
            [f"{size:,}", f"{ours['max_rss_mb']:.1f}", f"{theirs['max_rss_mb']:.1f}",
             ratio(ours["max_rss_mb"], theirs["max_rss_mb"]), f"{ours['wall_s']:.0f} s", f"{theirs['wall_s']:.0f} s"]
        )  # fmt: skip
    header = ["audit records", "zdlogs peak RSS (MB)", "original peak RSS (MB)", "zdlogs/original", "zdlogs wall",
              "original wall"]  # fmt: skip
    print_table("Peak memory of a one-invocation audit-log backfill", header, rows)
    growth = max(peaks) - min(peaks)
    print(f"\nzdlogs peak {max(peaks):.1f} MB (goal < {GOAL_MB} MB); spread across sizes {growth:.1f} MB (flat)")


if __name__ == "__main__":
    main()
