"""What the suites run, on which streams, and where it writes: zdlogs or the original function; a local
directory, fake GCS, S3 (moto's server) or Google SecOps (the fake ingestion API).

The original Cloud Run function (`../shared/baseline/seed_function/main.py`, the baseline) reads the same
environment variables, so the same simulated account and the same suites apply to it; it needs GCS, which
fake-gcs-server provides (`STORAGE_EMULATOR_HOST`), and knows only the two streams of its RESOURCES default.
It stores each page as one JSON document (not NDJSON), so its output is read page by page.

``--resources all`` runs zdlogs on its six streams (the default is the original function's two, so baseline
comparisons stay like for like); each stream is judged against the simulator's truth (``common.compare``).

Storage, each started and stopped by the suite:

* ``local``: a temporary directory; ``gcs``: a bucket on fake-gcs-server (``tests/gcs_fixture.py``);
* ``s3``: a bucket on moto's server (``tests/s3_fixture.py``), If-None-Match/If-Match honoured;
* ``secops``: the fake ``logs:import`` endpoint and token endpoint of ``tests/destinations/secops_fake.py`` (which
  checks every request's shape), with the state store (checkpoints, lease, delivery markers) in a local
  directory. The records are read back from the fake's accepted entries. The API has no idempotent write,
  so a run killed between an accepted batch and its marker re-sends that batch: duplicates there are
  measured per run (:meth:`SecOpsStorage.delivery`), not counted as a failure; losses are.
"""

from __future__ import annotations

import argparse
import bisect
import os
import random
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from tests.destinations.secops_fake import FakeSecOps, Fault, make_service_account
from tests.gcs_fixture import FakeGCS, running_fake_gcs
from tests.s3_fixture import FakeS3, running_moto

from reliability.common import (
    ALL_STREAMS,
    DATA_PREFIX,
    DEFAULT_STREAMS,
    VERSIONED,
    Outcome,
    account,
    canaries_in,
    compare,
    drain,
    drain_processes,
    env_for,
    ndjson_records,
    records,
    report,
    settings_for,
    start_run,
)
from zdlogs.config import KNOWN_RESOURCES
from zdlogs.simulator import SimConfig, Simulator

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT.parent / "shared/baseline/seed_function/main.py"
STREAM_KEYS = {"audit_logs": "audit_logs", "incremental_tickets": "tickets"}
STORAGES = ("local", "gcs", "s3", "secops")
NEW_STREAM_SIZES = {"access_logs": 6000, "users": 400, "organizations": 100}  # initial sizes with --resources all


@dataclass
class Storage:
    """Where a target writes: ``output`` for zdlogs, ``env`` for its processes, ``settings`` for in-process runs."""

    output: str
    env: dict[str, str] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    lease_outlives_run: bool = False  # a lease object (GCS, S3) blocks the next run for its TTL after a kill

    def names(self, prefix: str = DATA_PREFIX) -> list[str]:
        root = Path(self.output)
        return sorted(str(p.relative_to(root)) for p in (root / prefix).rglob("*") if p.is_file())

    def read(self, name: str) -> bytes:
        return (Path(self.output) / name).read_bytes()

    def objects(self, prefix: str = DATA_PREFIX) -> list[tuple[str, bytes]]:
        """(name, content) of every object under ``prefix``, read in parallel (a bucket answers one at a time)."""
        names = self.names(prefix)
        with ThreadPoolExecutor(8) as pool:
            return list(zip(names, pool.map(self.read, names), strict=True))

    def records(self, stream: str) -> list[dict]:
        """Every record zdlogs stored for ``stream``."""
        found = []
        for name, data in self.objects(f"{DATA_PREFIX}{stream}/"):
            found.extend(ndjson_records(data, gzipped=name.endswith(".gz")))
        return found

    def foreign(self) -> int:
        """What sits in the feed but is not data (the baseline's state.json, a stray temp file...)."""
        return sum(1 for name in self.names() if ".ndjson" not in name)

    def note_run(self, after_kill: bool, label: str = "", kill: str = "") -> None:
        """A run is about to start (``after_kill``: the previous one was SIGKILLed, ``kill`` says where)."""

    def delivery(self) -> list[str]:
        """Extra figures of this storage, printed after the per-stream lines."""
        return []

    def canaries(self) -> int:
        """The API token in anything stored: data, checkpoints, lease, markers."""
        return canaries_in(*(data for _, data in self.objects("")))

    def delivery_ok(self) -> bool:
        """The storage's own delivery bound holds (only SecOps has one: see SecOpsStorage)."""
        return True


