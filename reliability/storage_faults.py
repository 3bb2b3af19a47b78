"""Storage-fault suite: collection runs while the storage fails (not Zendesk), with records arriving between runs.

    .venv/bin/python -m reliability.storage_faults --runs 12 --storage gcs --seed 1
    .venv/bin/python -m reliability.storage_faults --runs 12 --storage s3 --seed 1
    .venv/bin/python -m reliability.storage_faults --runs 12 --storage secops --seed 1  # state store on GCS

Each ``zdlogs run`` is a process whose storage client talks to a seeded fault-injecting proxy
(``reliability/fault_proxy.py``) in front of fake-gcs-server or moto's server; for ``secops`` the proxy is in
front of the fake GCS bucket holding the output's state store (``ZDLOGS_SECOPS_STATE=gs://...``: checkpoints,
lease, delivery markers) and the fake SecOps API takes the records. Every request may get a random fault
(``--fault-rate``: 503 with and without Retry-After, 500, 429, a reset before forwarding, a reset after it, a
slow answer); every ``--outage-every``-th run an outage is aimed in turn at data objects, checkpoints, leases
(and SecOps markers): one write of that kind lands, its answer is lost, then every request gets 503 until the
storage client has given up on that write (it sends something else: the proxy sees it), and ``--outage-tail``
seconds more at most. Between runs new records arrive.

Judged against the simulator's truth: 0 lost, 0 duplicated (SecOps, which has no idempotent write: within its
documented bound of one batch per interrupted run), no traceback in any output, every non-zero exit's last
line naming the storage as the cause (never "another writer" nor "another run took over the lease": there is
none; never Zendesk), and after every run the checkpoint never ahead of the stored data (state.json read from
the bucket behind the proxy: every record before each stream's checkpoint, and before a pending page's
checkpoint once that page is stored, is stored).

So an outage outlasts the client's retry deadline, whichever it is: google-cloud-storage's (~120 s, so a GCS
outage lasts 1-2 minutes), boto3's 5 attempts (seconds), or zdlogs' own storage deadline when the installed
zdlogs has that setting (the suite sets it to ``--storage-deadline``).
"""

from __future__ import annotations

import argparse
import base64
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from tests.destinations.secops_fake import FakeSecOps, make_service_account
from tests.gcs_fixture import FakeGCS, running_fake_gcs

from reliability.common import report
from reliability.fault_proxy import FaultPlan, FaultProxy, Outage
from reliability.targets import Harness, SecOpsStorage, Storage, add_arguments, storage
from zdlogs.config import DEFAULT_STATE_KEY, Settings, env_name
from zdlogs.destinations.secops import MARKERS
from zdlogs.simulator import Simulator

LIBRARY_DEADLINES = {
    "gcs": "google-cloud-storage's, ~120 s",
    "s3": "boto3's 5 attempts",
    "secops": "google-cloud-storage's, ~120 s",
}
DEADLINE_FIELDS = ("storage_timeout", "storage_retry_deadline", "storage_deadline")
CAUSE = {"gcs": r"\bGCS\b|gs://", "s3": r"\bS3\b|s3://", "secops": r"\bGCS\b|gs://"}  # secops: its state store
MISLEADING = ("another writer", "another run took over", "Zendesk", "still failing after retries")
TARGETS = {"gcs": ("data", "state", "lease"), "s3": ("data", "state", "lease"), "secops": ("marker", "state", "lease")}
TRACEBACK = "Traceback (most recent call last)"


def deadline_field() -> str | None:
    """zdlogs' own storage retry deadline setting, if this zdlogs has one (issue 19 adds it)."""
    return next((name for name in DEADLINE_FIELDS if name in Settings.model_fields), None)


# -- judging one run ---------------------------------------------------------------------------------------


def last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def wrong_cause(code: int, stderr: str, storage_kind: str) -> str:
    """Why a run's exit does not name the storage as its cause ("" when it does, or when it exited 0)."""
    if code == 0:
        return ""
    last = last_line(stderr)
    if not last.startswith("zdlogs: error:"):
        return f"exit {code}, last line is not the error: {last[:160]!r}"
    for phrase in MISLEADING:
        if phrase in last:
            return f"exit {code}, says {phrase!r}: {last[:300]}"
    if not re.search(CAUSE[storage_kind], last):
        return f"exit {code}, does not name the storage: {last[:300]}"
    return "" if code == 5 else f"exit {code}, not a storage error's 5: {last[:300]}"


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def epoch(value: str) -> int:
    return int(parse_time(value).timestamp())


