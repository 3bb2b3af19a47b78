"""Crash suite: collection runs killed with SIGKILL at random points while records keep arriving.

    .venv/bin/python -m reliability.crash --kills 200                            # full version (~3 min)
    .venv/bin/python -m reliability.crash --kills 100 --resources all            # the six streams
    .venv/bin/python -m reliability.crash --kills 50 --resources all --storage s3  # (or gcs, secops)

After the kills, clean runs catch up and the output is compared with the simulator's ground truth.
Where each run died is read from its last JSON log line (before the first page, after a data write, ...).
Target: 0 lost; duplicates at most one page per kill (the write-ahead checkpoint makes it 0). On SecOps,
which has no idempotent write, a kill between an accepted batch and its marker re-sends that batch: the
suite counts, per run, the batches re-sent (documented bound: one per kill) and fails only on a loss.
"""

from __future__ import annotations

import argparse
import random
import signal
import time
from collections import Counter

import orjson

from reliability.targets import Harness, add_arguments, harness
from zdlogs.simulator import FaultConfig, Simulator


def log_events(stderr: str) -> list[dict]:
    events = []
    for line in stderr.splitlines():
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return events


def last_event(stderr: str) -> str:
    events = log_events(stderr)
    return str(events[-1].get("event")) if events else "before-first-log"


def killed_during(stderr: str, streams: tuple[str, ...]) -> str:
    """The stream a run was collecting when killed: the one its last line names, or the one after a
    ``stream_summary`` (the next stream had started); "start-up" before any stream."""
    for event in reversed(log_events(stderr)):
        stream = event.get("stream")
        if stream not in streams:
            continue
        if event.get("event") != "stream_summary":
            return str(stream)
        later = streams[streams.index(stream) + 1 :]
        return later[0] if later else "end of run"
    return "start-up"


def crash_loop(
    run: Harness, sim: Simulator, kills: int, rng: random.Random, latency: float
) -> tuple[int, Counter, Counter]:
    """Kill runs at a random moment of their expected length (learnt from the runs that finished)."""
    env = run.env(sim.url, MAX_PAGES="8")
    done, phases, during, typical = 0, Counter(), Counter(), 0.6 + 10 * latency * len(run.streams) / 2
    while done < kills:
        started = time.monotonic()
        process = run.start(env)
        time.sleep(rng.uniform(0.2, typical))
        run.last_run_killed = process.poll() is None
        if run.last_run_killed:
            process.send_signal(signal.SIGKILL)
            done += 1
            out, err = process.communicate()
            run.printed(out, err)
            phases[last_event(err)] += 1
            during[killed_during(err, run.streams)] += 1
            run.last_kill = f"its last log '{last_event(err)}', collecting {killed_during(err, run.streams)}"
            time.sleep(run.after_kill_seconds)  # an object-store lease outlives its killed run by its TTL
        else:
            run.printed(*process.communicate())
            typical = 0.7 * typical + 0.3 * (time.monotonic() - started)
        sim.append_audit_logs(rng.randint(20, 160))  # new activity keeps every run busy for a few pages
        sim.update_tickets(rng.randint(0, 5))
        run.activity(sim, rng)
    return done, phases, during


def main() -> bool:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--secops-answer-delay",
        type=float,
        default=0.0,
        help="with --storage secops: the fake accepts each batch at once but answers this many seconds later, so "
        "kills land between acceptance and the delivery marker (the worst case of the one-batch duplicate)",
    )
    add_arguments(parser)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    slow = FaultConfig(slow_rate=1.0, slow_seconds=args.latency)
    with harness(args) as run, Simulator(run.account(audit_logs=4000, tickets=600, faults=slow)).start() as sim:
        started = time.monotonic()
        kills, phases, during = crash_loop(run, sim, args.kills, rng, args.latency)
        sim.set_faults(FaultConfig())
        run.drain(sim.url)
        outcome, foreign = run.outcome(sim), run.foreign_objects_in_feed()
        print(f"crash suite {run.where()}: {kills} SIGKILLs in {time.monotonic() - started:.0f}s")
        print("  killed after (last log event): " + ", ".join(f"{k} {v}" for k, v in phases.most_common()))
        print("  killed while collecting: " + ", ".join(f"{k} {v}" for k, v in during.most_common()))
        return run.verdict(outcome, foreign)


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
