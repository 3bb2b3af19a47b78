"""Fault suite: a simulated day of hourly runs against a Zendesk that misbehaves.

    .venv/bin/python -m reliability.faults --hours 24                    # full version
    .venv/bin/python -m reliability.faults --hours 24 --resources all    # the six streams

The simulator injects 10% 5xx, 5% connection resets, 2% truncated bodies, 3% responses slower than
HTTP_TIMEOUT, and every fourth hour a 429 storm (40% of answers, Retry-After alternating seconds and
HTTP-date). Between "hours" new records arrive. A run may exit non-zero only when its retry budget is
spent (its message says so), and the next run recovers. At the end: 0 lost, 0 duplicated.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter

from reliability.targets import add_arguments, harness
from zdlogs.simulator import FaultConfig, Simulator

BAD_DAY = {"error_rate": 0.10, "reset_rate": 0.05, "truncate_rate": 0.02, "slow_rate": 0.03, "slow_seconds": 2.5}


def faults_for(hour: int, seed: int) -> FaultConfig:
    storm = {"rate_limit_rate": 0.40, "retry_after": "mixed"} if hour % 4 == 3 else {}
    return FaultConfig(**BAD_DAY, **storm, retry_after_seconds=1, seed=seed + hour)  # type: ignore[arg-type]


def main() -> bool:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=int, default=24)
    parser.add_argument("--seed", type=int, default=5)
    add_arguments(parser)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    exits: Counter = Counter()
    unexplained = 0
    with harness(args) as run, Simulator(run.account(audit_logs=2500, tickets=400)).start() as sim:
        env = run.env(sim.url, MAX_PAGES="10", HTTP_TIMEOUT="1", HTTP_RETRIES="4")
        started = time.monotonic()
        for hour in range(args.hours):
            sim.set_faults(faults_for(hour, args.seed))
            process = run.start(env)
            out, err = process.communicate(timeout=600)
            run.printed(out, err)
            exits[process.returncode] += 1
            if args.target == "zdlogs" and process.returncode != 0 and "still failing after retries" not in err:
                unexplained += 1
                print(f"  hour {hour}: exit {process.returncode} without a spent retry budget:\n{err[-800:]}")
            sim.append_audit_logs(rng.randint(20, 120))
            sim.update_tickets(rng.randint(5, 30))
            run.activity(sim, rng, scale=2)
        stats = sim.stats()
        sim.set_faults(FaultConfig())
        run.drain(sim.url)
        outcome, foreign = run.outcome(sim), run.foreign_objects_in_feed()
        print(f"fault suite {run.where()}: {args.hours} hourly runs in {time.monotonic() - started:.0f}s")
        print(f"  {stats['requests']} requests; injected: " + ", ".join(f"{k} {v}" for k, v in stats["faults"].items()))
        print("  run exit codes: " + ", ".join(f"{k}: {v}" for k, v in sorted(exits.items())))
        return run.verdict(outcome, foreign) and unexplained == 0


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