@dataclass
class LocalStorage(Storage):
    def records(self, stream: str) -> list[dict]:
        return records(Path(self.output), stream)


@dataclass
class GCSStorage(Storage):
    gcs: FakeGCS | None = None
    bucket: str = ""

    def names(self, prefix: str = DATA_PREFIX) -> list[str]:
        assert self.gcs
        return self.gcs.names(self.bucket, prefix)

    def read(self, name: str) -> bytes:
        assert self.gcs
        return self.gcs.read(self.bucket, name) or b""


@dataclass
class S3Storage(Storage):
    s3: FakeS3 | None = None
    bucket: str = ""
    _client: Any = field(default=None, repr=False)

    def names(self, prefix: str = DATA_PREFIX) -> list[str]:
        assert self.s3
        return self.s3.names(self.bucket, prefix)

    def read(self, name: str) -> bytes:
        """One object's bytes through one boto3 client (thread-safe; FakeS3.read builds a client per call)."""
        assert self.s3
        if self._client is None:
            self._client = self.s3.client
        return self._client.get_object(Bucket=self.bucket, Key=name)["Body"].read()


def secops_stream(record: dict) -> str:
    """Which stream an entry SecOps accepted came from (one log type carries them all)."""
    if "authorization_type" in record:
        return "access_logs"
    if "event_type" in record and "ticket_id" in record:
        return "ticket_events"
    url = str(record.get("url", ""))
    for kind, stream in (
        ("audit_logs", "audit_logs"),
        ("tickets", "incremental_tickets"),
        ("users", "users"),
        ("organizations", "organizations"),
    ):
        if f"/api/v2/{kind}/" in url:
            return stream
    return "unknown"


def record_key(stream: str, record: dict) -> tuple:
    """What makes a record a duplicate: its id, or (id, updated_at) for a version of a ticket/user/org."""
    return (stream, record["id"], record["updated_at"]) if stream in VERSIONED else (stream, record["id"])


@dataclass
class RunNote:
    """A run as the SecOps figures see it: the fake's import calls before it started, and the kill before it."""

    calls: int
    after_kill: bool
    label: str
    kill: str = ""

    def describe(self) -> str:
        if not self.after_kill:
            return self.label
        return f"{self.label} (after a kill; {self.kill})" if self.kill else f"{self.label} (after a kill)"


