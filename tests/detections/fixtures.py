"""Records as Zendesk writes them, laid out as ``zdlogs run -o`` does, for the detection tests.

Times are in March 2026 (Monday 2nd to Friday 6th are workdays); the admins are the simulator's people,
with addresses from the documentation ranges. Each test writes only the records it needs."""

from __future__ import annotations

import itertools
from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson

from zdlogs.detections.loader import load_rules
from zdlogs.detections.run import DetectRequest, Outcome, detect
from zdlogs.detections.tuning import Tuning

PRIYA, DANIEL, AGENT, SYSTEM = 381204556701, 381204556704, 381204557003, -1
NAMES = {PRIYA: "Priya Raman", DANIEL: "Daniel Okafor", AGENT: "Noah Becker", SYSTEM: "Zendesk"}
OFFICE, HOME, INTRUDER = "203.0.113.10", "198.51.100.23", "192.0.2.66"
_IDS = itertools.count(17004210000001)


def audit(
    created_at: str,
    action: str,
    source_type: str,
    label: str | None,
    description: str | None,
    actor: int = PRIYA,
    ip: str | None = OFFICE,
) -> dict[str, Any]:
    """One audit-log record in Zendesk's field order (api reference: audit_logs)."""
    record_id = next(_IDS)
    return {
        "url": f"https://acme.zendesk.com/api/v2/audit_logs/{record_id}.json",
        "id": record_id,
        "action_label": action.title(),
        "actor_id": actor,
        "actor_name": NAMES[actor],
        "source_id": 1004,
        "source_type": source_type,
        "source_label": label,
        "action": action,
        "change_description": description,
        "ip_address": None if actor == SYSTEM else ip,
        "created_at": created_at,
    }


def access(timestamp: str, url: str, user: int = DANIEL, ip: str = INTRUDER, n: int = 0) -> dict[str, Any]:
    """One access-log record as GET /api/v2/access_logs serves it (ULID-like string ids)."""
    return {
        "authorization_type": "basic",
        "bytes_sent": 98304,
        "category": "Tickets",
        "client": "python-requests/2.31.0",
        "graphql": None,
        "id": f"01M72N7QC796EZ5R4S2BR{n:05d}",
        "ip_address": ip,
        "method": "GET",
        "referer": None,
        "status": 200,
        "summary": "Export tickets",
        "timestamp": timestamp,
        "url": url,
        "user_id": user,
    }


def write(root: Path, audit_records: list[dict[str, Any]], access_records: list[dict[str, Any]] = ()) -> Path:  # type: ignore[assignment]
    """``root`` laid out as ``zdlogs run -o root`` writes it: one NDJSON file per stream and day."""
    for stream, records, time_field in (
        ("audit_logs", audit_records, "created_at"),
        ("access_logs", list(access_records), "timestamp"),
    ):
        by_day: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for record in records:
            by_day[record[time_field][:10]].append(record)
        for day, items in by_day.items():
            folder = root / "zendesk" / "crm" / stream / day.replace("-", "/")
            folder.mkdir(parents=True, exist_ok=True)
            body = b"".join(orjson.dumps(item) + b"\n" for item in items)
            (folder / f"{day.replace('-', '')}T000000Z-{items[0]['id']}.ndjson").write_bytes(body)
    return root


def run(root: Path, *rules: str, tuning: Tuning | None = None, since: str | None = None) -> Outcome:
    """``zdlogs detect`` over ``root`` (the rules named, else all), as the command runs it."""
    request = DetectRequest(str(root), "zendesk/crm/", since=since, rules=rules)
    return detect(request, load_rules().select(rules), tuning or Tuning())


def fired(outcome: Outcome) -> dict[str, list[list[Any]]]:
    """rule -> the record ids of each of its findings."""
    found: dict[str, list[list[Any]]] = defaultdict(list)
    for finding in outcome.findings:
        found[finding.rule].append(finding.record_ids)
    return dict(found)
