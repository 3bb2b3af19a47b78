"""Shared pieces of the reliability suites: a simulated account, the CLI as a process, the ground truth.

Each suite prints its figures; `make reliability` runs the full versions, `tests/reliability/` the short
ones in CI. Output is compared with the simulator's ground truth:

* exactly-once streams (audit log, access log, ticket events): every record once (lost = in the truth, not
  stored; duplicated = stored more than once; invented = stored, not in the truth);
* versioned streams (tickets, users, organizations): every record's latest version stored, no
  (id, updated_at) stored twice, none that the simulator never served.
"""

from __future__ import annotations

import base64
import gzip
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson

from zdlogs import logs
from zdlogs.config import KNOWN_RESOURCES, Settings, load_settings
from zdlogs.errors import ZdlogsError
from zdlogs.pipeline import run
from zdlogs.simulator import SimConfig

EMAIL, TOKEN = "reliability@example.com", "CANARY-reliability-5f1e2d3c4b"
CANARIES = (TOKEN, base64.b64encode(f"{EMAIL}/token:{TOKEN}".encode()).decode())  # the token, the Basic credential
DATA_PREFIX = "zendesk/crm/"
DEFAULT_STREAMS = ("audit_logs", "incremental_tickets")  # the original function's: baseline comparisons
ALL_STREAMS = KNOWN_RESOURCES
EXACTLY_ONCE = {  # stream -> (truth key, id field of a truth item or None when the item is the id)
    "audit_logs": ("audit_logs", "id"),
    "access_logs": ("access_logs", "id"),
    "ticket_events": ("ticket_events", None),
}
VERSIONED = {
    "incremental_tickets": "ticket_versions",
    "users": "user_versions",
    "organizations": "organization_versions",
}


def account(**overrides: object) -> SimConfig:
    values: dict[str, object] = {
        "email": EMAIL,
        "api_token": TOKEN,
        "recent_exclusion_seconds": 1,
        "incremental_limit": 100_000,
        "account_limit": 1_000_000,
        "users_cursor_limit": 100_000,
        "access_logs_limit": 100_000,
    }
    values.update(overrides)
    return SimConfig(**values)  # type: ignore[arg-type]


def env_for(url: str, output: str, **extra: str) -> dict[str, str]:
    inherited = ("ZENDESK_", "ZDLOGS_", "AWS_", "GOOGLE_APPLICATION_CREDENTIALS")  # the fakes bring their own
    env = {k: v for k, v in os.environ.items() if not k.startswith(inherited)}
    env.update(
        ZENDESK_BASE_URL=url,
        ZENDESK_EMAIL=EMAIL,
        ZENDESK_API_TOKEN=TOKEN,
        ZDLOGS_OUTPUT=output,
        LOOKBACK_SECONDS=str(40 * 86400),
        ZDLOGS_SETTLE_SECONDS="1",
        ZDLOGS_INCREMENTAL_LIMIT="100000",
        ZDLOGS_RATE_SHARE="1",
        HTTP_TIMEOUT="5",
        ZDLOGS_LEASE_TTL="5",
    )
    env.update(extra)
    return env


def settings_for(url: str, output: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "base_url": url,
        "email": EMAIL,
        "api_token": TOKEN,
        "output": output,
        "lookback_seconds": 40 * 86400,
        "settle_seconds": 1,
        "max_pages": 100_000,
        "incremental_limit": 100_000,
        "rate_share": 1.0,
        "http_timeout": 5,
        "lease_ttl": 5,
    }
    values.update(overrides)
    return load_settings(**values)


def start_run(env: dict[str, str], command: list[str] | None = None) -> subprocess.Popen:
    """One collection run as a process: ``zdlogs run`` unless another command (the baseline) is given."""
    command = command or [sys.executable, "-m", "zdlogs", "--log-format", "json", "run"]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def drain_processes(env: dict[str, str], command: list[str], runs: int = 10) -> None:
    """Clean runs of a target that has no notion of "caught up" (the baseline): a fixed number."""
    time.sleep(2.2)
    for _ in range(runs):
        start_run(env, command).communicate(timeout=300)


def drain(settings: Settings, runs: int = 50, before_each: Callable[[int], None] | None = None) -> None:
    """Clean runs until caught up: what the next scheduled runs would do (``before_each(n)`` before run n)."""
    logs.configure("json", quiet=True)
    time.sleep(2.2)
    for number in range(runs):
        if before_each:
            before_each(number)
        try:
            summary = run(settings)
        except ZdlogsError:
            continue
        if summary.lease_holder:  # a killed run's lease on an object store: wait for it to expire
            time.sleep(1)
            continue
        if all(item.status == "ok" for item in summary.streams):
            return
    raise RuntimeError("collection did not catch up")


