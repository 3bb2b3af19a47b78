"""A month of hourly runs against real plan limits, in accelerated time: requests, 429s, exactly-once.

    .venv/bin/python -m benchmarks.simulated_month [--days 30 --plan enterprise --scale 600]

The simulator plays the plan's account limit and the 10/minute incremental-export limit on a
``ScaledClock``; between runs the clock jumps an hour ahead (new audit records and ticket changes are
stamped in that hour), and each run is zdlogs collecting both streams with the defaults a Cloud Run
function would have (``--rate-share 0.5``, ``ZDLOGS_INCREMENTAL_LIMIT=10``, 120 s settle delay), its
clock and sleep being the simulator's. It shows the month running in seconds of wall time, the requests
against the minimum, the 429s met, and the output against the simulator's ground truth. zdlogs only: the
original function runs as a process per run (about a second each), and its own figures are in
``requests_per_run``.
"""

from __future__ import annotations

import argparse
import math
import random
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import orjson

from benchmarks._harness import EMAIL, TOKEN, print_table
from zdlogs import logs
from zdlogs.config import load_settings
from zdlogs.pipeline import run
from zdlogs.simulator import ScaledClock, Simulator, plan_config
from zdlogs.zendesk.client import ZendeskClient

PAGE_SIZES = {"audit_logs": 100, "incremental_tickets": 1000}


def hourly_activity(rng: random.Random, hour: int) -> tuple[int, int, int]:
    """(audit records, tickets created, tickets updated): busy office hours, quiet nights and weekends."""
    day, clock_hour = divmod(hour, 24)
    busy = day % 7 < 5 and 8 <= clock_hour < 18
    return (rng.randrange(20, 400), rng.randrange(0, 15), rng.randrange(5, 80)) if busy else (
        rng.randrange(0, 10), rng.randrange(0, 2), rng.randrange(0, 5))  # fmt: skip


def stored_ids(root: Path, stream: str) -> Counter:
    found: Counter = Counter()
    for path in (root / "zendesk/crm" / stream).rglob("*.ndjson"):
        for line in path.read_bytes().splitlines():
            record = orjson.loads(line)
            found[record["id"] if stream == "audit_logs" else (record["id"], record["updated_at"])] += 1
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--plan", default="enterprise")
    parser.add_argument("--scale", type=float, default=600.0, help="simulated seconds per real second")
    args = parser.parse_args()
    logs.configure("json", quiet=True)
    rng = random.Random(1)
    clock = ScaledClock(args.scale)
    config = plan_config(args.plan, audit_logs=2000, tickets=300, history_days=2, email=EMAIL, api_token=TOKEN,
                         clock=clock, time_scale=args.scale)  # fmt: skip
    minimum, requests, rate_limited, runs = 0, 0, 0, args.days * 24
    started = time.perf_counter()
    with Simulator(config).start() as sim, tempfile.TemporaryDirectory() as out:
        settings = load_settings(base_url=sim.url, email=EMAIL, api_token=TOKEN, output=out,
                                 lookback_seconds=3 * 86400, max_pages=1000)  # fmt: skip
        collect(settings, clock)  # the history, not counted
        for hour in range(runs):
            audit, created, updated = hourly_activity(rng, hour)
            clock.advance(1800)
            sim.append_audit_logs(audit)
            versions = len(sim.create_tickets(created)) + len(sim.update_tickets(updated))
            clock.advance(1800)
            sim.reset_stats()
            collect(settings, clock)
            stats = sim.stats()
            requests += stats["requests"]
            rate_limited += stats["rate_limited"]
            minimum += max(1, math.ceil(audit / PAGE_SIZES["audit_logs"]))
            minimum += max(1, math.ceil(versions / PAGE_SIZES["incremental_tickets"]))
        clock.advance(3600)
        collect(settings, clock)  # the last hour's settle delay and recent minute
        wall = time.perf_counter() - started
        truth = sim.truth()
        audit_found, ticket_found = stored_ids(Path(out), "audit_logs"), stored_ids(Path(out), "incremental_tickets")
    lost = len({r["id"] for r in truth["audit_logs"]} - set(audit_found))
    versions_missing = len({tuple(v) for v in truth["ticket_versions"]} - set(ticket_found))
    duplicates = sum(c - 1 for c in audit_found.values()) + sum(c - 1 for c in ticket_found.values())
    rows = [
        ["hourly runs", runs], ["simulated days", args.days], ["wall seconds", f"{wall:.0f}"],
        ["requests (both streams)", requests], ["minimum", minimum],
        ["requests / minimum", f"{requests / minimum:.3f}x"],
        ["429s met", rate_limited], ["audit records lost / ticket versions missing", f"{lost} / {versions_missing}"],
        ["records stored twice", duplicates],
    ]  # fmt: skip
    print_table(f"A simulated month of hourly zdlogs runs, {args.plan} limits, time x{args.scale:g}",
                ["figure", "zdlogs"], rows)  # fmt: skip


def collect(settings: object, clock: ScaledClock) -> None:
    with ZendeskClient(settings, clock=clock.monotonic, sleep=clock.sleep) as client:  # type: ignore[arg-type]
        run(settings, client=client, now=datetime.fromtimestamp(clock(), UTC))  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
