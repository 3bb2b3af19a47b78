"""CPU per record: the body-to-NDJSON stage against an orjson floor, and the whole run, zdlogs vs the original.

    .venv/bin/python -m benchmarks.cpu_per_record [--records 50000]

Stage (in this process, user and system CPU from ``getrusage``, the least of ``--repeat`` runs): the
audit-log page bodies are fetched once from the simulator (another process), then

* floor: ``orjson.loads`` of each body + ``orjson.dumps`` of each record with a newline — the least any
  collector writing NDJSON must do;
* zdlogs: the real ``StreamRunner`` (boundary dedupe, NDJSON encoding, content-hashed object name,
  write-ahead checkpoint, create-if-absent write with fsync to a local directory) fed the same bodies by a
  replaying client that parses them as ``ZendeskClient`` does;
* original: what the original function does between the HTTP body and its upload —
  ``json.loads(body.decode())`` and ``json.dumps(page)`` (one document per page, not NDJSON).

Whole run (a process per target, ``getrusage`` around the entry point, imports excluded): the Cloud Run
entry of each collecting the same audit log over HTTP into fake GCS (its HTTP client, retries, pacing
and storage client included; the simulator and fake-gcs-server run in other processes).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import NamedTuple
from unittest import mock

import httpx
import orjson

from benchmarks._harness import (
    EMAIL,
    TOKEN,
    fake_gcs_bucket,
    original_env,
    print_table,
    ratio,
    require_baseline,
    sim_config,
    simulator_process,
)
from zdlogs import logs
from zdlogs.config import load_settings
from zdlogs.pipeline import StreamRunner, StreamSummary
from zdlogs.state import StateStore
from zdlogs.stores.local import LocalStore
from zdlogs.streams.audit_logs import AuditLogs
from zdlogs.writer import PageWriter
from zdlogs.zendesk.client import _parse_object

HISTORY_DAYS = 30


def fetch_bodies(url: str) -> list[bytes]:
    """Every audit-log page body of the account, oldest first, as zdlogs asks for them."""
    until = datetime.now(UTC)
    since = until - timedelta(days=HISTORY_DAYS + 1)
    params: dict | None = {
        "page[size]": 100,
        "sort": "created_at",
        "filter[created_at][]": [since.strftime("%Y-%m-%dT%H:%M:%SZ"), until.strftime("%Y-%m-%dT%H:%M:%SZ")],
    }
    bodies, link = [], f"{url}/api/v2/audit_logs"
    with httpx.Client(auth=(f"{EMAIL}/token", TOKEN), timeout=60) as client:
        while link:
            response = client.get(link, params=params)
            response.raise_for_status()
            bodies.append(response.content)
            body = orjson.loads(response.content)
            link, params = (body["links"]["next"] if body["meta"]["has_more"] else None), None
    return bodies


class ReplayClient:
    """Stands in for ZendeskClient: answers each request with the next recorded body, parsed the same way."""

    def __init__(self, base_url: str, bodies: list[bytes]):
        self.base_url = base_url
        self.stats: Counter[str] = Counter()
        self._bodies: Iterator[bytes] = iter(bodies)

    def get_json(self, url: str, params: object = None, family: str = "account") -> dict:
        return _parse_object(httpx.Response(200, content=next(self._bodies)))


def cpu() -> Cpu:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return Cpu(usage.ru_utime, usage.ru_stime)


class Cpu(NamedTuple):
    """User and system CPU seconds: system time here is the kernel's work for file writes and fsync."""

    user: float
    system: float

    def __sub__(self, other: object) -> Cpu:
        assert isinstance(other, Cpu)
        return Cpu(self.user - other.user, self.system - other.system)

    @property
    def total(self) -> float:
        return self.user + self.system


def floor_cpu(bodies: list[bytes]) -> Cpu:
    started = cpu()
    for body in bodies:
        records = orjson.loads(body)["audit_logs"]
        b"".join([orjson.dumps(record) + b"\n" for record in records])
    return cpu() - started


def original_stage_cpu(bodies: list[bytes]) -> Cpu:
    started = cpu()
    for body in bodies:
        json.dumps(json.loads(body.decode("utf-8")))
    return cpu() - started


def zdlogs_stage_cpu_without_fsync(url: str, bodies: list[bytes]) -> tuple[Cpu, int]:
    """The same stage with fsync made a no-op: what durability costs (a reference, not a mode of zdlogs)."""
    with mock.patch("os.fsync"):
        return zdlogs_stage_cpu(url, bodies)


