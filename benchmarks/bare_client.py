"""Issue 17's floor: ``zdlogs run`` against a bare client on the same audit-log backfill, side by side.

    .venv/bin/python -m benchmarks.bare_client [--records 100000 --repeat 3]

One simulated account (``--records`` audit records over 30 days, served by another process whose CPU is
nobody's) is collected, from scratch each time, into a new local directory by whole processes, start-up
included, their CPU (user + system) read by ``os.wait4``:

* ``zdlogs run --since`` (a parallel backfill, 4 workers: what a first run far back does);
* ``zdlogs run`` with ``LOOKBACK_SECONDS`` (the same records one page after the other, no threads);
* the bare client (``benchmarks/_bare.py``): stdlib ``http.client`` paging the same records
  (``page[size]=100``, ``links.next``), ``orjson.loads`` of each page, ``orjson.dumps`` of each record as one
  NDJSON line, one file fsynced per 10,000 records.

``--compare SRC`` adds the two ``zdlogs run`` rows again with ``PYTHONPATH=SRC`` (another checkout's ``src``, e.g.
``git archive <commit> src | tar -x -C /tmp/before``): a before/after measured in the same session, in turns.
The targets take turns, ``--repeat`` times; the least CPU of each is kept (other work on a shared machine only
ever adds to it). Every run's output is checked: every record once.
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
from pathlib import Path

import orjson

from benchmarks._harness import EMAIL, TOKEN, print_table, ratio, sim_config, simulator_process, zdlogs_env

HISTORY_DAYS = 30
BARE = Path(__file__).with_name("_bare.py")
ZDLOGS = Path(sys.executable).with_name("zdlogs")


@dataclass(frozen=True)
class Cost:
    """One whole process: CPU (user, system) and wall seconds, and the records it stored."""

    user: float
    system: float
    wall: float
    records: int

    @property
    def cpu(self) -> float:
        return self.user + self.system


def measured(command: list[str], env: dict[str, str], log: Path) -> tuple[float, float, float]:
    """Run ``command`` to its end; its own user and system CPU (``os.wait4``) and wall seconds."""
    started = time.perf_counter()
    with log.open("wb") as errors:
        process = subprocess.Popen(command, env=env, stdout=errors, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"{command[:3]} failed ({process.returncode}): {log.read_text()[-2000:]}")
    return usage.ru_utime, usage.ru_stime, time.perf_counter() - started


def stored_ids(out: Path) -> list[int]:
    """The id of every NDJSON line under ``out`` (the state file is JSON, not NDJSON)."""
    return [orjson.loads(line)["id"] for path in out.rglob("*.ndjson") for line in path.read_bytes().splitlines()]


def checked(out: Path, expected: int) -> int:
    ids = stored_ids(out)
    assert len(ids) == len(set(ids)) == expected, (len(ids), len(set(ids)), expected)
    return len(ids)


def since_day() -> str:
    """A day before the simulated history begins: the backfill's ``--since``."""
    return (datetime.now(UTC) - timedelta(days=HISTORY_DAYS + 1)).strftime("%Y-%m-%d")


OBJECTS: dict[str, str] = {}  # ``--object-records``: ZDLOGS_OBJECT_RECORDS for every zdlogs run, else zdlogs' default


def zdlogs_run(url: str, expected: int, backfill: bool, src: str = "") -> Cost:
    """``zdlogs run`` of the audit log into a new directory: ``--since`` (parallel) or LOOKBACK_SECONDS; the code
    of ``src`` when given (``PYTHONPATH``), else what this interpreter imports."""
    with tempfile.TemporaryDirectory() as out:
        env = zdlogs_env(url, out, RESOURCES="audit_logs", ZDLOGS_SETTLE_SECONDS="1", ZDLOGS_RATE_SHARE="1")
        env.update(OBJECTS)
        env.update({"PYTHONPATH": src} if src else {})
        extra = ["--since", since_day()] if backfill else []
        if not backfill:
            env["LOOKBACK_SECONDS"] = str((HISTORY_DAYS + 1) * 86400)
        command = [str(ZDLOGS), "--log-format", "json", "run", *extra]
        user, system, wall = measured(command, env, Path(out) / "run.log")
        return Cost(user, system, wall, checked(Path(out), expected))