@dataclass
class SecOpsStorage(Storage):
    """The fake ingestion API holds the data; the local state directory holds checkpoints and markers."""

    fake: FakeSecOps | None = None
    state: Path | None = None
    runs: list[RunNote] = field(default_factory=list)
    answer_delay: float = 0.0

    def delay_answers(self, seconds: float) -> None:
        """Accept every import request, then answer only ``seconds`` later: a kill in that time is a kill
        between SecOps accepting a batch and zdlogs writing its marker (the one duplicate the sink allows)."""
        assert self.fake
        if seconds > 0:
            self.answer_delay = seconds
            self.fake.inject(Fault(status=200, times=-1, delay=seconds))

    def names(self, prefix: str = DATA_PREFIX) -> list[str]:
        """Data must never land in the state store: anything under the feed prefix there is foreign."""
        assert self.state
        return sorted(str(p.relative_to(self.state)) for p in (self.state / prefix).rglob("*") if p.is_file())

    def read(self, name: str) -> bytes:
        assert self.state
        return (self.state / name).read_bytes()

    def records(self, stream: str) -> list[dict]:
        assert self.fake
        return [record for record in self.fake.records() if secops_stream(record) == stream]

    def foreign(self) -> int:
        """Objects in the state store's feed prefix, entries of no stream, requests refused for their shape
        (except those a kill cut short: see :meth:`refused`)."""
        assert self.fake
        unknown = sum(1 for record in self.fake.records() if secops_stream(record) == "unknown")
        refused, cut_short = self.refused()
        return len(self.names()) + unknown + refused - cut_short

    def refused(self) -> tuple[int, int]:
        """(requests the fake refused for their shape, those of them cut short by the kill of the run sending
        them). A run SIGKILLed while sending leaves the fake a body shorter than its Content-Length, which it
        answers 400 "body is not JSON": that is the kill, not zdlogs sending a malformed request. The suites
        inject no fault into the fake, so its n-th 400 answer is its n-th violation."""
        assert self.fake
        refusals = [index for index, call in enumerate(list(self.fake.calls)) if call.status == 400]
        cut_short = sum(
            1
            for index, problem in zip(refusals, list(self.fake.violations), strict=False)
            if problem == "body is not JSON" and self._killed(self._run_of(index))
        )
        return len(self.fake.violations), cut_short

    def _run_of(self, call: int) -> int:
        return max(0, bisect.bisect_right([note.calls for note in self.runs], call) - 1)

    def _killed(self, run: int) -> bool:
        return run + 1 < len(self.runs) and self.runs[run + 1].after_kill

    def note_run(self, after_kill: bool, label: str = "", kill: str = "") -> None:
        assert self.fake
        self.runs.append(RunNote(len(self.fake.calls), after_kill, label or f"run {len(self.runs) + 1}", kill))

    def canaries(self) -> int:
        assert self.fake
        return super().canaries() + canaries_in(orjson.dumps(self.fake.records()))

    def batches(self) -> list[tuple[int, list[dict]]]:
        """Each accepted ``logs:import`` request: (its index among the calls, its records)."""
        assert self.fake
        entries, found, offset = self.fake.records(), [], 0
        for index, call in enumerate(list(self.fake.calls)):
            if call.status == 200:
                found.append((index, entries[offset : offset + call.logs]))
                offset += call.logs
        return found

    def keys(self, batch: list[dict]) -> list[tuple]:
        return [record_key(secops_stream(record), record) for record in batch]

    def in_flight(self) -> dict[int, list[tuple]]:
        """The last batch each killed run had accepted: the one its kill may have left without a marker, whose
        records the next run to reach that stream sends again (the sink's documented duplicate)."""
        last: dict[int, list[tuple]] = {}
        for index, batch in self.batches():
            run = self._run_of(index)
            if self._killed(run):
                last[run] = self.keys(batch)
        return last

    def duplicates(self) -> dict[str, int]:
        """Requests holding a record accepted before, records delivered more than once, kills whose interrupted
        batch came again (a killed run that first had a record SecOps got twice), and records delivered more
        often than the kills allow (the bound: each kill re-sends at most the records of the batch it
        interrupted)."""
        deliveries: Counter = Counter()
        first: dict[tuple, int] = {}
        requests = 0
        for index, batch in self.batches():
            keys = self.keys(batch)
            requests += any(deliveries[key] for key in keys)
            deliveries.update(keys)
            for key in keys:
                first.setdefault(key, self._run_of(index))
        in_flight = self.in_flight()
        allowance = Counter(key for keys in in_flight.values() for key in keys)
        return {
            "requests": requests,
            "records": sum(count - 1 for count in deliveries.values()),
            "kills": sum(
                1 for run, keys in in_flight.items() if any(deliveries[k] > 1 and first[k] == run for k in keys)
            ),
            "beyond": sum(max(0, count - 1 - allowance[key]) for key, count in deliveries.items()),
        }

    def resent_batches(self) -> list[str]:
        """One line per request that re-sent records: which run, which stream, and whose records they were."""
        first: dict[tuple, int] = {}
        lines = []
        for index, batch in self.batches():
            run, keys = self._run_of(index), self.keys(batch)
            earlier = sorted({first[key] for key in keys if key in first})
            if earlier:
                stream = Counter(key[0] for key in keys).most_common(1)[0][0]
                repeats = sum(1 for key in keys if key in first)
                whose = ", ".join(self.runs[e].label if self.runs else str(e) for e in earlier)
                lines.append(
                    f"{self._label(run)} sent {stream} records: {repeats} of {len(keys)} accepted before in {whose}"
                )
            for key in keys:
                first.setdefault(key, run)
        return lines

    def _label(self, run: int) -> str:
        return self.runs[run].describe() if self.runs else f"run {run + 1}"

    def delivery(self) -> list[str]:
        found = self.duplicates()
        kills = sum(1 for note in self.runs if note.after_kill)
        refused, cut_short = self.refused()
        details = self.resent_batches()
        shown = [f"SecOps re-sent: {line}" for line in details[:12]]
        if len(details) > 12:
            shown.append(f"SecOps re-sent: ... and {len(details) - 12} more")
        return [
            f"SecOps: {len(self.batches())} requests accepted; {kills} kills, after {found['kills']} of them the "
            f"batch in flight was sent again: {found['requests']} requests re-sent records, {found['records']} "
            f"records delivered twice, {found['beyond']} beyond the bound (one interrupted batch per kill)",
            f"SecOps: requests refused for their shape {refused - cut_short} (and {cut_short} cut short by a kill: "
            f"the body never fully arrived){''.join(f'; {problem}' for problem in self._unexplained())}",
            *shown,
        ]

    def _unexplained(self) -> list[str]:
        refused, cut_short = self.refused()
        return list(self.fake.violations) if self.fake and refused > cut_short else []

    def delivery_ok(self) -> bool:
        """Within the documented bound: every record delivered twice belongs to a batch a kill interrupted."""
        return self.duplicates()["beyond"] == 0


