"""Crash suite: collection runs killed with SIGKILL at random points while records keep arriving.

    .venv/bin/python reliability/crash.py --kills 200            # full version (~3 min)
    .venv/bin/python reliability/crash.py --kills 10             # the CI version

After the kills, clean runs catch up and the output is compared with the simulator's ground truth.
Where each run died is read from its last JSON log line (before the first page, after a data write, ...).
Target: 0 lost; duplicates at most one page per kill (the write-ahead checkpoint makes it 0).
"""

from __future__ import annotations

import argparse
import random
import signal
import time
from collections import Counter

import orjson

from reliability.common import account, report, start_run
from reliability.targets import Harness, add_arguments, harness
from zdlogs.simulator import FaultConfig, Simulator


def last_event(stderr: str) -> str:
    for line in reversed(stderr.splitlines()):
        try:
            return str(orjson.loads(line).get("event"))
        except orjson.JSONDecodeError:
            continue
    return "before-first-log"


def crash_loop(run: Harness, sim: Simulator, kills: int, rng: random.Random, latency: float) -> tuple[int, Counter]:
    """Kill runs at a random moment of their expected length (learnt from the runs that finished)."""
    env = run.env(sim.url, MAX_PAGES="8")
    done, phases, typical = 0, Counter(), 0.6 + 10 * latency
    while done < kills:
        started = time.monotonic()
        process = start_run(env, run.command())
        time.sleep(rng.uniform(0.2, typical))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            done += 1
            _out, err = process.communicate()
            phases[last_event(err)] += 1
            time.sleep(run.dead_lease_seconds)  # an object-store lease outlives its killed run by its TTL
        else:
            process.communicate()
            typical = 0.7 * typical + 0.3 * (time.monotonic() - started)
        sim.append_audit_logs(rng.randint(20, 160))  # new activity keeps every run busy for a few pages
        sim.update_tickets(rng.randint(0, 5))
    return done, phases


def main() -> bool:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    add_arguments(parser)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    slow = FaultConfig(slow_rate=1.0, slow_seconds=args.latency)
    with Simulator(account(audit_logs=4000, tickets=600, faults=slow)).start() as sim, harness(args) as run:
        started = time.monotonic()
        kills, phases = crash_loop(run, sim, args.kills, rng, args.latency)
        sim.set_faults(FaultConfig())
        run.drain(sim.url)
        outcome, foreign = run.outcome(sim), run.foreign_objects_in_feed()
    print(f"crash suite [{args.target} on {args.storage}]: {kills} SIGKILLs in {time.monotonic() - started:.0f}s")
    print("  killed after (last log event): " + ", ".join(f"{k} {v}" for k, v in phases.most_common()))
    report(outcome, foreign)
    return outcome.clean


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
