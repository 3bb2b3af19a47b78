"""One hourly round of a fleet of T tenants: shards against --parallel, CPU, memory and requests per tenant.

    .venv/bin/python -m benchmarks.fleet_round [--tenants 200] [--latency 0.05]

A fleet deployment pays for what one *hourly* round costs, times 720 a month, so that is what is measured:
T small simulated accounts (one simulator process, one port each, every API request answered after
``--latency`` seconds, like a real Zendesk's ~50 ms) are first collected once (the backfill: only its wall
time is printed), then every tenant gets an hour's activity (20 audit records, 3 ticket updates). The output
directory is copied then, and restored before each configuration, and the simulator's counters reset, so
every configuration collects the same hour from the same state:

* ``--shard i/N`` with N = 1, 2, 4, 8 concurrent ``zdlogs run`` processes (``--parallel 1``): Cloud Run tasks;
* one process with ``--parallel`` 4, 8, 16: tenants at once inside one task.

Each collector is a whole ``zdlogs run`` process (the CLI's ``main``; interpreter start and imports counted,
as Cloud Run bills them). Its CPU is the kernel's account of it (``os.wait4``); its peak RSS its own
high-water mark (``VmHWM``, written at exit — ``ru_maxrss`` would report this parent's when higher, see
``benchmarks._measure``). The simulator runs in a forked process: its CPU is nobody's. Requests and 429s are
counted by the simulator; the minimum per tenant is ``requests_per_run``'s: ``max(1, ceil(new / page))`` per
stream, from what the simulator holds. The count check reads every record stored and compares it with the
simulator's truth: every new record stored once, none lost. The simulator's rate limits are high, as in
``requests_per_run``: the benchmark replays the same hour 7 times in minutes, which a real account's
10/minute incremental limit would answer with 429s no real hourly round meets; zdlogs keeps its own
defaults (it paces itself to Zendesk's real limits).

The last table is on paper: the measured per-tenant and per-process costs scaled to 10,000 tenants on
Cloud Run jobs at 1 vCPU and 1 GiB per task (deploy.sh --fleet), at the published price (PRICE_SOURCE).
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from benchmarks._harness import SimHandle, print_table, sim_config
from benchmarks.collect_scale import read
from benchmarks.requests_per_run import PAGE_SIZES, requests_by_stream
from zdlogs.simulator import FaultConfig, SimulatorFleet, fleet_configs

ACCOUNT = {"audit_logs": 200, "tickets": 30, "history_days": 2}
HOUR = {"audit_logs": 20, "tickets_updated": 3}  # one hour's new activity per tenant
SHARDS = (1, 2, 4, 8)  # N processes, --parallel 1
PARALLEL = (4, 8, 16)  # one process
BACKFILL_PARALLEL = 16

# On paper: 10,000 tenants on Cloud Run jobs, 1 vCPU and 1 GiB per task (deploy/gcp/deploy.sh --fleet).
FLEET = 10_000
TASK_SHAPES = [(50, 1), (50, 4), (50, 8), (50, 16), (500, 16)]  # (tenants per task, --parallel); deploy.sh's
# defaults are ceil(tenants / 50) tasks and --parallel 4
ROUNDS_PER_MONTH = 24 * 30
PRICE_SOURCE = "https://cloud.google.com/run/pricing (Tier 1, 'Services with CPU always allocated / Jobs')"
VCPU_SECOND = 0.000018  # USD per vCPU-second beyond the free tier
GIB_SECOND = 0.000002  # USD per GiB-second beyond the free tier

# A zdlogs CLI process that writes its own peak RSS (kB) at exit to $FLEET_ROUND_PEAK.
CHILD = """\
import atexit, os, sys

def _peak():
    line = next(line for line in open('/proc/self/status') if line.startswith('VmHWM:'))
    with open(os.environ['FLEET_ROUND_PEAK'], 'w') as file:
        file.write(line.split()[1])

atexit.register(_peak)
from zdlogs.cli import main
sys.argv[0] = 'zdlogs'
main()
"""

Keys = dict[str, Counter]  # stream -> Counter of record keys


@dataclass
class Round:
    """What one configuration's hourly round cost, and whether it stored the hour exactly once."""

    name: str
    processes: int
    parallel: int
    wall_s: float
    cpu_s: list[float]
    peak_mb: list[float]
    requests: int
    minimum: int
    status_429: int
    new_stored: int
    new_expected: int
    lost: int
    twice: int