def export_cursor_key(cursor: str) -> tuple[int, int]:
    """The simulator's incremental-export cursor (base64 of ``<epoch>.0||<id>|``) as (epoch, id)."""
    text = base64.b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    stamp, _, rest = text.partition("||")
    return int(float(stamp)), int(rest.strip("|"))


def latest(versions: list) -> dict[Any, str]:
    found: dict[Any, str] = {}
    for record_id, updated in versions:
        found[record_id] = max(found.get(record_id, updated), updated)
    return found


WINDOWED = {"audit_logs": ("audit_logs", "created_at"), "access_logs": ("access_logs", "timestamp")}
CURSOR = {"incremental_tickets": "ticket_versions", "users": "user_versions"}
START_TIME = {"organizations": "organization_versions"}
CHECKED = (*WINDOWED, *CURSOR, *START_TIME)  # ticket_events' truth has no times: not checked


def uncovered(stream: str, checkpoint: dict, truth: dict, stored: list[dict]) -> int:
    """Records the next run would not fetch again (they are before ``checkpoint``) that are not stored."""
    if not checkpoint or stream not in CHECKED:
        return 0
    if stream in WINDOWED:
        key, time_field = WINDOWED[stream]
        since, seen = parse_time(checkpoint["since"]), set(checkpoint.get("seen_ids", []))
        have = {record["id"] for record in stored}
        before = [r for r in truth[key] if (t := parse_time(r[time_field])) < since or (t == since and r["id"] in seen)]
        return sum(1 for record in before if record["id"] not in have)
    have_versions = {(record["id"], record["updated_at"]) for record in stored}
    newest = latest(truth[CURSOR.get(stream) or START_TIME[stream]])
    if stream in CURSOR:
        position = export_cursor_key(checkpoint["cursor"])
        passed = [(i, u) for i, u in newest.items() if (epoch(u), i) <= position]
    else:
        start, seen = checkpoint["start_time"], set(checkpoint.get("seen_ids", []))
        passed = [(i, u) for i, u in newest.items() if epoch(u) < start or (epoch(u) == start and i in seen)]
    return sum(1 for version in passed if version not in have_versions)


def checkpoint_gaps(
    state: dict, truth: dict, stored: Callable[[str], list[dict]], delivered: Callable[[str], bool]
) -> list[str]:
    """One line per stream whose checkpoint (or stored pending page's checkpoint) is ahead of its data."""
    gaps = []
    for stream, entry in state.get("streams", {}).items():
        points = [("checkpoint", entry.get("checkpoint") or {})]
        pending = entry.get("pending")
        if pending and delivered(pending["key"]):
            points.append(("pending page's checkpoint", pending["checkpoint"]))
        for label, checkpoint in points:
            missing = uncovered(stream, checkpoint, truth, stored(stream))
            if missing:
                gaps.append(f"{stream}: {missing} records before its {label} {checkpoint} are not stored")
    return gaps


# -- the storage behind the proxy --------------------------------------------------------------------------


@dataclass
class SecOpsOnGCS(SecOpsStorage):
    """SecOps holds the records; the state store (checkpoints, lease, markers) is a bucket on fake GCS."""

    gcs: FakeGCS | None = None
    bucket: str = ""

    def names(self, prefix: str = "zendesk/crm/") -> list[str]:
        assert self.gcs
        return self.gcs.names(self.bucket, prefix)

    def read(self, name: str) -> bytes:
        assert self.gcs
        return self.gcs.read(self.bucket, name) or b""


@dataclass
class Rig:
    """A storage with the fault proxy in front of it: ``store.env`` points zdlogs at the proxy."""

    kind: str
    store: Storage
    proxy: FaultProxy

    def state(self) -> dict:
        raw = self._read(DEFAULT_STATE_KEY)
        return orjson.loads(raw) if raw else {}

    def wait_for_lease(self) -> None:
        """A run that could not release its lease (the storage failing) leaves it until it expires
        (ZDLOGS_LEASE_TTL=5): wait that out, as the next hourly run would find it long expired."""
        raw = self._read(DEFAULT_STATE_KEY + ".lease")
        if raw:
            expires = parse_time(str(orjson.loads(raw).get("expires") or "1970-01-01T00:00:00Z"))
            time.sleep(max(0.0, expires.timestamp() - time.time() + 0.2))

    def delivered(self, key: str) -> bool:
        """Whether a pending page arrived: its object (or, on SecOps, its delivery marker) is stored."""
        return bool(self._read(f"{MARKERS}{key}.done" if self.kind == "secops" else key))

    def _read(self, name: str) -> bytes | None:
        try:
            return self.store.read(name) or None
        except Exception:  # absent (S3 raises NoSuchKey; the fakes' readers return b"" or None)
            return None