@contextmanager
def storage(kind: str) -> Iterator[Storage]:
    """A fresh output of ``kind``, with the fake service behind it started here and stopped on exit."""
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        if kind == "local":
            yield LocalStorage(output=str(tmp))
        elif kind == "gcs":
            gcs = stack.enter_context(running_fake_gcs())
            bucket = gcs.create_bucket()
            env = {"STORAGE_EMULATOR_HOST": gcs.endpoint, "GCS_BUCKET": bucket, "GOOGLE_CLOUD_PROJECT": "test"}
            yield GCSStorage(output=f"gs://{bucket}/", env=env, lease_outlives_run=True, gcs=gcs, bucket=bucket)
        elif kind == "s3":
            s3 = stack.enter_context(running_moto(tmp))
            bucket = s3.create_bucket()
            env = {
                **s3.env,
                "AWS_EC2_METADATA_DISABLED": "true",  # no real AWS settings or metadata probe
                "AWS_CONFIG_FILE": str(tmp / "aws-config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "aws-credentials"),
            }
            yield S3Storage(output=f"s3://{bucket}/", env=env, lease_outlives_run=True, s3=s3, bucket=bucket)
        else:
            yield stack.enter_context(secops_storage(tmp))


@contextmanager
def secops_storage(tmp: Path) -> Iterator[SecOpsStorage]:
    fake = FakeSecOps().start()
    try:
        fake.account = make_service_account(tmp, fake.token_uri)
        state = tmp / "secops-state"
        env = {
            "ZDLOGS_SECOPS_STATE": str(state),
            "ZDLOGS_SECOPS_ENDPOINT": fake.url,
            "GOOGLE_APPLICATION_CREDENTIALS": str(fake.account.path),
            "NO_GCE_CHECK": "true",
        }
        settings = {"secops_state": str(state), "secops_endpoint": fake.url}
        yield SecOpsStorage(output=fake.output, env=env, settings=settings, fake=fake, state=state)
    finally:
        fake.stop()


def zdlogs_command() -> list[str]:
    return [sys.executable, "-m", "zdlogs", "--log-format", "json", "run"]


def baseline_command() -> list[str]:
    if not BASELINE.exists():
        raise SystemExit(f"the original function is not at {BASELINE}: pass the suites --target zdlogs")
    runner = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('seed_main', {str(BASELINE)!r})\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        "class Event(dict):\n    data = {'message': {'data': 'e30='}}\n"
        "module.main(Event(id='1'))\n"
    )
    return [sys.executable, "-c", runner]