# ------------------------------------------------------------------ the fleet's simulator, in its own process


def _serve_fleet(count: int, latency: float, fleet_file: str, pipe: Any) -> None:
    faults = FaultConfig(slow_rate=1.0, slow_seconds=latency) if latency else FaultConfig()
    base = sim_config(**ACCOUNT, faults=faults)
    fleet = SimulatorFleet(fleet_configs(base, count)).start()
    fleet.fleet_yaml(fleet_file)
    pipe.send([(name, sim.url) for name, sim in fleet.members])
    pipe.recv()  # anything (or EOF) means stop
    fleet.stop()


@contextmanager
def fleet_process(count: int, latency: float, fleet_file: Path) -> Iterator[dict[str, SimHandle]]:
    """Serve ``count`` tenants from a forked child (its CPU never counted); their control handles by name."""
    context = multiprocessing.get_context("fork")
    parent, child = context.Pipe()
    process = context.Process(target=_serve_fleet, args=(count, latency, str(fleet_file), child), daemon=True)
    process.start()
    try:
        if not parent.poll(600):
            raise RuntimeError("the simulated fleet did not start within 600 s")
        yield {name: SimHandle(url) for name, url in parent.recv()}
    finally:
        parent.send("stop")
        process.join(30)
        if process.is_alive():
            process.kill()


def write_fleet_file(path: Path, output: Path) -> None:
    """The simulator's fleet file, plus where to write and a 1 s settle delay (the hour is 2 s old when
    collected; a real deployment's 120 s would only shift the window)."""
    data = yaml.safe_load(path.read_text())
    data["defaults"].update(output=str(output), settle_seconds=1)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


# ------------------------------------------------------------------ running collector processes


def collector_env(peak_file: Path) -> dict[str, str]:
    """No Zendesk or zdlogs setting from this shell: the fleet file says everything."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZENDESK_", "ZDLOGS_", "GCS_"))}
    env["FLEET_ROUND_PEAK"] = str(peak_file)
    return env


def run_processes(fleet_file: Path, processes: int, parallel: int, logs: Path) -> tuple[float, list, list]:
    """``processes`` concurrent ``zdlogs run --shard i/N --parallel K``: (wall s, CPU s each, peak MB each)."""
    started, children = time.perf_counter(), []
    for index in range(processes):
        command = [sys.executable, "-c", CHILD, "--log-format", "json", "run", "--config", str(fleet_file),
                   "--shard", f"{index}/{processes}", "--parallel", str(parallel)]  # fmt: skip
        stderr = (logs / f"shard-{index}.log").open("w")
        env = collector_env(logs / f"peak-{index}")
        children.append(subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=stderr))
    usages = [_wait(child, logs / f"shard-{index}.log") for index, child in enumerate(children)]
    wall = time.perf_counter() - started
    peaks = [int((logs / f"peak-{index}").read_text()) / 1024 for index in range(processes)]
    return wall, [usage.ru_utime + usage.ru_stime for usage in usages], peaks


def _wait(child: subprocess.Popen, log: Path) -> Any:
    """The child's own resource usage (``wait4``); a failed run stops the benchmark with its log's tail."""
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        sys.exit(f"a collector failed ({child.returncode}): {log.read_text()[-2000:]}")
    return usage


# ------------------------------------------------------------------ what was stored, what was served


def stored(output: Path, tenants: list[str]) -> dict[str, Keys]:
    """Every record each tenant stored: audit logs by id, ticket versions by (id, updated_at)."""
    return {
        name: {
            "audit_logs": Counter(r["id"] for r in read(output / name, "audit_logs")),
            "incremental_tickets": Counter(
                (r["id"], r["updated_at"]) for r in read(output / name, "incremental_tickets")
            ),
        }
        for name in tenants
    }


def truth(sims: dict[str, SimHandle]) -> dict[str, dict[str, set]]:
    """What each tenant's account holds (and a perfect collector stores), by the same keys."""
    out = {}
    for name, sim in sims.items():
        held = sim.truth()
        out[name] = {
            "audit_logs": {r["id"] for r in held["audit_logs"]},
            "incremental_tickets": {tuple(version) for version in held["ticket_versions"]},
        }
    return out