def zdlogs_stage_cpu(url: str, bodies: list[bytes]) -> tuple[Cpu, int]:
    with tempfile.TemporaryDirectory() as out:
        settings = load_settings(
            base_url=url, email=EMAIL, api_token=TOKEN, output=out, lookback_seconds=(HISTORY_DAYS + 1) * 86400,
            settle_seconds=1, max_pages=10**7, resources="audit_logs",
        )  # fmt: skip
        store = LocalStore(out)
        writer = PageWriter(store, store, settings.data_prefix, settings.compress)
        runner = StreamRunner(settings, ReplayClient(url, bodies), writer, StateStore(store, settings.state_key))
        item = StreamSummary(stream="audit_logs")
        started = cpu()
        runner.collect(AuditLogs(), item)
        return cpu() - started, item.records


def whole_run(target: str, url: str, records: int) -> dict:
    """One collection of the whole audit log by ``target`` in its own process; its figures."""
    with fake_gcs_bucket() as (gcs, bucket):
        env = original_env(url, gcs, bucket, RESOURCES="audit_logs", MAX_PAGES=str(10**6))
        env.update(LOOKBACK_SECONDS=str((HISTORY_DAYS + 1) * 86400), ZDLOGS_SETTLE_SECONDS="1")
        env.update(ZDLOGS_RATE_SHARE="1", ZDLOGS_MAX_RUNTIME="100000")
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks._measure", target], env=env, capture_output=True, text=True, timeout=3600
        )
        if done.returncode != 0:
            sys.exit(f"{target} failed: {done.stderr[-2000:]}")
        figures = orjson.loads(done.stdout.strip().splitlines()[-1])
        stored = len(gcs.names(bucket, "zendesk/crm/"))
        figures["objects"] = stored
        figures["records"] = records
        return figures


def best(measure: Callable[[], Cpu], repeat: int) -> Cpu:
    """The least CPU of ``repeat`` measurements: other work on the machine only ever adds to it."""
    return min((measure() for _ in range(repeat)), key=lambda cpu: cpu.total)


def checked(result: tuple[Cpu, int], expected: int) -> Cpu:
    cpu, written = result
    assert written == expected, (written, expected)
    return cpu


def us(seconds: float, records: int) -> str:
    return f"{seconds / records * 1e6:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3, help="stage measurements taken; the least is kept")
    args = parser.parse_args()
    require_baseline()
    logs.configure("json", quiet=True)
    with simulator_process(sim_config(audit_logs=args.records, tickets=0, history_days=HISTORY_DAYS)) as sim:
        time.sleep(1.1)
        bodies = fetch_bodies(sim.url)
        n = sum(len(orjson.loads(body)["audit_logs"]) for body in bodies)
        floor = best(lambda: floor_cpu(bodies), args.repeat)
        original = best(lambda: original_stage_cpu(bodies), args.repeat)
        ours = best(lambda: checked(zdlogs_stage_cpu(sim.url, bodies), n), args.repeat)
        volatile = best(lambda: checked(zdlogs_stage_cpu_without_fsync(sim.url, bodies), n), args.repeat)
        runs = {target: whole_run(target, sim.url, n) for target in ("zdlogs", "original")}
    rows = [
        ["stage, total: body -> durable object (us/record)", us(ours.total, n), us(original.total, n),
         ratio(ours.total, original.total), us(floor.total, n), ratio(ours.total, floor.total), "<= 1.5x floor"],
        ["stage, user CPU (parse, dedupe, encode, hash)", us(ours.user, n), us(original.user, n),
         ratio(ours.user, original.user), us(floor.user, n), ratio(ours.user, floor.user), ""],
        ["stage, system CPU (file writes, fsync)", us(ours.system, n), "-", "", us(floor.system, n), "", ""],
        ["stage, total, fsync skipped (reference only)", us(volatile.total, n), "-", "", us(floor.total, n),
         ratio(volatile.total, floor.total), ""],
    ]  # fmt: skip
    z, o = runs["zdlogs"], runs["original"]
    rows.append(
        ["whole run: HTTP + GCS upload (us/record)", us(z["cpu_s"], n), us(o["cpu_s"], n),
         ratio(z["cpu_s"], o["cpu_s"]), us(floor.total, n), ratio(z["cpu_s"], floor.total), ""]
    )  # fmt: skip
    header = ["CPU per record", "zdlogs", "original", "zdlogs/original", "orjson floor", "zdlogs/floor", "goal"]
    print_table(f"CPU per record ({n} audit-log records, {len(bodies)} pages)", header, rows)
    print(f"\nobjects written: zdlogs {z['objects']}, original {o['objects']}; wall: zdlogs {z['wall_s']:.1f} s, "
          f"original {o['wall_s']:.1f} s")  # fmt: skip


if __name__ == "__main__":
    main()