def stored_records(target: str, store: Storage, stream: str) -> list[dict]:
    """Every record a target stored for ``stream``: NDJSON lines for zdlogs, page documents for the baseline."""
    if target == "zdlogs":
        return store.records(stream)
    found = []
    for name, data in store.objects():
        if name.endswith(f"zendesk-{stream}.json"):
            found.extend(orjson.loads(data).get(STREAM_KEYS[stream], []))
    return found


@dataclass
class Harness:
    """One target on one storage and its streams: how to start a run, make activity, catch up, and judge."""

    target: str
    store: Storage
    streams: tuple[str, ...] = DEFAULT_STREAMS
    last_run_killed: bool = False  # set by the crash suite: the run before the next one was SIGKILLed
    last_kill: str = ""  # and where it was (its last log event, the stream it was collecting)
    runs_started: int = 0
    leaked: int = 0  # API token occurrences in what the runs printed

    @property
    def after_kill_seconds(self) -> float:
        """How long to wait after a kill: a killed zdlogs run's lease blocks the next one for its TTL
        (ZDLOGS_LEASE_TTL=5 on GCS and S3); the fake SecOps API may still be recording a request the killed
        run had sent, which must be charged to that run, not the next."""
        if self.target == "zdlogs" and self.store.lease_outlives_run:
            return 5.5
        return 0.3 + self.store.answer_delay if isinstance(self.store, SecOpsStorage) else 0.0

    @property
    def new_streams(self) -> bool:
        return any(stream not in DEFAULT_STREAMS for stream in self.streams)

    def account(self, **sizes: object) -> SimConfig:
        """The simulated account: the suite's sizes, and data for the new streams when they are collected."""
        return account(**sizes, **(NEW_STREAM_SIZES if self.new_streams else {}))

    def activity(self, sim: Simulator, rng: random.Random, scale: float = 1.0) -> None:
        """New records for the issue-8 streams (the suites add audit records and ticket updates themselves):
        access logs, new tickets (and their events), new and changed users and organizations."""
        if not self.new_streams:
            return
        sim.append_access_logs(rng.randint(int(20 * scale), int(200 * scale)))
        sim.create_tickets(rng.randint(0, max(1, int(3 * scale))))
        sim.create_users(rng.randint(0, max(1, int(2 * scale))))
        sim.update_users(rng.randint(0, max(1, int(4 * scale))))
        sim.create_organizations(rng.randint(0, 1))
        sim.update_organizations(rng.randint(0, max(1, int(2 * scale))))

    def command(self) -> list[str]:
        return zdlogs_command() if self.target == "zdlogs" else baseline_command()

    def env(self, url: str, **extra: str) -> dict[str, str]:
        return env_for(url, self.store.output, RESOURCES=",".join(self.streams), **self.store.env, **extra)

    def drain(self, url: str) -> None:
        if self.target == "zdlogs":
            os.environ.update(self.store.env)
            settings = settings_for(
                url, self.store.output, max_pages=50, resources=list(self.streams), **self.store.settings
            )
            drain(settings, before_each=self._note_drain_run)
        else:
            drain_processes(self.env(url, MAX_PAGES="20"), self.command())

    def outcome(self, sim: Simulator) -> Outcome:
        truth = sim.truth()
        return compare(truth, {stream: stored_records(self.target, self.store, stream) for stream in self.streams})

    def foreign_objects_in_feed(self) -> int:
        """Objects in the data prefix that are not data (the baseline's state.json, stray temp files)."""
        if self.target == "zdlogs":
            return self.store.foreign()
        return sum(1 for name in self.store.names() if "-zendesk-" not in name)

    def start(self, env: dict[str, str]) -> subprocess.Popen:
        """One run as a process, noted (for SecOps' per-run figures) with whether the previous one was killed."""
        self.runs_started += 1
        self.store.note_run(self.last_run_killed, f"run {self.runs_started}", self.last_kill)
        return start_run(env, self.command())

    def _note_drain_run(self, number: int) -> None:
        after_kill = number == 0 and self.last_run_killed
        self.store.note_run(after_kill, f"catch-up run {number + 1}", self.last_kill if after_kill else "")

    def printed(self, *texts: str) -> None:
        """What a run printed (stdout, stderr): the API token must not be in it."""
        self.leaked += canaries_in(*texts)

    def verdict(self, outcome: Outcome, foreign: int) -> bool:
        """Print the figures and say PASS or FAIL. SecOps has no idempotent write: its duplicates are measured
        and pass while within the documented bound (one batch per kill); everywhere else a duplicate fails."""
        for line in self.store.delivery():
            print(f"  {line}")
        secops = isinstance(self.store, SecOpsStorage)
        leaked = self.leaked + self.store.canaries() if self.target == "zdlogs" else None
        return report(outcome, foreign, duplicates_allowed=secops, delivery_ok=self.store.delivery_ok(), leaked=leaked)

    def where(self) -> str:
        streams = "all streams" if set(self.streams) == set(ALL_STREAMS) else ",".join(self.streams)
        return f"[{self.target} on {self.storage_kind}, {streams}]"

    @property
    def storage_kind(self) -> str:
        kinds = {LocalStorage: "local", GCSStorage: "gcs", S3Storage: "s3", SecOpsStorage: "secops"}
        return kinds.get(type(self.store), "local")