@contextmanager
def rig(kind: str, seed: int) -> Iterator[Rig]:
    """Fake storage of ``kind`` started, the proxy in front of it, stopped on exit."""
    with ExitStack() as stack:
        if kind == "secops":
            store: Storage = stack.enter_context(secops_on_gcs(Path(stack.enter_context(_tempdir()))))
        else:
            store = stack.enter_context(storage(kind))
        upstream = store.env["AWS_ENDPOINT_URL"] if kind == "s3" else store.env["STORAGE_EMULATOR_HOST"]
        proxy = stack.enter_context(FaultProxy(upstream, "s3" if kind == "s3" else "gcs", seed))
        store.env["AWS_ENDPOINT_URL" if kind == "s3" else "STORAGE_EMULATOR_HOST"] = proxy.url
        yield Rig(kind, store, proxy)


@contextmanager
def _tempdir() -> Iterator[str]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        yield tmp


@contextmanager
def secops_on_gcs(tmp: Path) -> Iterator[SecOpsOnGCS]:
    fake = FakeSecOps().start()
    try:
        with running_fake_gcs(tmp) as gcs:
            fake.account = make_service_account(tmp, fake.token_uri)
            bucket = gcs.create_bucket()
            env = {
                "ZDLOGS_SECOPS_STATE": f"gs://{bucket}/",
                "ZDLOGS_SECOPS_ENDPOINT": fake.url,
                "GOOGLE_APPLICATION_CREDENTIALS": str(fake.account.path),
                "NO_GCE_CHECK": "true",
                "STORAGE_EMULATOR_HOST": gcs.endpoint,
                "GOOGLE_CLOUD_PROJECT": "test",
            }
            settings = {"secops_state": f"gs://{bucket}/", "secops_endpoint": fake.url}
            yield SecOpsOnGCS(
                output=fake.output, env=env, settings=settings, fake=fake, state=tmp, gcs=gcs, bucket=bucket
            )
    finally:
        fake.stop()


# -- the runs ----------------------------------------------------------------------------------------------


@dataclass
class RunResult:
    number: int
    code: int
    seconds: float
    last: str
    tracebacks: int
    wrong: str
    gaps: list[str]
    outage: Outage | None = None
    lease_held: bool = False

    def describe(self) -> str:
        where = f", outage on {self.outage.target} (landed {landed(self.outage)})" if self.outage else ""
        said = f": {self.last[:300]}" if self.code else ""
        return f"run {self.number}{where}: exit {self.code} after {self.seconds:.0f}s{said}"


def landed(outage: Outage) -> str:
    """The write an outage let land: its object, and for the checkpoint which kind of state write it was."""
    if outage.target != "state":
        return outage.landed
    body = outage.landed_body
    kind = "a page's write-ahead entry" if b'"pending": {' in body or b'"pending":{' in body else "a commit"
    return f"{outage.landed}, {kind}"