def bare_run(url: str, expected: int) -> Cost:
    """The bare client on the same window (the day before the history to now minus the 1 s settle delay)."""
    with tempfile.TemporaryDirectory() as out:
        until = (datetime.now(UTC) - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        since = f"{since_day()}T00:00:00Z"
        command = [sys.executable, str(BARE), url, EMAIL, TOKEN, since, until, out]
        user, system, wall = measured(command, dict(os.environ), Path(out) / "run.log")
        return Cost(user, system, wall, checked(Path(out), expected))


BARE_NAME = "bare client (http.client + orjson + fsync per 10,000)"
Target = Callable[[str, int], Cost]


def targets(compare: str) -> dict[str, Target]:
    """What is measured, in the order of the table: zdlogs both ways (and ``compare``'s), then the floor."""
    chosen: dict[str, Target] = {
        "zdlogs run --since (parallel backfill)": lambda url, n: zdlogs_run(url, n, backfill=True),
        "zdlogs run, LOOKBACK_SECONDS (sequential)": lambda url, n: zdlogs_run(url, n, backfill=False),
    }
    if compare:
        chosen[f"{compare}: zdlogs run --since"] = lambda url, n: zdlogs_run(url, n, True, compare)
        chosen[f"{compare}: zdlogs run, sequential"] = lambda url, n: zdlogs_run(url, n, False, compare)
    chosen[BARE_NAME] = bare_run
    return chosen


def least(costs: list[Cost]) -> Cost:
    return min(costs, key=lambda cost: cost.cpu)


def us(seconds: float, records: int) -> str:
    return f"{seconds / records * 1e6:.2f}"


def row(name: str, cost: Cost, floor: Cost, goal: str) -> list[str]:
    n = cost.records
    return [name, us(cost.cpu, n), us(cost.user, n), us(cost.system, n), f"{cost.wall:.1f}",
            ratio(cost.cpu, floor.cpu), goal]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each target; the least CPU is kept")
    parser.add_argument("--compare", default="", metavar="SRC", help="also run zdlogs from this src directory")
    parser.add_argument("--object-records", type=int, default=None, help="ZDLOGS_OBJECT_RECORDS (default: zdlogs')")
    args = parser.parse_args()
    if args.object_records is not None:
        OBJECTS["ZDLOGS_OBJECT_RECORDS"] = str(args.object_records)
    measured_targets = targets(args.compare)
    costs: dict[str, list[Cost]] = {name: [] for name in measured_targets}
    with simulator_process(sim_config(audit_logs=args.records, tickets=0, history_days=HISTORY_DAYS)) as sim:
        time.sleep(1.1)  # the newest records pass the 1 s settle delay
        n = sim.audit_count()
        for _ in range(args.repeat):
            for name, target in measured_targets.items():
                costs[name].append(target(sim.url, n))
    best = {name: least(runs) for name, runs in costs.items()}
    floor = best[BARE_NAME]
    goals = {"zdlogs run --since (parallel backfill)": "<= 1.5x the bare client", BARE_NAME: "(the floor)"}
    rows = [row(name, cost, floor, goals.get(name, "")) for name, cost in best.items()]
    header = ["whole process, start-up included", "CPU µs/record", "user", "system", "wall (s)", "x bare", "goal"]
    print_table(f"CPU per record against a bare client ({n:,} audit records, least of {args.repeat})", header, rows)
    for name, runs in costs.items():
        print(f"{name}: CPU s per run {', '.join(f'{cost.cpu:.2f}' for cost in runs)}")


if __name__ == "__main__":
    main()
