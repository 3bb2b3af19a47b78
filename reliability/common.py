"""Shared pieces of the reliability suites: a simulated account, the CLI as a process, the ground truth.

Each suite prints its figures; `make reliability` runs the full versions, `tests/reliability/` the short
ones in CI. Output is compared with the simulator's ground truth:

* audit log: every record exactly once (lost = in truth, not stored; duplicates = stored more than once);
* tickets: every ticket's latest version stored, no (id, updated_at) stored twice.
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import orjson

from zdlogs import logs
from zdlogs.config import Settings, load_settings
from zdlogs.errors import ZdlogsError
from zdlogs.pipeline import run
from zdlogs.simulator import SimConfig

EMAIL, TOKEN = "reliability@example.com", "CANARY-reliability-5f1e2d3c4b"
DATA_PREFIX = "zendesk/crm/"


def account(**overrides: object) -> SimConfig:
    values: dict[str, object] = {
        "email": EMAIL,
        "api_token": TOKEN,
        "recent_exclusion_seconds": 1,
        "incremental_limit": 100_000,
        "account_limit": 1_000_000,
    }
    values.update(overrides)
    return SimConfig(**values)  # type: ignore[arg-type]


def env_for(url: str, output: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZENDESK_", "ZDLOGS_"))}
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


def drain(settings: Settings, runs: int = 50) -> None:
    """Clean runs until caught up: what the next scheduled runs would do."""
    logs.configure("json", quiet=True)
    time.sleep(2.2)
    for _ in range(runs):
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
class Outcome:
    audit_lost: int
    audit_duplicates: int
    ticket_latest_missing: int
    ticket_duplicates: int

    @property
    def clean(self) -> bool:
        return not (self.audit_lost or self.audit_duplicates or self.ticket_latest_missing or self.ticket_duplicates)


def records(root: Path, stream: str) -> list[dict]:
    found = []
    for path in (root / DATA_PREFIX / stream).rglob("*.ndjson*"):
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        found.extend(orjson.loads(line) for line in raw.splitlines())
    return found


def compare(truth: dict, audit: list[dict], tickets: list[dict]) -> Outcome:
    stored = Counter(record["id"] for record in audit)
    expected = {record["id"] for record in truth["audit_logs"]}
    versions = Counter((t["id"], t["updated_at"]) for t in tickets)
    latest: dict[int, str] = {}
    for ticket_id, updated in truth["ticket_versions"]:
        latest[ticket_id] = max(latest.get(ticket_id, updated), updated)
    return Outcome(
        audit_lost=len(expected - set(stored)),
        audit_duplicates=sum(count - 1 for count in stored.values()),
        ticket_latest_missing=len(set(latest.items()) - set(versions)),
        ticket_duplicates=sum(count - 1 for count in versions.values()),
    )


def report(outcome: Outcome, foreign_objects: int) -> None:
    """The figures every suite prints, and its verdict."""
    print(
        f"  audit records lost {outcome.audit_lost}, duplicated {outcome.audit_duplicates}; ticket latest "
        f"versions missing {outcome.ticket_latest_missing}, versions duplicated {outcome.ticket_duplicates}; "
        f"non-data objects in the feed prefix {foreign_objects}"
    )
    print(f"  result: {'PASS' if outcome.clean and not foreign_objects else 'FAIL'}")
