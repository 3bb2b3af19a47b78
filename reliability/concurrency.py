"""Concurrency suite: overlapping runs started together, round after round, while records arrive.

    .venv/bin/python -m reliability.concurrency --rounds 50 --runs 5                         # full version
    .venv/bin/python -m reliability.concurrency --rounds 20 --resources all --storage s3     # six streams, S3

Each round starts N `zdlogs run` processes at once on the same output. Exactly one may collect; the
others must exit 0 saying who holds the lease. Afterwards: 0 lost, 0 duplicated records or objects.
(Duplicate Pub/Sub deliveries to the Cloud Run function are covered by tests/e2e/test_cloud_function.py.)
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter

from reliability.common import start_run
from reliability.targets import Harness, add_arguments, harness
from zdlogs.simulator import FaultConfig, Simulator


def one_round(run: Harness, env: dict[str, str], runs: int) -> Counter:
    run.store.note_run(after_kill=False)
    processes = [start_run(env, run.command()) for _ in range(runs)]
    results: Counter = Counter()
    for process in processes:
        out, err = process.communicate(timeout=300)
        run.printed(out, err)
        if process.returncode != 0:
            results[f"exit {process.returncode}"] += 1
        elif "lease_held_elsewhere" in err:
            results["lease held elsewhere, exit 0"] += 1
        else:
            results["collected"] += 1
    return results


def main() -> bool:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=3, help="of the new streams' activity between rounds")
    add_arguments(parser)
    args = parser.parse_args()
    slow = FaultConfig(slow_rate=1.0, slow_seconds=args.latency)
    totals: Counter = Counter()
    rng = random.Random(args.seed)
    with harness(args) as run, Simulator(run.account(audit_logs=3000, tickets=400, faults=slow)).start() as sim:
        env = run.env(sim.url, MAX_PAGES="5")
        started = time.monotonic()
        for _ in range(args.rounds):
            totals += one_round(run, env, args.runs)
            sim.append_audit_logs(5)
            sim.update_tickets(2)
            run.activity(sim, rng, scale=0.5)
        sim.set_faults(FaultConfig())
        run.drain(sim.url)
        outcome, foreign = run.outcome(sim), run.foreign_objects_in_feed()
        names = run.store.names()
        elapsed = time.monotonic() - started
        print(f"concurrency suite {run.where()}: {args.rounds} rounds of {args.runs} runs in {elapsed:.0f}s")
        print("  outcomes: " + ", ".join(f"{k}: {v}" for k, v in sorted(totals.items())))
        passed = run.verdict(outcome, foreign)
    failed_runs = sum(v for k, v in totals.items() if k.startswith("exit"))
    print(f"  duplicate object names {len(names) - len(set(names))}, runs that failed {failed_runs}")
    return passed and failed_runs == 0


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