def minimum_requests(held: dict[str, set], before: Keys) -> int:
    """``requests_per_run``'s minimum for one tenant's hour: ``max(1, ceil(new / page))`` per stream."""
    return sum(max(1, math.ceil(len(held[s] - set(before[s])) / PAGE_SIZES[s])) for s in PAGE_SIZES)


def count_check(held: dict[str, set], before: Keys, after: Keys) -> tuple[int, int, int, int]:
    """(new stored, new expected, lost, stored twice) for one tenant, over both streams."""
    new_stored = new_expected = lost = twice = 0
    for stream in PAGE_SIZES:
        new = held[stream] - set(before[stream])
        new_expected += len(new)
        new_stored += sum(after[stream][key] for key in new)
        lost += len(held[stream] - set(after[stream]))
        twice += sum(count - 1 for count in after[stream].values() if count > 1)
    return new_stored, new_expected, lost, twice


def served(sims: dict[str, SimHandle]) -> tuple[int, int]:
    """(API requests, 429s) the simulator answered, over every tenant."""
    requests = too_many = 0
    for sim in sims.values():
        stats = sim.stats()
        requests += sum(requests_by_stream(stats).values())
        too_many += stats["by_status"].get("429", 0)
    return requests, too_many


# ------------------------------------------------------------------ the round


@dataclass
class Bench:
    """The fleet file, its output, the snapshot after the backfill and the hour, and the truth to check."""

    fleet_file: Path
    output: Path
    snapshot: Path
    logs: Path
    sims: dict[str, SimHandle]
    held: dict[str, dict[str, set]]
    before: dict[str, Keys]

    def restore(self) -> None:
        shutil.rmtree(self.output)
        shutil.copytree(self.snapshot, self.output)
        for sim in self.sims.values():
            sim.reset_stats()

    def measure(self, name: str, processes: int, parallel: int) -> Round:
        """The hourly round as ``processes`` x ``--parallel parallel``, from the snapshot."""
        self.restore()
        wall, cpu, peaks = run_processes(self.fleet_file, processes, parallel, self.logs)
        requests, too_many = served(self.sims)
        after = stored(self.output, list(self.sims))
        checks = [count_check(self.held[t], self.before[t], after[t]) for t in self.sims]
        minimum = sum(minimum_requests(self.held[t], self.before[t]) for t in self.sims)
        totals = [sum(column) for column in zip(*checks, strict=True)]
        return Round(name, processes, parallel, wall, cpu, peaks, requests, minimum, too_many, *totals)


def prepare(bench_dir: Path, sims: dict[str, SimHandle]) -> Bench:
    """Backfill every tenant, append the hour, snapshot the output: the state every configuration starts from."""
    fleet_file, output, logs = bench_dir / "fleet.yaml", bench_dir / "out", bench_dir / "logs"
    logs.mkdir()
    write_fleet_file(fleet_file, output)
    time.sleep(1.1)  # past the simulator's 1 s recent-record exclusion
    wall, cpu, _ = run_processes(fleet_file, 1, BACKFILL_PARALLEL, logs)
    print(f"backfill of {len(sims)} tenants (--parallel {BACKFILL_PARALLEL}): {wall:.1f} s wall, {sum(cpu):.1f} s CPU")
    before = stored(output, list(sims))
    for sim in sims.values():
        sim.append(audit_logs=HOUR["audit_logs"], tickets_updated=HOUR["tickets_updated"])
    time.sleep(2.2)  # past the 1 s settle delay and the 1 s recent-record exclusion
    snapshot = bench_dir / "snapshot"
    shutil.copytree(output, snapshot)
    return Bench(fleet_file, output, snapshot, logs, sims, truth(sims), before)


# ------------------------------------------------------------------ the tables


def report(rounds: list[Round], tenants: int) -> None:
    rows = []
    for r in rounds:
        rows.append(
            [r.name, r.processes, r.parallel, f"{r.wall_s:.1f}", f"{sum(r.cpu_s):.1f}",
             f"{1000 * sum(r.cpu_s) / tenants:.0f}", f"{max(r.peak_mb):.1f}", f"{r.requests / tenants:.2f}",
             f"{r.minimum / tenants:.2f}", f"{r.requests / r.minimum:.3f}x", r.status_429,
             f"{r.new_stored} / {r.new_expected}", f"{r.lost} / {r.twice}"]
        )  # fmt: skip
    header = ["configuration", "processes", "--parallel", "wall (s)", "CPU (s)", "CPU ms/tenant",
              "peak RSS/process (MB)", "requests/tenant", "minimum/tenant", "vs minimum", "429s",
              "new records stored / expected", "lost / stored twice"]  # fmt: skip
    print_table(f"One hourly round of {tenants} tenants", header, rows)


