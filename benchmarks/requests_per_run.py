"""Requests per run against the minimum, over hourly runs with new records between (one of them quiet).

    .venv/bin/python -m benchmarks.requests_per_run [--hours 8]

Both targets run as the Cloud Run function would (a process per run, output on fake GCS) against the same
simulated account (same seed, same new records before each run). The minimum per stream is
``max(1, ceil(new records / page size))`` — audit log pages hold 100, ticket export pages 1000 — which
is at most the issue's "new records / page size, plus one request to learn there is nothing new": a
quiet run costs one request per stream. Requests are counted by the simulator. Rate limits are set
high so the figure is what each collector *asks*, not how it copes with 429s (with Zendesk's real
10/minute incremental limit the original's 20 ticket requests per run would also draw 429s).
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from benchmarks._harness import (
    SimHandle,
    fake_gcs_bucket,
    original_env,
    print_table,
    ratio,
    require_baseline,
    sim_config,
    simulator_process,
)

PAGE_SIZES = {"audit_logs": 100, "incremental_tickets": 1000}
# (new audit records, tickets created, tickets updated) before each hourly run; run 4 is quiet.
HOURS = [(120, 5, 20), (45, 2, 10), (310, 10, 60), (0, 0, 0), (80, 4, 25), (200, 8, 40), (15, 1, 5), (0, 0, 0)]
HISTORY = {"audit_logs": 2000, "tickets": 300, "history_days": 2}
PRIMING_RUNS = 3  # runs before the series: the first collection of the history, not counted


@dataclass
class RunCount:
    new: dict[str, int]
    requests: dict[str, int] = field(default_factory=dict)

    def minimum(self, stream: str) -> int:
        return max(1, math.ceil(self.new[stream] / PAGE_SIZES[stream]))


def stream_of(path: str) -> str:
    return "audit_logs" if path.startswith("/api/v2/audit_logs") else "incremental_tickets"


def requests_by_stream(stats: dict) -> dict[str, int]:
    counts = {"audit_logs": 0, "incremental_tickets": 0}
    for path, count in stats["by_path"].items():
        if path.startswith("/api/v2/"):
            counts[stream_of(path)] += count
    return counts


def one_run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        sys.exit(f"a run failed ({done.returncode}): {done.stderr[-2000:]}")


def series(target: str, hours: list[tuple[int, int, int]]) -> list[RunCount]:
    """Prime, then one run per hour after that hour's new records; requests per stream per run."""
    with simulator_process(sim_config(**HISTORY)) as sim, fake_gcs_bucket() as (gcs, bucket):
        env = original_env(sim.url, gcs, bucket, LOOKBACK_SECONDS=str(3 * 86400))
        if target == "zdlogs":
            env.update(ZDLOGS_SETTLE_SECONDS="1", ZDLOGS_INCREMENTAL_LIMIT="100000", ZDLOGS_RATE_SHARE="1")
        command = [sys.executable, "-m", "benchmarks._measure", target]
        time.sleep(2.2)
        for _ in range(PRIMING_RUNS):
            one_run(command, env)
        return [_hour(sim, lambda: one_run(command, env), hour) for hour in hours]


def _hour(sim: SimHandle, collect: Callable[[], None], hour: tuple[int, int, int]) -> RunCount:
    audit, created, updated = hour
    appended = sim.append(audit_logs=audit, tickets_created=created, tickets_updated=updated)
    versions = len(appended["tickets_created"]) + len(appended["tickets_updated"])
    time.sleep(2.2)  # past the 1 s settle delay and the 1 s recent-minute exclusion
    sim.reset_stats()
    collect()
    count = RunCount({"audit_logs": audit, "incremental_tickets": versions})
    count.requests = requests_by_stream(sim.stats())
    return count


def report(ours: list[RunCount], theirs: list[RunCount]) -> tuple[float, float]:
    """Print the per-run table; return (zdlogs total / minimum, zdlogs quiet-run requests per stream)."""
    rows, totals = [], {"min": 0, "zdlogs": 0, "original": 0}
    for number, (mine, other) in enumerate(zip(ours, theirs, strict=True), 1):
        minimum = sum(mine.minimum(stream) for stream in PAGE_SIZES)
        z, o = sum(mine.requests.values()), sum(other.requests.values())
        totals["min"] += minimum
        totals["zdlogs"] += z
        totals["original"] += o
        new = f"{mine.new['audit_logs']} + {mine.new['incremental_tickets']}"
        rows.append([number, new, minimum, z, ratio(z, minimum), o, ratio(o, minimum), ratio(z, o)])
    rows.append(
        ["all", "", totals["min"], totals["zdlogs"], ratio(totals["zdlogs"], totals["min"]), totals["original"],
         ratio(totals["original"], totals["min"]), ratio(totals["zdlogs"], totals["original"])]
    )  # fmt: skip
    header = ["run", "new audit + ticket versions", "minimum", "zdlogs", "zdlogs/min", "original", "original/min",
              "zdlogs/original"]  # fmt: skip
    print_table("Requests per hourly run (both streams)", header, rows)
    quiet = [mine for mine in ours if not any(mine.new.values())]
    quiet_per_stream = max((max(run.requests.values()) for run in quiet), default=0)
    return totals["zdlogs"] / totals["min"], quiet_per_stream


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=int, default=len(HOURS), help=f"hourly runs (up to {len(HOURS)})")
    args = parser.parse_args()
    require_baseline()
    hours = HOURS[: args.hours]
    ours, theirs = series("zdlogs", hours), series("original", hours)
    overall, quiet = report(ours, theirs)
    print(f"\nzdlogs: {overall:.3f}x the minimum (goal <= 1.02x); quiet run: {quiet} request(s) per stream (goal 1)")


if __name__ == "__main__":
    main()
