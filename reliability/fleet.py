"""Fleet suites (issue 15): the crash, concurrency and faults suites with many tenants in one deployment.

    .venv/bin/python -m reliability.fleet crash --kills 100 --tenants 8 --parallel 4
    .venv/bin/python -m reliability.fleet concurrency --rounds 20 --tenants 8 --parallel 4
    .venv/bin/python -m reliability.fleet faults --tenants 6 --faulty 3 --parallel 3

One simulated account per tenant (``SimulatorFleet``: its own records, credentials and port), one fleet file
(the simulator's, with every tenant's output under one local root), ``zdlogs run --config`` as processes:

* **crash**: ``--parallel K`` runs (several tenants in flight in one process, threads) SIGKILLed at random
  moments while records arrive on every tenant; every ``--shard-every`` kills, a sharded round (``--shards N``
  processes ``--shard i/N``) in which one shard is killed and then re-run;
* **concurrency**: rounds of overlapping runs on the same tenants — the whole fleet, two processes given the same
  shard (a Cloud Run job configured wrongly) and two given the same ``--tenant`` (a fan-out message delivered
  twice at once): per tenant, the lease lets one collect and the others skip; no two collections of a tenant
  overlap in time (read from their log lines);
* **faults**: after a healthy backfill, one healthy hour and one hour in which ``--faulty`` tenants answer 401,
  403, 429 storms, 5xx outages or hang (the simulator's FaultConfig; kinds given in turn): the healthy tenants
  collect their hour fully, at the minimum request count, in about their healthy hour's wall time; the run
  exits 4 naming exactly the failed tenants; once Zendesk behaves, the faulty ones catch up.

Every suite ends with clean runs that catch up, then judges each tenant against its own simulator's truth
(``common.compare``: 0 lost, 0 duplicated, 0 invented), and the whole output root: every file under a tenant's
prefix, every record's URL naming its own tenant's host (a record of one tenant under another's prefix would
show there), no 401 at a healthy tenant's host (every tenant's credential differs: one sent to another host is
refused), no tenant's token in what the runs printed or stored.
"""

from __future__ import annotations

import argparse
import base64
import itertools
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml
from benchmarks.requests_per_run import PAGE_SIZES

from reliability.common import DEFAULT_STREAMS, Outcome, account, compare, env_for, records
from reliability.crash import last_event, log_events
from reliability.targets import parse_resources
from zdlogs.simulator import FaultConfig, Simulator, SimulatorFleet, fleet_configs
from zdlogs.simulator._http import Response, json_response

FAULT_KINDS = ("401", "403", "429", "5xx", "hang")
CATCH_UP_RUNS = 30


# ------------------------------------------------------------------ the simulated fleet and its runs


@dataclass
class Run:
    """One ``zdlogs run --config`` process that ended: its arguments, exit code and what it printed."""

    args: tuple[str, ...]
    code: int
    out: str
    err: str
    killed: bool = False

    @property
    def events(self) -> list[dict]:
        return log_events(self.err)

    def tenant_events(self, tenant: str) -> list[dict]:
        return [event for event in self.events if event.get("tenant") == tenant]

    def statuses(self) -> dict[str, dict[str, str]]:
        """tenant -> stream -> the status its ``stream_summary`` line gave (ok, limited, failed...)."""
        found: dict[str, dict[str, str]] = {}
        for event in self.events:
            if event.get("event") == "stream_summary" and "tenant" in event:
                found.setdefault(event["tenant"], {})[event["stream"]] = event["status"]
        return found


