"""A small hand-made audit log whose every report can be computed by hand (see the comments).

Twelve records, March 2026 (Mondays: 2, 9, 16, 23, 30; Europe/Paris moves to summer time on the 29th):
admins Alice (101) and Bob (102), agent Carol (201), Zendesk's system actor (-1), and Mallory (999),
who is on no allow-list and works at night from 192.0.2.66.
"""

from __future__ import annotations

import gzip
from collections import defaultdict
from pathlib import Path

import orjson

ALICE, BOB, CAROL, SYSTEM, MALLORY = 101, 102, 201, -1, 999
NAMES = {ALICE: "Alice Admin", BOB: "Bob Builder", CAROL: "Carol Agent", SYSTEM: "Zendesk", MALLORY: "Mallory"}
AWKWARD = 'Conditions changed: "Status is Open, Pending" → "Status is Solved"\nsecond line, with a comma\r\nand CRLF'
FORMULA = '=HYPERLINK("http://evil.example","click")'
UNICODE_LABEL = "Ticket field: Área de producto — 東京 🚀"


def rec(record_id, created_at, actor, action, source_type, source_id, label, description, ip, **extra) -> dict:
    record = {
        "url": f"https://acme.zendesk.com/api/v2/audit_logs/{record_id}.json",
        "id": record_id,
        "action_label": action.title(),
        "actor_id": actor,
        "actor_name": NAMES[actor],
        "source_id": source_id,
        "source_type": source_type,
        "source_label": label,
        "action": action,
        "change_description": description,
        "ip_address": ip,
        "created_at": created_at,
    }
    record.update(extra)
    return record


RECORDS = [
    rec(1, "2026-03-02T09:00:00Z", ALICE, "update", "rule", 5001, "Trigger: Notify requester",
        'Conditions changed: added "Priority is Urgent"', "203.0.113.1"),
    rec(2, "2026-03-02T09:00:00Z", ALICE, "update", "rule", 5001, "Trigger: Notify requester", "Title changed",
        "203.0.113.1"),
    rec(3, "2026-03-02T10:15:00Z", CAROL, "login", "user", CAROL, "Carol Agent", "Successful sign-in", "203.0.113.50"),
    rec(4, "2026-03-03T23:30:00Z", BOB, "update", "account_setting", 1005, "IP restrictions", "Disabled",
        "198.51.100.7"),
    rec(5, "2026-03-07T11:00:00Z", BOB, "destroy", "rule", 5002, "Macro: Close and redirect", "Deleted",
        "198.51.100.7"),
    rec(6, "2026-03-09T14:00:00Z", ALICE, "create", "user", 7001, FORMULA, "Created", "203.0.113.1"),
    rec(7, "2026-03-10T02:00:00Z", SYSTEM, "update", "rule", 5003, "Automation: Close ticket",
        "Deactivated: automation exceeded the action limit", None),
    rec(8, "2026-03-10T02:10:00Z", MALLORY, "update", "user", MALLORY, "Mallory",
        "Role changed from Agent to Administrator", "192.0.2.66"),
    rec(9, "2026-03-10T02:20:00Z", MALLORY, "update", "rule", 5004, "View: Urgent tickets", AWKWARD, "192.0.2.66"),
    rec(10, "2026-03-10T02:40:00Z", MALLORY, "exported", "account", 1, "Account: Acme", "Full JSON export requested",
        "192.0.2.66", metadata={"via": {"channel": "api"}, "tags": ["a", "b"]}),
    rec(11, "2026-03-27T06:30:00Z", ALICE, "update", "sla_policy", 6001, "Urgent SLA", "Targets changed",
        "203.0.113.1"),
    rec(12, "2026-03-30T06:30:00Z", ALICE, "update", "ticket_field", 8001, UNICODE_LABEL, "Name changed",
        "203.0.113.1"),
]  # fmt: skip
# Carol's sign-in is an older record without ip_address and action_label: the reader must not mind.
del RECORDS[2]["ip_address"], RECORDS[2]["action_label"]

BY_ID = {record["id"]: record for record in RECORDS}


def write_collected(root: Path, records: list[dict] = RECORDS, gzip_days: tuple[str, ...] = ("2026-03-10",)) -> Path:
    """Lay records out as ``zdlogs run -o root`` does: one object per day here, some gzipped."""
    by_day: dict[str, list[dict]] = defaultdict(list)
    for record in records:
        by_day[record["created_at"][:10]].append(record)
    for day, items in by_day.items():
        folder = root / "zendesk" / "crm" / "audit_logs" / day.replace("-", "/")
        folder.mkdir(parents=True, exist_ok=True)
        body = b"".join(orjson.dumps(item) + b"\n" for item in items)
        name = f"{day.replace('-', '')}T000000Z-{items[0]['id']}-0000000000000000.ndjson"
        if day in gzip_days:
            (folder / f"{name}.gz").write_bytes(gzip.compress(body))
        else:
            (folder / name).write_bytes(body)
    (root / "_zdlogs").mkdir(exist_ok=True)
    (root / "_zdlogs" / "state.json").write_text("{}")  # outside the data prefix: never read as audit data
    return root


# A second account, globex, whose users have the same ids as acme's (ids are per Zendesk account) but other
# names, and whose first records have the same ids as acme's: across a fleet only (tenant, id) tells them apart.
GLOBEX_NAMES = {ALICE: "Gina Globex", BOB: "Hank Globex", CAROL: "Iris Globex"}
GLOBEX_RECORDS = [
    {**record, "actor_name": GLOBEX_NAMES[record["actor_id"]], "url": record["url"].replace("acme", "globex")}
    for record in RECORDS[:5]
]
FLEET_TENANTS = ("acme", "globex", "initech")  # initech has collected nothing yet


def write_fleet(root: Path) -> Path:
    """A fleet file whose tenants keep their data under ``root/out/<tenant>/``, as ``zdlogs run --config``
    places them: acme holds RECORDS, globex GLOBEX_RECORDS, initech nothing."""
    write_collected(root / "out" / "acme")
    write_collected(root / "out" / "globex", GLOBEX_RECORDS)
    tenants = {name: {"base_url": f"https://{name}.zendesk.com"} for name in FLEET_TENANTS}
    path = root / "fleet.yaml"
    path.write_text(orjson.dumps({"defaults": {"output": str(root / "out")}, "tenants": tenants}).decode())
    return path
