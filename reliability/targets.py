"""What the suites run and where it writes: zdlogs or the original function, a local directory or fake GCS.

The original Cloud Run function (`../shared/baseline/seed_function/main.py`, the baseline) reads the same
environment variables, so the same simulated account and the same suites apply to it; it needs GCS, which
fake-gcs-server provides (`STORAGE_EMULATOR_HOST`). It stores each page as one JSON document (not NDJSON),
so its output is read page by page.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from tests.gcs_fixture import FakeGCS, running_fake_gcs

from reliability.common import (
    DATA_PREFIX,
    Outcome,
    compare,
    drain,
    drain_processes,
    env_for,
    records,
    settings_for,
)
from zdlogs.simulator import Simulator

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT.parent / "shared/baseline/seed_function/main.py"
STREAM_KEYS = {"audit_logs": "audit_logs", "incremental_tickets": "tickets"}


@dataclass
class Storage:
    """Where a target writes: ``output`` for zdlogs, ``env`` for both, ``gcs`` when it is fake GCS."""

    output: str
    env: dict[str, str] = field(default_factory=dict)
    gcs: FakeGCS | None = None
    bucket: str = ""

    def objects(self, prefix: str = DATA_PREFIX) -> list[tuple[str, bytes]]:
        if self.gcs is None:
            root = Path(self.output)
            return [(str(p.relative_to(root)), p.read_bytes()) for p in (root / prefix).rglob("*") if p.is_file()]
        return [(name, self.gcs.read(self.bucket, name) or b"") for name in self.gcs.names(self.bucket, prefix)]


@contextmanager
def storage(kind: str) -> Iterator[Storage]:
    """``local``: a temporary directory; ``gcs``: a fresh bucket on a fake-gcs-server started here."""
    with ExitStack() as stack:
        if kind == "local":
            yield Storage(output=stack.enter_context(tempfile.TemporaryDirectory()))
            return
        gcs = stack.enter_context(running_fake_gcs())
        bucket = gcs.create_bucket()
        env = {"STORAGE_EMULATOR_HOST": gcs.endpoint, "GCS_BUCKET": bucket, "GOOGLE_CLOUD_PROJECT": "test"}
        yield Storage(output=f"gs://{bucket}/", env=env, gcs=gcs, bucket=bucket)


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
        if store.gcs is None:
            return records(Path(store.output), stream)
        found = []
        for _name, data in store.objects(f"{DATA_PREFIX}{stream}/"):
            found.extend(orjson.loads(line) for line in data.splitlines())
        return found
    found = []
    for name, data in store.objects():
        if name.endswith(f"zendesk-{stream}.json"):
            found.extend(orjson.loads(data).get(STREAM_KEYS[stream], []))
    return found


@dataclass
class Harness:
    """One target on one storage: how to start a run, catch up, and judge the output."""

    target: str
    store: Storage

    @property
    def dead_lease_seconds(self) -> float:
        """How long a killed zdlogs run's lease blocks the next one (ZDLOGS_LEASE_TTL=5 on fake GCS)."""
        return 5.5 if self.target == "zdlogs" and self.store.gcs is not None else 0.0

    def command(self) -> list[str]:
        return zdlogs_command() if self.target == "zdlogs" else baseline_command()

    def env(self, url: str, **extra: str) -> dict[str, str]:
        return env_for(url, self.store.output, **self.store.env, **extra)

    def drain(self, url: str) -> None:
        if self.target == "zdlogs":
            os.environ.update(self.store.env)
            drain(settings_for(url, self.store.output, max_pages=50))
        else:
            drain_processes(self.env(url, MAX_PAGES="20"), self.command())

    def outcome(self, sim: Simulator) -> Outcome:
        audit = stored_records(self.target, self.store, "audit_logs")
        tickets = stored_records(self.target, self.store, "incremental_tickets")
        return compare(sim.truth(), audit, tickets)

    def foreign_objects_in_feed(self) -> int:
        """Objects in the data prefix that are not data (the baseline's state.json, stray temp files)."""
        expected = ".ndjson" if self.target == "zdlogs" else "-zendesk-"
        return sum(1 for name, _ in self.store.objects() if expected not in name)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--target",
        choices=("zdlogs", "baseline"),
        default="zdlogs",
        help="zdlogs, or the original Cloud Run function (needs --storage gcs)",
    )
    parser.add_argument(
        "--storage", choices=("local", "gcs"), default="local", help="a local directory, or a bucket on fake-gcs-server"
    )
    parser.add_argument(
        "--latency", type=float, default=0.3, help="seconds the simulated Zendesk takes per answer (real: 0.1-0.5 s)"
    )


@contextmanager
def harness(args: argparse.Namespace) -> Iterator[Harness]:
    if args.target == "baseline" and args.storage != "gcs":
        raise SystemExit("the original function writes only to GCS: add --storage gcs")
    with storage(args.storage) as store:
        yield Harness(args.target, store)