@dataclass
class Suite:
    """The runs of one suite and what they showed."""

    args: argparse.Namespace
    rig: Rig
    harness: Harness
    sim: Simulator
    rng: random.Random
    results: list[RunResult] = field(default_factory=list)
    unarmed: int = 0  # an outage still armed at the end: its write never came

    def env(self) -> dict[str, str]:
        extra = {"MAX_PAGES": str(self.args.max_pages), "HTTP_TIMEOUT": "5"}
        name = deadline_field()
        if name:
            extra[env_name(name)] = str(self.args.storage_deadline)
        if self.args.max_runtime:
            extra[env_name("max_runtime")] = str(self.args.max_runtime)
        return self.harness.env(self.sim.url, **extra)

    def outage_tail(self) -> float:
        """How long an outage goes on after the client gave up: none (the next request passes) or a little."""
        return 0.0 if self.rng.random() < 0.5 else self.rng.uniform(0.5, self.args.outage_tail)

    def outage_for(self, number: int) -> Outage | None:
        """Every ``--outage-every``-th run: an outage aimed at the next target in turn."""
        every = self.args.outage_every
        if every <= 0 or number % every != every - 1:
            return None
        targets = self.args.targets or TARGETS[self.rig.kind]
        turn = number // every
        target = targets[turn % len(targets)]
        lose = self.rng.choice(("reset", "503"))
        if turn < len(targets):  # the first round: issue 19's outages (the run's first such write; then the
            return Outage(target, skip=0, lose=lose, tail=0.0)  # client's first request past its retries passes)
        return Outage(target, skip=self.rng.randint(0, 2), lose=lose, tail=self.outage_tail())

    def run(self, number: int) -> RunResult:
        outage = self.outage_for(number)
        if outage and self.rig.proxy.outage_state() != "armed":  # one not triggered yet stays armed
            self.rig.proxy.arm(outage)
        started = time.monotonic()
        process = self.harness.start(self.env())
        out, err = process.communicate(timeout=1800)
        seconds = time.monotonic() - started
        self.harness.printed(out, err)
        self.rig.proxy.client_gone()
        while self.rig.proxy.outage_state() == "on":  # the next run must not start inside this outage
            time.sleep(0.5)
        armed = self.rig.proxy.disarm() if self.rig.proxy.outage_state() == "over" else None
        code = process.returncode
        gaps = self.gaps()
        result = RunResult(
            number + 1,
            code,
            seconds,
            last_line(err),
            (out + err).count(TRACEBACK),
            wrong_cause(code, err, self.rig.kind),
            gaps,
            armed,
            "holds the lease" in out,
        )
        # SecOps' documented bound: a run that failed may leave its last accepted batch without a marker, sent
        # again by the next run; not when the failure was a marker write that landed (nothing is unmarked then)
        self.harness.last_run_killed = code != 0 and not (armed and armed.target == "marker")
        self.harness.last_kill = f"exit {code}"
        return result

    def gaps(self) -> list[str]:
        stored: dict[str, list[dict]] = {}

        def records(stream: str) -> list[dict]:
            if stream not in stored:
                stored[stream] = self.harness.store.records(stream)
            return stored[stream]

        return checkpoint_gaps(self.rig.state(), self.sim.truth(), records, self.rig.delivered)

    def arrive(self) -> None:
        """New records between runs: mostly less than a page (100), so the page an outage hits is mostly the
        last, partial one, which the next run fetches again grown (a full page comes back the same, so a page
        fetched again after an outage would be stored twice only if it was partial)."""
        self.sim.append_audit_logs(self.rng.randint(10, 120))
        self.sim.update_tickets(self.rng.randint(1, 5))
        self.harness.activity(self.sim, self.rng)
        time.sleep(1.2)  # past ZDLOGS_SETTLE_SECONDS=1: the next run sees them (or a re-fetched page is the same)

    def loop(self) -> None:
        plan = FaultPlan(rate=self.args.fault_rate, slow_seconds=self.args.slow_seconds)
        for number in range(self.args.runs):
            self.rig.proxy.set_plan(plan)
            result = self.run(number)
            self.results.append(result)
            if result.outage or result.wrong or result.gaps or result.tracebacks:
                print(f"  {result.describe()}", flush=True)
                for gap in result.gaps:
                    print(f"    checkpoint ahead of data: {gap}", flush=True)
            self.rig.wait_for_lease()
            self.arrive()
        self.rig.proxy.set_plan(FaultPlan())
        self.unarmed = int(self.rig.proxy.disarm() is not None)  # its write never came


# -- the summary -------------------------------------------------------------------------------------------


def fault_line(faults: Counter) -> str:
    shown = [f"{kind} {count}" for kind, count in sorted(faults.items()) if not kind.startswith("outage")]
    return ", ".join(shown) or "none"


def outage_line(suite: Suite) -> str:
    outages = [result.outage for result in suite.results if result.outage]
    if not outages:
        return f"outages: none ({suite.unarmed} armed, never triggered)"
    by_target = ", ".join(f"{t} {n}" for t, n in sorted(Counter(outage.target for outage in outages).items()))
    lengths = [outage.seconds for outage in outages]
    name = deadline_field()
    deadline = f"zdlogs' {env_name(name)}={suite.args.storage_deadline}" if name else LIBRARY_DEADLINES[suite.rig.kind]
    return (
        f"outages (a write landed, its answer lost, then 503 to all until the client gave up on it, "
        f"{min(lengths):.0f}-{max(lengths):.0f} s; its retry deadline: {deadline}): {by_target}; "
        f"{sum(o.retries for o in outages)} retries of the landed writes and {sum(o.refused for o in outages)} "
        f"requests in all refused; {suite.unarmed} armed, never triggered"
    )


