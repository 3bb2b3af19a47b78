"""Backfill throughput in accelerated time: the share of the allowed request rate used, and of 429s.

    .venv/bin/python -m benchmarks.backfill_throughput [--records 100000 --plan enterprise --rate-share 0.5]

The simulator plays a plan's account limit with a realistic answer time (``--latency`` simulated
seconds, default 0.3) and runs ``--scale`` times faster than the wall clock. zdlogs backfills with
``--since`` (a day before the history) and ``--backfill-workers`` (default 4); the original as it
always does. Both get the simulator's clock: zdlogs through its client's ``clock``/``sleep`` seams
(it still learns the limit from the headers), the original through a scaled ``time.sleep`` (the only
clock it uses). The allowed rate is the plan's limit x ``--rate-share``; the original has no share
(it may use the whole account), so its figure can pass 100% of what zdlogs is allowed. Both write to
fake GCS. Keep the scale moderate: the collectors' own CPU time is not scaled and counts as
simulated seconds. Take enough records for the backfill to last several simulated minutes: a shorter
one fits in one minute's budget, which zdlogs may spend at once, and its per-minute figure then
exceeds the share.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from benchmarks._harness import (
    EMAIL,
    TOKEN,
    SimHandle,
    fake_gcs_bucket,
    original_env,
    print_table,
    ratio,
    require_baseline,
    simulator_process,
)
from zdlogs import logs
from zdlogs.config import load_settings
from zdlogs.pipeline import run
from zdlogs.simulator import FaultConfig, ScaledClock, plan_config
from zdlogs.zendesk.client import ZendeskClient

HISTORY_DAYS = 30


@dataclass
class Throughput:
    requests: int
    rate_limited: int
    simulated_seconds: float

    def per_minute(self) -> float:
        return self.requests / self.simulated_seconds * 60

    def share_429(self) -> float:
        return self.rate_limited / self.requests if self.requests else 0.0


def measure(sim: SimHandle, clock: ScaledClock, collect: Callable[[], None]) -> Throughput:
    sim.reset_stats()
    started = clock()
    collect()
    elapsed = clock() - started
    stats = sim.stats()
    api = sum(count for path, count in stats["by_path"].items() if path.startswith("/api/v2/"))
    return Throughput(api, stats["rate_limited"], elapsed)


def zdlogs_backfill(url: str, clock: ScaledClock, share: float, workers: int) -> None:
    with fake_gcs_bucket() as (gcs, bucket):
        os.environ["STORAGE_EMULATOR_HOST"] = gcs.endpoint
        settings = load_settings(
            base_url=url, email=EMAIL, api_token=TOKEN, output=f"gs://{bucket}/", resources="audit_logs",
            since=datetime.now(UTC) - timedelta(days=HISTORY_DAYS + 1), settle_seconds=1, max_pages=10**6,
            rate_share=share, backfill_workers=workers,
        )  # fmt: skip
        with ZendeskClient(settings, clock=clock.monotonic, sleep=clock.sleep) as client:
            run(settings, client=client)


SCALED_ORIGINAL = """
import sys, time
scale = float(sys.argv[1]); real_sleep = time.sleep
time.sleep = lambda seconds: real_sleep(seconds / scale)
sys.argv = [sys.argv[0], "original"]
from benchmarks._measure import main
main()
"""


def original_backfill(url: str, scale: float) -> None:
    with fake_gcs_bucket() as (gcs, bucket), tempfile.TemporaryDirectory():
        env = original_env(url, gcs, bucket, RESOURCES="audit_logs", MAX_PAGES=str(10**6))
        command = [sys.executable, "-c", SCALED_ORIGINAL, str(scale)]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=7200)
        if done.returncode != 0:
            sys.exit(f"the original failed: {done.stderr[-2000:]}")


def one_target(target: str, args: argparse.Namespace) -> Throughput:
    """A fresh simulated account on its own scaled clock, backfilled once by ``target``."""
    clock = ScaledClock(args.scale)
    config = plan_config(
        args.plan, audit_logs=args.records, tickets=0, history_days=HISTORY_DAYS, email=EMAIL, api_token=TOKEN,
        recent_exclusion_seconds=1, clock=clock, time_scale=args.scale,
        faults=FaultConfig(slow_rate=1.0, slow_seconds=args.latency),
    )  # fmt: skip
    with simulator_process(config) as sim:
        time.sleep(2)  # the newest records pass zdlogs' 1 s settle delay
        if target == "zdlogs":
            return measure(sim, clock, lambda: zdlogs_backfill(sim.url, clock, args.rate_share, args.workers))
        return measure(sim, clock, lambda: original_backfill(sim.url, args.scale))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--plan", default="enterprise")
    parser.add_argument("--rate-share", type=float, default=0.5)
    parser.add_argument("--latency", type=float, default=0.3)
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=4, help="zdlogs --backfill-workers (1: sequential)")
    args = parser.parse_args()
    require_baseline()
    logs.configure("json", quiet=True)
    results = {target: one_target(target, args) for target in ("zdlogs", "original")}
    limit = plan_config(args.plan).account_limit
    allowed = limit * args.rate_share
    z, o = results["zdlogs"], results["original"]
    rows = [
        ["requests", z.requests, o.requests, ratio(z.requests, o.requests)],
        ["simulated minutes", f"{z.simulated_seconds / 60:.1f}", f"{o.simulated_seconds / 60:.1f}",
         ratio(z.simulated_seconds, o.simulated_seconds)],
        ["requests per simulated minute", f"{z.per_minute():.0f}", f"{o.per_minute():.0f}",
         ratio(z.per_minute(), o.per_minute())],
        [f"share of the allowed {allowed:.0f}/min used (goal >= 90%)", f"{z.per_minute() / allowed:.1%}",
         f"{o.per_minute() / allowed:.1%}", ""],
        ["share of requests answered 429 (goal < 0.5%)", f"{z.share_429():.2%}", f"{o.share_429():.2%}", ""],
    ]  # fmt: skip
    title = (f"Audit-log backfill of {args.records:,} records, {args.plan} ({limit}/min) x rate share "
             f"{args.rate_share}, {args.latency} s answers, time x{args.scale:g}, zdlogs --backfill-workers "
             f"{args.workers}")  # fmt: skip
    print_table(title, ["backfill", "zdlogs", "original", "zdlogs/original"], rows)


if __name__ == "__main__":
    main()