@dataclass
class StreamOutcome:
    """One stream's output against the truth. ``expected``: records (exactly-once streams) or records whose
    latest version must be there (versioned streams); ``invented``: stored but never served by the simulator."""

    stream: str
    expected: int
    lost: int
    duplicated: int
    invented: int

    def line(self) -> str:
        unit = "records" if self.stream in EXACTLY_ONCE else "latest versions"
        return (
            f"{self.stream}: {self.expected} {unit}, lost {self.lost}, duplicated {self.duplicated}, "
            f"invented {self.invented}"
        )


@dataclass
class Outcome:
    streams: list[StreamOutcome]

    @property
    def lost(self) -> int:
        return sum(item.lost for item in self.streams)

    @property
    def duplicated(self) -> int:
        return sum(item.duplicated for item in self.streams)

    @property
    def invented(self) -> int:
        return sum(item.invented for item in self.streams)

    @property
    def clean(self) -> bool:
        return not (self.lost or self.duplicated or self.invented)

    def of(self, stream: str) -> StreamOutcome:
        return next(item for item in self.streams if item.stream == stream)


def records(root: Path, stream: str) -> list[dict]:
    found = []
    for path in (root / DATA_PREFIX / stream).rglob("*.ndjson*"):
        found.extend(ndjson_records(path.read_bytes(), gzipped=path.suffix == ".gz"))
    return found


def ndjson_records(data: bytes, gzipped: bool = False) -> list[dict]:
    raw = gzip.decompress(data) if gzipped else data
    return [orjson.loads(line) for line in raw.splitlines() if line.strip()]


def latest_versions(versions: list) -> set[tuple]:
    latest: dict = {}
    for record_id, updated in versions:
        latest[record_id] = max(latest.get(record_id, updated), updated)
    return set(latest.items())


def compare_stream(truth: dict, stream: str, stored: list[dict]) -> StreamOutcome:
    """Exactly-once streams by id; versioned streams by (id, updated_at): none twice, none invented, the
    latest version of every record present (an intermediate version may be skipped, as Zendesk does)."""
    if stream in EXACTLY_ONCE:
        key, field = EXACTLY_ONCE[stream]
        served = {item[field] if field else item for item in truth[key]}
        got = Counter(record["id"] for record in stored)
        expected = served
    else:
        served = {tuple(item) for item in truth[VERSIONED[stream]]}
        got = Counter((record["id"], record["updated_at"]) for record in stored)
        expected = latest_versions(truth[VERSIONED[stream]])
    return StreamOutcome(
        stream=stream,
        expected=len(expected),
        lost=len(expected - set(got)),
        duplicated=sum(count - 1 for count in got.values()),
        invented=len(set(got) - served),
    )


def compare(truth: dict, stored: dict[str, list[dict]]) -> Outcome:
    """``stored``: each collected stream's records, as read back from the output."""
    return Outcome([compare_stream(truth, stream, found) for stream, found in stored.items()])


def canaries_in(*texts: str | bytes) -> int:
    """Occurrences of the suite's API token (raw or inside a Basic credential) in what a run printed or wrote."""
    found = 0
    for text in texts:
        data = text.encode() if isinstance(text, str) else text
        found += sum(data.count(form.encode()) for form in CANARIES)
    return found


def report(
    outcome: Outcome,
    foreign_objects: int,
    *,
    duplicates_allowed: bool = False,
    delivery_ok: bool = True,
    leaked: int | None = None,
) -> bool:
    """Print the figures every suite prints and its verdict; True when it passed.

    ``duplicates_allowed``: a sink that cannot write idempotently (SecOps) is judged on losses, invented
    records and ``delivery_ok`` (its duplicates within their documented bound), not on the duplicate count."""
    for item in outcome.streams:
        print(f"  {item.line()}")
    print(f"  non-data objects in the feed prefix {foreign_objects}")
    if leaked is not None:
        print(f"  API token occurrences in the runs' output and the storage {leaked}")
    duplicates = 0 if duplicates_allowed else outcome.duplicated
    passed = not (outcome.lost or outcome.invented or duplicates or foreign_objects or leaked) and delivery_ok
    print(f"  result: {'PASS' if passed else 'FAIL'}")
    return passed