def parse_resources(value: str) -> tuple[str, ...]:
    if value == "all":
        return ALL_STREAMS
    if value == "default":
        return DEFAULT_STREAMS
    names = tuple(name.strip() for name in value.split(",") if name.strip())
    unknown = [name for name in names if name not in KNOWN_RESOURCES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown streams {unknown}; choose from all, default, {KNOWN_RESOURCES}")
    return names


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--target",
        choices=("zdlogs", "baseline"),
        default="zdlogs",
        help="zdlogs, or the original Cloud Run function (needs --storage gcs)",
    )
    parser.add_argument(
        "--storage",
        choices=STORAGES,
        default="local",
        help="a local directory, a bucket on fake-gcs-server or on moto's S3 server, or the fake SecOps API",
    )
    parser.add_argument(
        "--resources",
        type=parse_resources,
        default=DEFAULT_STREAMS,
        help="streams to collect: default (audit_logs,incremental_tickets, the original function's), all, or a list",
    )
    parser.add_argument(
        "--latency", type=float, default=0.3, help="seconds the simulated Zendesk takes per answer (real: 0.1-0.5 s)"
    )
    parser.add_argument(
        "--object-records",
        type=int,
        default=None,
        help="zdlogs: ZDLOGS_OBJECT_RECORDS of every run, the drain's included (default: zdlogs' own default)",
    )


@contextmanager
def harness(args: argparse.Namespace) -> Iterator[Harness]:
    if args.target == "baseline" and args.storage != "gcs":
        raise SystemExit("the original function writes only to GCS: add --storage gcs")
    if args.target == "baseline" and set(args.resources) - set(DEFAULT_STREAMS):
        raise SystemExit("the original function collects only audit_logs and incremental_tickets")
    with storage(args.storage) as store:
        if getattr(args, "object_records", None):
            store.env["ZDLOGS_OBJECT_RECORDS"] = str(args.object_records)
            store.settings["object_records"] = args.object_records
        if isinstance(store, SecOpsStorage):
            store.delay_answers(getattr(args, "secops_answer_delay", 0.0))
        yield Harness(args.target, store, tuple(args.resources))
