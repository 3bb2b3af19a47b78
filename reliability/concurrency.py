"""Concurrency suite: overlapping runs started together, round after round, while records arrive.

    .venv/bin/python -m reliability.concurrency --rounds 50 --runs 5     # full version
    .venv/bin/python -m reliability.concurrency --rounds 5 --runs 5      # the CI version

Each round starts N `zdlogs run` processes at once on the same output. Exactly one may collect; the
others must exit 0 saying who holds the lease. Afterwards: 0 lost, 0 duplicated records or objects.
(Duplicate Pub/Sub deliveries to the Cloud Run function are covered by tests/e2e/test_cloud_function.py.)
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from pathlib import Path

from reliability.common import DATA_PREFIX, account, drain, env_for, outcome_of, settings_for, start_run
from zdlogs.simulator import FaultConfig, Simulator


def one_round(env: dict[str, str], runs: int) -> Counter:
    processes = [start_run(env) for _ in range(runs)]
    results: Counter = Counter()
    for process in processes:
        _out, err = process.communicate(timeout=300)
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
    args = parser.parse_args()
    slow = FaultConfig(slow_rate=0.5, slow_seconds=0.05)
    totals: Counter = Counter()
    with (
        Simulator(account(audit_logs=3000, tickets=400, faults=slow)).start() as sim,
        tempfile.TemporaryDirectory() as out,
    ):
        env = env_for(sim.url, out, MAX_PAGES="5")
        started = time.monotonic()
        for _ in range(args.rounds):
            totals += one_round(env, args.runs)
            sim.append_audit_logs(5)
            sim.update_tickets(2)
        sim.set_faults(FaultConfig())
        drain(settings_for(sim.url, out))
        outcome = outcome_of(sim, Path(out))
        names = [p.name for p in (Path(out) / DATA_PREFIX).rglob("*.ndjson")]
        duplicate_objects = len(names) - len(set(names))
    print(
        f"concurrency suite: {args.rounds} rounds of {args.runs} simultaneous runs in {time.monotonic() - started:.0f}s"
    )
    print("  outcomes: " + ", ".join(f"{k}: {v}" for k, v in sorted(totals.items())))
    print(
        f"  audit records lost {outcome.audit_lost}, duplicated {outcome.audit_duplicates}; duplicate objects "
        f"{duplicate_objects}; ticket versions duplicated {outcome.ticket_duplicates}"
    )
    failed_runs = sum(v for k, v in totals.items() if k.startswith("exit"))
    ok = outcome.clean and duplicate_objects == 0 and failed_runs == 0 and totals["collected"] >= args.rounds
    print(f"  result: {'PASS' if ok else 'FAIL'}")
    return ok


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