@dataclass(frozen=True)
class Costs:
    """Per-process and per-tenant costs, fitted to the shard runs: total = processes x fixed + T x each."""

    fixed_cpu_s: float
    tenant_cpu_s: float
    tenant_wall_s: float  # one tenant's hourly pass, --parallel 1


def fit(rounds: list[Round], tenants: int) -> Costs:
    """Least squares over the shard rounds: CPU = N * fixed + T * per tenant (N processes, same T tenants)."""
    shards = [r for r in rounds if r.parallel == 1]
    xs, ys = [r.processes for r in shards], [sum(r.cpu_s) for r in shards]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    fixed = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread if spread else 0.0
    per_tenant = (mean_y - fixed * mean_x) / tenants
    sequential = next(r for r in shards if r.processes == 1)
    return Costs(fixed, per_tenant, max(0.0, sequential.wall_s - fixed) / tenants)


def task_seconds(rounds: list[Round], costs: Costs, tenants: int, shape: tuple[int, int]) -> float:
    """One task of ``shape`` (tenants, --parallel): its start-up, then the tenants, each taking the measured
    per-tenant wall time at that --parallel, but never less than its CPU on the task's one vCPU."""
    per_task, parallel = shape
    measured = next((r for r in rounds if r.processes == 1 and r.parallel == parallel), None)
    per_tenant = costs.tenant_wall_s / parallel
    if measured is not None:
        per_tenant = max(0.0, measured.wall_s - costs.fixed_cpu_s) / tenants
    return costs.fixed_cpu_s + per_task * max(per_tenant, costs.tenant_cpu_s)


def on_paper(rounds: list[Round], tenants: int) -> None:
    costs = fit(rounds, tenants)
    print(
        f"\nfitted: {costs.fixed_cpu_s:.2f} CPU s per process (start-up), {1000 * costs.tenant_cpu_s:.0f} CPU ms and"
        f" {1000 * costs.tenant_wall_s:.0f} ms wall per tenant at --parallel 1"
    )
    rows = []
    for per_task, parallel in TASK_SHAPES:
        tasks = math.ceil(FLEET / per_task)
        seconds = task_seconds(rounds, costs, tenants, (per_task, parallel))
        billed = math.ceil(seconds * 10) / 10  # Cloud Run rounds up to 100 ms
        per_round = tasks * billed * (VCPU_SECOND + GIB_SECOND)
        rows.append(
            [f"{FLEET:,}", per_task, tasks, tasks, parallel, f"{seconds:.1f}", f"{tasks * billed / 3600:.1f}",
             f"{per_round:.3f}", f"{per_round * ROUNDS_PER_MONTH:.2f}"]
        )  # fmt: skip
    header = ["tenants", "tenants per task", "tasks", "parallelism", "--parallel", "round = task duration (s)",
              "task-hours per round", "USD per round", "USD per month (720 rounds)"]  # fmt: skip
    print_table("On paper: the hourly round of 10,000 tenants on Cloud Run jobs (1 vCPU, 1 GiB per task)", header, rows)
    print(f"\nprice: ${VCPU_SECOND:.6f}/vCPU-s + ${GIB_SECOND:.6f}/GiB-s, {PRICE_SOURCE}; before the free tier")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per API request (Zendesk: ~0.05)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fleet-round-") as tmp:
        bench_dir = Path(tmp)
        with fleet_process(args.tenants, args.latency, bench_dir / "fleet.yaml") as sims:
            bench = prepare(bench_dir, sims)
            configs = [(f"{n} shard{'s' * (n > 1)}", n, 1) for n in SHARDS]
            configs += [(f"--parallel {k}", 1, k) for k in PARALLEL]
            rounds = [bench.measure(*config) for config in configs]
    report(rounds, args.tenants)
    on_paper(rounds, args.tenants)


if __name__ == "__main__":
    main()
