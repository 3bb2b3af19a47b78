"""Throughput, requests and peak memory of the four new streams at scale, end to end into a local directory.

    .venv/bin/python -m benchmarks.stream_scale [--sizes 0.25,0.5,1]

Size 1 is an account with 100,000 access-log records, 50,000 ticket events (from 25,000 tickets),
20,000 users and 10,000 organizations over 30 days. Each stream is collected by its own ``zdlogs run``
process (``benchmarks._run``: the first run of an hourly schedule, ``LOOKBACK_SECONDS`` over the whole
history, sequential) into a local directory, so its peak RSS is that stream's alone; the simulator runs
in another process and is not counted. Rate limits are set high and zdlogs gets ``--rate-share 1``, so
the figure is zdlogs' own speed: the access log's 50/minute, which zdlogs always paces at, allows the 40
requests of 100,000 records at once, and a larger size would measure the wait.

Requests are compared with ``ceil(records / page size)``, and for the time-based exports (ticket events,
organizations) with what their paging allows (each page repeats its last second; see
``benchmarks._streams.zendesk_time_export_requests``), counted from the stored records' own seconds once
they are checked against the simulator's truth (none lost, none twice). Sizes are run smallest first:
flat memory means the peak does not grow with them.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import orjson

from benchmarks._harness import print_table, ratio, sim_config, simulator_process, zdlogs_env
from benchmarks._streams import (
    NEW_STREAMS,
    PAGE_SIZES,
    TIME_BASED,
    check,
    minimum,
    stored,
    zendesk_time_export_requests,
)
from zdlogs.simulator._generate import parse_iso

HISTORY_DAYS = 30
SIZE_1 = {"access_logs": 100_000, "tickets": 25_000, "users": 20_000, "organizations": 10_000}
UNLIMITED = {"access_logs_limit": 1_000_000, "users_cursor_limit": 1_000_000}


def collect(url: str, stream: str, out: str) -> dict:
    """One ``zdlogs run`` of ``stream`` over the whole history in its own process; its figures."""
    env = zdlogs_env(url, out, RESOURCES=stream, LOOKBACK_SECONDS=str((HISTORY_DAYS + 1) * 86400), MAX_PAGES="1000000",
                     ZDLOGS_SETTLE_SECONDS="1", ZDLOGS_RATE_SHARE="1", ZDLOGS_INCREMENTAL_LIMIT="1000000")  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "benchmarks._run"], env=env, capture_output=True, text=True,
                          timeout=3600)  # fmt: skip
    if done.returncode != 0:
        sys.exit(f"zdlogs failed on {stream}: {done.stderr[-2000:]}")
    return orjson.loads(done.stdout.strip().splitlines()[-1])


def seconds_of(stream: str, out: Path) -> list[int]:
    """The export position (epoch second) of every stored record of ``stream``."""
    field = {"access_logs": "timestamp", "ticket_events": "timestamp"}.get(stream, "updated_at")
    return [value if isinstance(value, int) else parse_iso(value) for value in
            (record[field] for record in stored(out, stream))]  # fmt: skip


def one_size(size: float, streams: list[str]) -> list[list]:
    counts = {name: int(value * size) for name, value in SIZE_1.items()}
    config = sim_config(audit_logs=0, history_days=HISTORY_DAYS, **counts, **UNLIMITED)
    rows = []
    with simulator_process(config) as sim:
        time.sleep(1.1)
        for stream in streams:
            with tempfile.TemporaryDirectory() as directory:
                started_at = int(datetime.now(UTC).timestamp()) - (HISTORY_DAYS + 1) * 86400
                figures = collect(sim.url, stream, directory)
                item = figures["streams"][0]
                lost, twice = check(Path(directory), stream, sim.truth())
                seconds = seconds_of(stream, Path(directory))
            least = minimum(stream, item["records"])
            allowed = zendesk_time_export_requests(seconds, started_at, PAGE_SIZES[stream])
            working = item["seconds"] - figures["paced_s"]
            rows.append(
                [f"{size:g}", stream, f"{item['records']:,}", max(Counter(seconds).values(), default=0),
                 item["requests"], f"{least} / {allowed}" if stream in TIME_BASED else least,
                 ratio(item["requests"], least), f"{item['records'] / working:,.0f}" if working > 0 else "-",
                 f"{figures['paced_s']:.0f}", f"{figures['cpu_s'] / max(1, item['records']) * 1e6:.1f}",
                 f"{figures['max_rss_mb']:.1f}", f"{lost} / {twice}"]
            )  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0.25,0.5,1", help="multiples of size 1 (100k access logs, ...)")
    parser.add_argument("--streams", default=",".join(NEW_STREAMS), help="which of them (comma-separated)")
    args = parser.parse_args()
    streams = args.streams.split(",")
    sizes = sorted(float(part) for part in args.sizes.split(","))
    rows = [row for size in sizes for row in one_size(size, streams)]
    header = ["size", "stream", "records", "most in one second", "requests", "minimum / paging", "requests/min",
              "records/s", "paced (s)", "CPU us/record", "peak RSS (MB)", "lost / stored twice"]  # fmt: skip
    print_table("The new streams at scale: one first run per stream into a local directory", header, rows)
    for stream in streams:
        peaks = [float(row[10]) for row in rows if row[1] == stream]
        print(f"{stream}: peak RSS {min(peaks):.1f} -> {max(peaks):.1f} MB across sizes {args.sizes}")


if __name__ == "__main__":
    main()