@dataclass
class Rig:
    """The simulators of a fleet, its fleet file and the output root every tenant writes under."""

    root: Path
    fleet_file: Path
    sims: dict[str, Simulator]
    streams: tuple[str, ...]
    printed: list[str] = field(default_factory=list)  # everything every run printed, searched for tokens

    @property
    def names(self) -> list[str]:
        return sorted(self.sims)

    def env(self, **extra: str) -> dict[str, str]:
        """The one-account suites' environment without its account: a fleet refuses a URL or token there."""
        env = env_for("", str(self.root), RESOURCES=",".join(self.streams), **extra)
        return {key: value for key, value in env.items() if not key.startswith("ZENDESK_")}

    def start(self, env: dict[str, str], *args: str) -> subprocess.Popen:
        command = [sys.executable, "-m", "zdlogs", "--log-format", "json", "run", "--config", str(self.fleet_file)]
        return subprocess.Popen([*command, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def finish(self, process: subprocess.Popen, args: tuple[str, ...], killed: bool = False) -> Run:
        out, err = process.communicate(timeout=600)
        self.printed += [out, err]
        return Run(args, process.returncode, out, err, killed)

    def run(self, env: dict[str, str], *args: str) -> Run:
        return self.finish(self.start(env, *args), args)

    def activity(self, rng: random.Random, scale: float = 1.0) -> None:
        """New records on every tenant: audit records and ticket updates, as the one-account suites add."""
        for sim in self.sims.values():
            sim.append_audit_logs(rng.randint(int(10 * scale), int(60 * scale)))
            sim.update_tickets(rng.randint(0, max(1, int(3 * scale))))

    def set_token(self, tenant: str, token: str) -> None:
        """Give one tenant another API token in the fleet file (a revoked credential: its host answers 401)."""
        data = yaml.safe_load(self.fleet_file.read_text())
        data["tenants"][tenant]["api_token"] = token
        self.fleet_file.write_text(yaml.safe_dump(data, sort_keys=False))


@contextmanager
def fleet_rig(tenants: int, streams: tuple[str, ...], latency: float, **sizes: int) -> Iterator[Rig]:
    """``tenants`` simulated accounts (``sizes`` each, answers after ``latency`` s) and their fleet file."""
    slow = FaultConfig(slow_rate=1.0, slow_seconds=latency)
    with (
        tempfile.TemporaryDirectory(prefix="fleet-") as tmp,
        SimulatorFleet(fleet_configs(account(**sizes, faults=slow), tenants)) as fleet,
    ):
        fleet_file = Path(tmp) / "fleet.yaml"
        fleet.fleet_yaml(fleet_file)
        yield Rig(Path(tmp) / "out", fleet_file, dict(fleet.members), streams)


def catch_up(rig: Rig, parallel: int, before_each: Callable[[], None] | None = None) -> int:
    """Clean fleet runs until every tenant's every stream ends ``ok`` in one run: what the next scheduled runs
    would do. Returns how many runs it took."""
    env = rig.env(MAX_PAGES="1000")
    time.sleep(2.2)  # past the settle delay and the simulator's recent-record exclusion
    for number in range(1, CATCH_UP_RUNS + 1):
        if before_each:
            before_each()
        done = rig.run(env, "--parallel", str(parallel))
        statuses = done.statuses()
        caught_up = all(set(statuses.get(name, {}).values()) == {"ok"} for name in rig.names)
        if done.code == 0 and caught_up:
            return number
    raise RuntimeError(f"the fleet did not catch up in {CATCH_UP_RUNS} runs")


# ------------------------------------------------------------------ judging the output root


def outcomes(rig: Rig) -> dict[str, Outcome]:
    """Each tenant's stored records against its own simulator's truth."""
    return {
        name: compare(sim.truth(), {stream: records(rig.root / name, stream) for stream in rig.streams})
        for name, sim in rig.sims.items()
    }


def files_outside_tenants(rig: Rig) -> list[str]:
    """Files of the output root that are not under one tenant's own prefix ``ROOT/<tenant>/``."""
    found = (path.relative_to(rig.root) for path in rig.root.rglob("*") if path.is_file())
    return sorted(str(path) for path in found if len(path.parts) < 2 or path.parts[0] not in rig.sims)


def misplaced_records(rig: Rig) -> int:
    """Records under a tenant's prefix whose own URL names another host than that tenant's simulator."""
    wrong = 0
    for name, sim in rig.sims.items():
        for stream in rig.streams:
            wrong += sum(1 for record in records(rig.root / name, stream) if not _from(record, sim.url))
    return wrong


def _from(record: dict, url: str) -> bool:
    return str(record.get("url", "")).startswith(f"{url}/")


def foreign_credentials(rig: Rig, refused: Collection[str]) -> int:
    """401 answers at the hosts of tenants that were never given a bad token: a credential of another tenant
    sent there would be one (each tenant's token is its own)."""
    return sum(sim.stats()["by_status"].get("401", 0) for name, sim in rig.sims.items() if name not in refused)


def leaked(rig: Rig) -> int:
    """Every tenant's API token (raw, and inside its Basic credential) in what the runs printed and stored."""
    forms = []
    for sim in rig.sims.values():
        basic = base64.b64encode(f"{sim.config.email}/token:{sim.config.api_token}".encode()).decode()
        forms += [sim.config.api_token, basic]
    stored = [path.read_bytes() for path in rig.root.rglob("*") if path.is_file()]
    texts = [text.encode() for text in rig.printed] + stored
    return sum(data.count(form.encode()) for data in texts for form in forms)


def verdict(rig: Rig, refused: Collection[str] = (), extra_ok: bool = True) -> bool:
    """Print every tenant's lines and the root's checks; True when all of them are clean."""
    found = outcomes(rig)
    for name, outcome in found.items():
        for item in outcome.streams:
            print(f"  {name} {item.line()}")
    outside, wrong = files_outside_tenants(rig), misplaced_records(rig)
    credentials, tokens = foreign_credentials(rig, refused), leaked(rig)
    print(f"  files outside a tenant's prefix {len(outside)}{': ' + ', '.join(outside[:5]) if outside else ''}")
    print(f"  records under another tenant's prefix {wrong}")
    print(f"  401s at the hosts of tenants whose token was good {credentials}")
    print(f"  API token occurrences in the runs' output and the storage {tokens}")
    clean = all(outcome.clean for outcome in found.values())
    passed = clean and not (outside or wrong or credentials or tokens) and extra_ok
    print(f"  result: {'PASS' if passed else 'FAIL'}")
    return passed


# ------------------------------------------------------------------ crash


def in_flight(run: Run, rig: Rig) -> int:
    """Tenants a killed run had started and not finished: a line of theirs, but not their last stream's summary."""
    last = rig.streams[-1]
    started = {event["tenant"] for event in run.events if "tenant" in event}
    finished = {tenant for tenant, streams in run.statuses().items() if last in streams}
    return len(started - finished)


@dataclass
class Kills:
    """What the crash loop did: kills of ``--parallel`` runs, kills of one shard, where they landed."""

    rng: random.Random = field(default_factory=random.Random)
    fleet: int = 0
    shards: int = 0
    completed: int = 0
    in_flight: Counter = field(default_factory=Counter)  # tenants in flight at a kill -> kills
    phases: Counter = field(default_factory=Counter)  # last log event -> kills

    def note(self, run: Run, rig: Rig) -> None:
        self.in_flight[in_flight(run, rig)] += 1
        self.phases[last_event(run.err)] += 1


def kill_after(process: subprocess.Popen, seconds: float) -> bool:
    """SIGKILL ``process`` after ``seconds`` unless it ended first; True when it was killed."""
    time.sleep(seconds)
    if process.poll() is not None:
        return False
    process.send_signal(signal.SIGKILL)
    return True


@dataclass
class Timing:
    """How long a run takes, and how long before its first tenant's first line (start-up: imports, the fleet
    file), both learnt from the runs that ended before their kill; kills are drawn between the two, so most
    land while tenants are in flight rather than while the interpreter starts."""

    typical: float
    startup: float = 0.4

    def draw(self, rng: random.Random) -> float:
        return rng.uniform(min(self.startup, self.typical) * 0.8, self.typical)

    def learn(self, run: Run, started: float, wall: float) -> None:
        self.typical = 0.7 * self.typical + 0.3 * wall
        first = next((event for event in run.events if "tenant" in event and "timestamp" in event), None)
        if first is not None:
            startup = datetime.fromisoformat(first["timestamp"]).timestamp() - started
            self.startup = 0.7 * self.startup + 0.3 * startup


def kill_fleet_run(rig: Rig, env: dict[str, str], parallel: int, timing: Timing, kills: Kills) -> bool:
    """One ``--parallel`` run killed at a moment drawn from ``timing``; True when it was killed (a run that
    ended first teaches ``timing``)."""
    args, wait = ("--parallel", str(parallel)), timing.draw(kills.rng)
    started, wall_started = time.monotonic(), time.time()
    process = rig.start(env, *args)
    killed = kill_after(process, wait)
    run = rig.finish(process, args, killed)
    if not killed:
        kills.completed += 1
        timing.learn(run, wall_started, time.monotonic() - started)
        return False
    kills.fleet += 1
    kills.note(run, rig)
    return True


def kill_one_shard(rig: Rig, env: dict[str, str], shards: int, timing: Timing, kills: Kills) -> None:
    """A sharded round (``--shard i/N``, one process each) with one shard killed mid-round, then re-run."""
    victim = kills.rng.randrange(shards)
    processes = [(rig.start(env, "--shard", f"{i}/{shards}"), ("--shard", f"{i}/{shards}")) for i in range(shards)]
    killed = kill_after(processes[victim][0], timing.draw(kills.rng))
    for index, (process, args) in enumerate(processes):
        run = rig.finish(process, args, killed and index == victim)
        if run.killed:
            kills.shards += 1
            kills.note(run, rig)
    if killed:
        rig.run(env, *processes[victim][1])  # the job's retry of the failed task


def crash(args: argparse.Namespace) -> bool:
    rng = random.Random(args.seed)
    kills = Kills(rng=rng)
    with fleet_rig(args.tenants, args.resources, args.latency, audit_logs=1500, tickets=200) as rig:
        env, started = rig.env(MAX_PAGES="8"), time.monotonic()
        timing = Timing(0.6 + 10 * args.latency * len(rig.streams) * args.tenants / args.parallel)
        while kills.fleet + kills.shards < args.kills:
            killed = kill_fleet_run(rig, env, args.parallel, timing, kills)
            rig.activity(rng, scale=args.activity)
            if args.shard_every and killed and kills.fleet % args.shard_every == 0:
                kill_one_shard(rig, env, args.shards, timing, kills)
                rig.activity(rng, scale=args.activity)
        runs = catch_up(rig, args.parallel)
        print(
            f"fleet crash suite [{args.tenants} tenants, --parallel {args.parallel}, {','.join(rig.streams)}]: "
            f"{kills.fleet} SIGKILLs of --parallel runs and {kills.shards} of one shard of {args.shards} "
            f"(re-run after), {kills.completed} runs ended before their kill, in {time.monotonic() - started:.0f}s; "
            f"caught up in {runs} clean runs"
        )
        print(
            f"  a whole run took {timing.typical:.1f}s, its start-up {timing.startup:.1f}s (learnt: kills fall between)"
        )
        print("  tenants in flight at a kill: " + ", ".join(f"{k}: {v}" for k, v in sorted(kills.in_flight.items())))
        print("  killed after (last log event): " + ", ".join(f"{k} {v}" for k, v in kills.phases.most_common(8)))
        return verdict(rig)


# ------------------------------------------------------------------ concurrency


def overlapping_runs(names: list[str], parallel: int, rng: random.Random) -> list[tuple[str, ...]]:
    """One round's processes, all on the same tenants at once: the whole fleet; two given the same shard (a
    job's shards configured wrongly); two given the same tenant (one fan-out message delivered twice)."""
    tenant = rng.choice(names)
    fleet, shard = ("--parallel", str(parallel)), ("--shard", "0/2", "--parallel", str(parallel))
    return [fleet, shard, shard, ("--tenant", tenant), ("--tenant", tenant)]


def collection_span(run: Run, tenant: str) -> tuple[datetime, datetime] | None:
    """When ``run`` collected ``tenant`` (its first to last line, all inside the lease), None if it skipped it."""
    events = run.tenant_events(tenant)
    if not events or any(event.get("event") == "lease_held_elsewhere" for event in events):
        return None
    moments = [datetime.fromisoformat(event["timestamp"]) for event in events]
    return min(moments), max(moments)


def overlaps(spans: list[tuple[datetime, datetime]]) -> int:
    """Pairs of collections of one tenant that were in progress at the same moment (the lease forbids any)."""
    ordered = sorted(spans)
    return sum(1 for (_, end), (start, _) in itertools.pairwise(ordered) if start < end)


@dataclass
class Tally:
    """Per tenant-run: collected or found the lease held; per process: its exit code; overlapping collections."""

    outcomes: Counter = field(default_factory=Counter)
    exits: Counter = field(default_factory=Counter)
    overlapping: int = 0

    def add(self, runs: list[Run], names: list[str]) -> None:
        for run in runs:
            self.exits[run.code] += 1
        for tenant in names:
            spans = [span for run in runs if (span := collection_span(run, tenant))]
            self.overlapping += overlaps(spans)
            self.outcomes["collected"] += len(spans)
            held = sum(
                1 for run in runs for event in run.tenant_events(tenant) if event["event"] == "lease_held_elsewhere"
            )
            self.outcomes["lease held elsewhere, skipped"] += held


def concurrency(args: argparse.Namespace) -> bool:
    rng, tally = random.Random(args.seed), Tally()
    with fleet_rig(args.tenants, args.resources, args.latency, audit_logs=1000, tickets=150) as rig:
        env, started = rig.env(MAX_PAGES="5"), time.monotonic()
        for _ in range(args.rounds):
            round_args = overlapping_runs(rig.names, args.parallel, rng)
            processes = [(rig.start(env, *each), each) for each in round_args]
            tally.add([rig.finish(process, each) for process, each in processes], rig.names)
            rig.activity(rng, scale=0.5)
        runs = catch_up(rig, args.parallel)
        print(
            f"fleet concurrency suite [{args.tenants} tenants, --parallel {args.parallel}]: {args.rounds} rounds of "
            f"5 overlapping runs in {time.monotonic() - started:.0f}s; caught up in {runs} clean runs"
        )
        print("  tenant-runs: " + ", ".join(f"{k}: {v}" for k, v in sorted(tally.outcomes.items())))
        print("  process exit codes: " + ", ".join(f"{k}: {v}" for k, v in sorted(tally.exits.items())))
        print(f"  collections of one tenant overlapping in time {tally.overlapping}")
        return verdict(rig, extra_ok=tally.overlapping == 0 and set(tally.exits) == {0})


# ------------------------------------------------------------------ faults


def forbidden(_body: dict) -> Response:
    """Zendesk's 403 for every API path: the account's plan or the token's role lost the right."""
    return json_response(403, {"error": "Forbidden", "description": "You do not have access to this page."})


def break_tenant(rig: Rig, tenant: str, kind: str, hang_seconds: float) -> None:
    """Make one tenant's Zendesk fail the ``kind`` way (401, 403, 429, 5xx, hang)."""
    sim = rig.sims[tenant]
    if kind == "401":
        rig.set_token(tenant, "revoked-token")
    elif kind == "403":
        sim.tamper(r"^/api/v2/", forbidden)
    elif kind == "429":
        sim.set_faults(FaultConfig(rate_limit_rate=1.0, retry_after_seconds=1))
    elif kind == "5xx":
        sim.set_faults(FaultConfig(error_rate=1.0, retry_after_seconds=1))
    else:
        sim.set_faults(FaultConfig(slow_rate=1.0, slow_seconds=hang_seconds))


def mend_tenant(rig: Rig, tenant: str, latency: float) -> None:
    sim = rig.sims[tenant]
    rig.set_token(tenant, sim.config.api_token)
    sim.clear_tampering()
    sim.set_faults(FaultConfig(slow_rate=1.0, slow_seconds=latency))


@dataclass
class Hour:
    """One hourly round of the fleet: the run, and per tenant its requests, minimum and wall time."""

    run: Run
    wall: float
    requests: dict[str, int]
    minimum: dict[str, int]

    def own_seconds(self, tenant: str) -> float:
        """The seconds the tenant's streams took (their ``stream_summary`` lines): its own time, not its wait
        for a worker of the pool."""
        events = self.run.tenant_events(tenant)
        return sum(float(event["seconds"]) for event in events if event.get("event") == "stream_summary")

    def done_at(self, tenant: str) -> float:
        """Seconds from the run's first log line to the tenant's last: when, in the round, it was done."""
        moments = [datetime.fromisoformat(event["timestamp"]) for event in self.run.events if "timestamp" in event]
        own = [datetime.fromisoformat(event["timestamp"]) for event in self.run.tenant_events(tenant)]
        return (max(own) - min(moments)).total_seconds() if own else 0.0

    def failed(self) -> set[str]:
        summary = next((e for e in self.run.events if e.get("event") == "fleet_summary"), {})
        return {tenant for tenant, problem in summary.get("tenants", {}).items() if problem != "ok"}


def minimum_requests(sim: Simulator, before: dict[str, int], streams: tuple[str, ...]) -> int:
    """``requests_per_run``'s minimum for a tenant's hour: ``max(1, ceil(new / page))`` per stream."""
    held = sizes(sim)
    return sum(max(1, -(-(held[stream] - before[stream]) // PAGE_SIZES[stream])) for stream in streams)


def sizes(sim: Simulator) -> dict[str, int]:
    truth = sim.truth()
    return {"audit_logs": len(truth["audit_logs"]), "incremental_tickets": len(truth["ticket_versions"])}


def hour(rig: Rig, env: dict[str, str], parallel: int, rng: random.Random) -> Hour:
    """An hour's activity on every tenant, then one fleet run collecting it, counted per tenant."""
    before = {name: sizes(sim) for name, sim in rig.sims.items()}
    rig.activity(rng)
    time.sleep(2.2)  # the hour is older than the settle delay when collected
    for sim in rig.sims.values():
        sim.reset_stats()
    started = time.monotonic()
    done = rig.run(env, "--parallel", str(parallel))
    requests = {name: sim.stats()["requests"] for name, sim in rig.sims.items()}
    minimum = {name: minimum_requests(sim, before[name], rig.streams) for name, sim in rig.sims.items()}
    return Hour(done, time.monotonic() - started, requests, minimum)


def faulty_tenants(names: list[str], count: int) -> list[str]:
    """``count`` tenants spread over the name order (every other one first), so shards and pools mix them."""
    return (names[::2] + names[1::2])[:count]


def faults(args: argparse.Namespace) -> bool:
    if set(args.resources) - set(PAGE_SIZES):
        raise SystemExit("the faults suite counts requests on audit_logs and incremental_tickets only")
    rng = random.Random(args.seed)
    with fleet_rig(args.tenants, args.resources, args.latency, audit_logs=600, tickets=100) as rig:
        env = rig.env(MAX_PAGES="1000", HTTP_TIMEOUT="1", HTTP_RETRIES=str(args.retries))
        catch_up(rig, args.parallel)  # the backfill, every tenant healthy
        healthy_hour = hour(rig, env, args.parallel, rng)
        broken = dict(zip(faulty_tenants(rig.names, args.faulty), _kinds(args), strict=False))
        for tenant, kind in broken.items():
            break_tenant(rig, tenant, kind, args.hang_seconds)
        faulty_hour = hour(rig, env, args.parallel, rng)
        for tenant in broken:
            mend_tenant(rig, tenant, args.latency)
        runs = catch_up(rig, args.parallel)
        ok = print_hours(rig, broken, healthy_hour, faulty_hour)
        print(f"  the faulty tenants caught up in {runs} clean runs once their Zendesk behaved")
        return verdict(rig, refused={t for t, kind in broken.items() if kind == "401"}, extra_ok=ok)


def _kinds(args: argparse.Namespace) -> list[str]:
    return [args.kinds[index % len(args.kinds)] for index in range(args.faulty)]


def print_hours(rig: Rig, broken: dict[str, str], healthy: Hour, faulty: Hour) -> bool:
    """The table of both hours per tenant; True when the faulty hour failed exactly the broken tenants (exit 4,
    each named in the error) and every healthy tenant made its minimum requests in both hours."""
    print(
        f"fleet faults suite [{len(rig.names)} tenants, {len(broken)} faulty]: healthy hour {healthy.wall:.1f}s "
        f"(exit {healthy.run.code}), faulty hour {faulty.wall:.1f}s (exit {faulty.run.code})"
    )
    print(
        "  tenant | fault | healthy hour: requests / minimum, own s, done at s | faulty hour: requests / minimum, "
        "own s, done at s | result"
    )
    for name in rig.names:
        result = "failed" if name in faulty.failed() else "ok"
        print(
            f"  {name} | {broken.get(name, '-')} | {healthy.requests[name]} / {healthy.minimum[name]}, "
            f"{healthy.own_seconds(name):.2f}, {healthy.done_at(name):.2f} | {faulty.requests[name]} / "
            f"{faulty.minimum[name]}, {faulty.own_seconds(name):.2f}, {faulty.done_at(name):.2f} | {result}"
        )
    error = faulty.run.err.strip().splitlines()[-1] if faulty.run.err.strip() else ""
    print(f"  the faulty hour's last line: {error[:300]}")
    named = all(name in error for name in broken) and not any(name in error for name in rig.names if name not in broken)
    at_minimum = all(
        each.requests[name] == each.minimum[name]
        for each in (healthy, faulty)
        for name in rig.names
        if name not in broken
    )
    expected_code = 1 if len(broken) == len(rig.names) else 4 if broken else 0
    checks = {
        "faulty hour's exit code": faulty.run.code == expected_code,
        "failed tenants are the faulty ones": faulty.failed() == set(broken),
        "the error line names each failed tenant, no other": named,
        "healthy tenants at their minimum requests": at_minimum,
        "healthy hour exit 0": healthy.run.code == 0,
    }
    for check, passed in checks.items():
        print(f"  {check}: {'yes' if passed else 'NO'}")
    return all(checks.values())


# ------------------------------------------------------------------ the command line


def arguments() -> argparse.ArgumentParser:
    """One subcommand per suite, each taking the fleet's shape (``--tenants``, ``--parallel``...) after it."""
    fleet = argparse.ArgumentParser(add_help=False)
    fleet.add_argument("--tenants", type=int, default=8)
    fleet.add_argument("--parallel", type=int, default=4, help="tenants at once in one zdlogs run")
    fleet.add_argument("--latency", type=float, default=0.3, help="seconds each simulated Zendesk takes per answer")
    fleet.add_argument("--resources", type=parse_resources, default=DEFAULT_STREAMS)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    suites = parser.add_subparsers(dest="suite", required=True)
    crashes = suites.add_parser("crash", parents=[fleet], help="SIGKILLed --parallel runs and shards")
    crashes.add_argument("--kills", type=int, default=100)
    crashes.add_argument("--shards", type=int, default=2)
    crashes.add_argument("--shard-every", type=int, default=10, help="a round with one shard killed every N kills")
    crashes.add_argument("--activity", type=float, default=2.0, help="new records per tenant between runs: x 10-60")
    crashes.add_argument("--seed", type=int, default=1)
    rounds = suites.add_parser("concurrency", parents=[fleet], help="overlapping runs on the same tenants")
    rounds.add_argument("--rounds", type=int, default=20)
    rounds.add_argument("--seed", type=int, default=3)
    broken = suites.add_parser("faults", parents=[fleet], help="some tenants' Zendesk failing, the others not")
    broken.add_argument("--faulty", type=int, default=3)
    broken.add_argument("--kinds", type=lambda text: text.split(","), default=list(FAULT_KINDS))
    broken.add_argument("--retries", type=int, default=2, help="HTTP_RETRIES of the runs")
    broken.add_argument("--hang-seconds", type=float, default=3.0, help="a hanging host answers after this")
    broken.add_argument("--seed", type=int, default=5)
    return parser


def main() -> bool:
    args = arguments().parse_args()
    return {"crash": crash, "concurrency": concurrency, "faults": faults}[args.suite](args)


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