def limits(args: argparse.Namespace) -> str:
    """The run limits the runs had, for the longest-run figure."""
    name = deadline_field()
    shown = [f"{env_name(name)}={args.storage_deadline:g}"] if name else []
    shown += [f"{env_name('max_runtime')}={args.max_runtime:g}"] if args.max_runtime else []
    return f" (with {', '.join(shown)})" if shown else ""


def summarize(suite: Suite, elapsed: float, stats_requests: int, faults: Counter) -> tuple[int, int, int]:
    """Print the suite's own figures; return (tracebacks, wrong causes, checkpoint gaps)."""
    results = suite.results
    exits = Counter(result.code for result in results)
    tracebacks = sum(result.tracebacks for result in results)
    wrong = [result for result in results if result.wrong]
    gaps = sum(len(result.gaps) for result in results)
    streams = suite.harness.where().rstrip("]").split(", ", 1)[1]  # where() names SecOpsOnGCS "local"
    where = "secops, its state store on GCS" if suite.rig.kind == "secops" else suite.rig.kind
    print(f"storage-fault suite [zdlogs on {where}, {streams}]: {len(results)} runs in {elapsed:.0f}s", end="")
    print(f" (seed {suite.args.seed})")
    print(f"  {stats_requests} requests through the proxy; random faults: {fault_line(faults)}")
    print(f"  {outage_line(suite)}")
    print(
        "  run exit codes: "
        + ", ".join(f"{k}: {v}" for k, v in sorted(exits.items()))
        + f"; longest run {max(r.seconds for r in results):.0f}s{limits(suite.args)}; "
        + f"lease found held {sum(r.lease_held for r in results)}"
    )
    print(f"  tracebacks {tracebacks}; non-zero exits not naming the storage as the cause {len(wrong)}")
    for result in wrong:
        print(f"    run {result.number}: {result.wrong}")
    print(
        f"  checkpoint ahead of stored data {gaps} (checked after each run: "
        f"{', '.join(s for s in suite.harness.streams if s in CHECKED)})"
    )
    return tracebacks, len(wrong), gaps


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fault-rate", type=float, default=0.05, help="share of requests given a random fault")
    parser.add_argument("--slow-seconds", type=float, default=1.5, help="how late a slow answer comes")
    parser.add_argument("--outage-every", type=int, default=3, help="an outage every N-th run (0: none)")
    parser.add_argument(
        "--targets",
        type=lambda v: tuple(v.split(",")),
        default=None,
        help="what the outages aim at, in turn: data,state,lease,marker (default: all of the storage)",
    )
    parser.add_argument(
        "--outage-tail", type=float, default=3.0, help="an outage goes on up to this long after the client gave up"
    )
    parser.add_argument(
        "--storage-deadline",
        type=float,
        default=5.0,
        help="zdlogs' storage retry deadline, when this zdlogs has the setting",
    )
    parser.add_argument("--max-runtime", type=float, default=0.0, help="ZDLOGS_MAX_RUNTIME of the runs (0: unset)")
    parser.add_argument("--max-pages", type=int, default=10)
    add_arguments(parser)
    parser.set_defaults(storage="gcs")
    args = parser.parse_args()
    if args.storage not in TARGETS:
        parser.error("--storage is gcs, s3 or secops: the storage-fault suite fails a storage service")
    return args


def main() -> bool:
    args = parse_args()
    rng = random.Random(args.seed)
    with rig(args.storage, args.seed) as bench:
        harness = Harness("zdlogs", bench.store, tuple(args.resources))
        with Simulator(harness.account(audit_logs=600, tickets=150)).start() as sim:
            suite = Suite(args, bench, harness, sim, rng)
            started = time.monotonic()
            suite.loop()
            requests, faults = bench.proxy.stats.requests, Counter(bench.proxy.stats.faults)
            elapsed = time.monotonic() - started
            harness.drain(sim.url)
            tracebacks, wrong, gaps = summarize(suite, elapsed, requests, faults)
            return verdict(harness, sim, runs_ok=not (tracebacks or wrong or gaps))


def verdict(harness: Harness, sim: Simulator, runs_ok: bool) -> bool:
    """The other suites' figures and verdict (``Harness.verdict``), failing also when a run was not right."""
    store = harness.store
    for line in store.delivery():
        print(f"  {line}")
    secops = isinstance(store, SecOpsStorage)
    outcome, foreign = harness.outcome(sim), harness.foreign_objects_in_feed()
    leaked = harness.leaked + store.canaries()
    return report(
        outcome, foreign, duplicates_allowed=secops, delivery_ok=store.delivery_ok() and runs_ok, leaked=leaked
    )


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
