"""Zendesk answering wrongly, played by the simulator's tampering over real HTTP, met by the CLI.

Each case: the right exit code, one clear error line (or a handled, logged case), no traceback, no secret,
and once Zendesk behaves again, nothing lost.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import CANARY_TOKEN
from tests.e2e.helpers import collector_env, collector_settings, read_records, sim_config, zdlogs
from tests.e2e.test_exactly_once import assert_complete
from tests.e2e.test_streams import assert_new_streams_complete
from zdlogs.pipeline import run
from zdlogs.simulator import Simulator
from zdlogs.simulator._http import Response

AUDIT = r"^/api/v2/audit_logs"
TICKETS = r"^/api/v2/incremental/tickets"


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(sim_config(audit_logs=250, tickets=60)).start() as simulator:
        yield simulator


def on_first_record(change: Callable[[dict], None], key: str = "audit_logs") -> Callable[[dict], dict]:
    def apply(body: dict) -> dict:
        if body.get(key):
            change(body[key][0])
        return body

    return apply


def replace(key: str, value: object) -> Callable[[dict], dict]:
    return lambda body: {**body, key: value}


def without(key: str) -> Callable[[dict], dict]:
    return lambda body: {k: v for k, v in body.items() if k != key}


def drop_field(field: str) -> Callable[[dict], None]:
    return lambda record: record.pop(field, None)


def set_field(field: str, value: object) -> Callable[[dict], None]:
    return lambda record: record.__setitem__(field, value)


def reverse_records(body: dict) -> dict:
    return {**body, "audit_logs": list(reversed(body["audit_logs"]))}


def foreign_next_without_cursor(body: dict) -> dict:
    """A link to another host and no cursor to ask our origin with: nothing safe to follow (a link to another
    host with a cursor is followed on our origin: tests/e2e/test_security.py)."""
    meta = {**body["meta"], "has_more": True, "after_cursor": None}
    return {**body, "meta": meta, "links": {"next": "https://evil.example/api/v2/x"}}


def redirect(_body: dict) -> Response:
    return Response(302, b"", None, [("Location", "https://evil.example/api/v2/audit_logs")])


HTML_PAGE = b"<!DOCTYPE html><html><body><h1>Zendesk is down for maintenance</h1></body></html>"

# (id, path, change, exit code, text expected on stderr)
CASES = [
    ("audit-html-200", AUDIT, lambda _b: HTML_PAGE, 4, "not JSON"),
    ("audit-empty-body", AUDIT, lambda _b: b"", 4, "not JSON"),
    ("audit-json-array", AUDIT, lambda _b: b"[]", 4, "not an object"),
    ("audit-records-not-list", AUDIT, replace("audit_logs", {"id": 1}), 4, "list of 'audit_logs'"),
    ("audit-record-not-object", AUDIT, replace("audit_logs", [1, 2]), 4, "list of 'audit_logs'"),
    ("audit-missing-meta", AUDIT, without("meta"), 4, "meta.has_more"),
    ("audit-has-more-string", AUDIT, replace("meta", {"has_more": "false"}), 4, "meta.has_more"),
    ("audit-id-string", AUDIT, on_first_record(set_field("id", "498483")), 4, "integer id"),
    ("audit-id-missing", AUDIT, on_first_record(drop_field("id")), 4, "integer id"),
    ("audit-created-missing", AUDIT, on_first_record(drop_field("created_at")), 4, "created_at"),
    ("audit-created-garbled", AUDIT, on_first_record(set_field("created_at", "yesterday")), 4, "unreadable created_at"),
    ("audit-ids-out-of-order", AUDIT, reverse_records, 4, "did not sort oldest first"),
    ("audit-next-other-host-no-cursor", AUDIT, foreign_next_without_cursor, 4, "refused"),
    ("audit-redirect-other-host", AUDIT, redirect, 4, "redirects are not followed"),
    ("tickets-html-200", TICKETS, lambda _b: HTML_PAGE, 4, "not JSON"),
    ("tickets-not-list", TICKETS, replace("tickets", "none"), 4, "list of 'tickets'"),
    ("tickets-no-cursor", TICKETS, without("after_cursor"), 4, "after_cursor"),
    # after a first complete run the saved cursor is at the end; Zendesk then hands it back unchanged
    # without end_of_stream: the loop several Zendesk clients fell into
    ("tickets-cursor-repeats-after-warm-run", TICKETS, replace("end_of_stream", False), 4, "instead of"),
    (
        "tickets-no-timestamps",
        TICKETS,
        on_first_record(lambda t: [t.pop("generated_timestamp"), t.pop("updated_at")], "tickets"),
        4,
        "generated_timestamp",
    ),
]


@pytest.mark.parametrize(("case", "path", "change", "code", "message"), CASES, ids=[c[0] for c in CASES])
def test_bad_zendesk_answers(
    sim: Simulator, tmp_path: Path, case: str, path: str, change: Callable, code: int, message: str
) -> None:
    sim.clear_tampering()
    if case.endswith("after-warm-run"):
        run(collector_settings(sim.url, tmp_path))
    sim.tamper(path, change)
    try:
        result = zdlogs("run", env=collector_env(sim.url, tmp_path, HTTP_RETRIES="1"))
    finally:
        sim.clear_tampering()
    errors = [line for line in result.stderr.splitlines() if line.startswith("zdlogs: error:")]
    assert result.returncode == code, result.stderr[-2000:]
    assert len(errors) == 1 and message in errors[0], result.stderr[-2000:]
    assert "Traceback" not in result.stderr and CANARY_TOKEN not in result.stderr + result.stdout
    run(collector_settings(sim.url, tmp_path))  # Zendesk is fine again: the next run completes the data
    assert_complete(sim, tmp_path)


def test_odd_unicode_is_kept_byte_for_byte(sim: Simulator, tmp_path: Path) -> None:
    odd = 'Trigger « Ünïcødé » 🚨 عربى \u200f שלום \u0000 \\ " \n end'
    sim.tamper(AUDIT, on_first_record(set_field("change_description", odd)), times=1)
    try:
        run(collector_settings(sim.url, tmp_path, resources="audit_logs"))
    finally:
        sim.clear_tampering()
    assert odd in [record.get("change_description") for record in read_records(tmp_path, "audit_logs")]


def test_a_record_over_the_siem_line_limit_is_stored_and_reported(sim: Simulator, tmp_path: Path) -> None:
    huge = "x" * (5 * 1024 * 1024)
    sim.tamper(AUDIT, on_first_record(set_field("change_description", huge)), times=1)
    try:
        result = zdlogs("run", env=collector_env(sim.url, tmp_path, RESOURCES="audit_logs"))
    finally:
        sim.clear_tampering()
    assert result.returncode == 0, result.stderr[-1000:]
    assert "record_over_line_limit" in result.stderr
    assert huge in [record.get("change_description") for record in read_records(tmp_path, "audit_logs")]


def test_a_lone_surrogate_escape_does_not_block_the_stream(sim: Simulator, tmp_path: Path) -> None:
    """Valid JSON that orjson refuses (\\ud800 alone) must not become a poison page retried forever."""

    def lone_surrogate(body: dict) -> bytes:
        body["audit_logs"][0]["change_description"] = "MARK"
        return json.dumps(body).replace("MARK", "bad \\ud800 half").encode()

    sim.tamper(AUDIT, lone_surrogate, times=1)
    try:
        summary = run(collector_settings(sim.url, tmp_path, resources="audit_logs"))
    finally:
        sim.clear_tampering()
    assert summary.streams[0].records == 250
    assert_complete(sim, tmp_path, tickets=False)


# The issue-8 streams: the same rules (right exit code, one line, nothing lost once Zendesk behaves).
ACCESS, EVENTS = r"^/api/v2/access_logs", r"^/api/v2/incremental/ticket_events"
USERS, ORGS = r"^/api/v2/incremental/users", r"^/api/v2/incremental/organizations"
JSON_API_400 = b'{"errors":[{"detail":"max allowed page size is 2500","title":"Malformed query params"}]}'
NEW_CASES = [
    ("access-id-number", ACCESS, on_first_record(set_field("id", 5), "access_logs"), "string id"),
    ("access-timestamp-garbled", ACCESS, on_first_record(set_field("timestamp", "soon"), "access_logs"), "timestamp"),
    ("access-missing-meta", ACCESS, without("meta"), "meta.has_more"),
    ("access-next-other-host-no-cursor", ACCESS, foreign_next_without_cursor, "refused"),
    ("access-json-api-400", ACCESS, lambda _b: Response(400, JSON_API_400, "application/json"), "Malformed query"),
    ("events-not-list", EVENTS, replace("ticket_events", "none"), "list of 'ticket_events'"),
    ("events-end-time-garbled", EVENTS, replace("end_time", "soon"), "end_time"),
    ("events-timestamp-missing", EVENTS, on_first_record(drop_field("timestamp"), "ticket_events"), "timestamp"),
    ("events-empty-page-never-ends-after-warm-run", EVENTS, replace("end_of_stream", False), "instead of looping"),
    ("users-no-cursor", USERS, without("after_cursor"), "after_cursor"),
    ("users-cursor-repeats-after-warm-run", USERS, replace("end_of_stream", False), "instead of"),
    ("orgs-updated-garbled", ORGS, on_first_record(set_field("updated_at", "soon"), "organizations"), "updated_at"),
]
NEW_STREAMS = "access_logs,ticket_events,users,organizations"


@pytest.fixture(scope="module")
def full_sim() -> Iterator[Simulator]:
    config = sim_config(audit_logs=20, tickets=60, access_logs=400, users=40, organizations=10)
    with Simulator(config).start() as simulator:
        yield simulator


@pytest.mark.parametrize(("case", "path", "change", "message"), NEW_CASES, ids=[c[0] for c in NEW_CASES])
def test_bad_answers_on_the_new_streams(
    full_sim: Simulator, tmp_path: Path, case: str, path: str, change: Callable, message: str
) -> None:
    full_sim.clear_tampering()
    if case.endswith("after-warm-run"):
        run(collector_settings(full_sim.url, tmp_path, resources=NEW_STREAMS))
    full_sim.tamper(path, change)
    try:
        result = zdlogs("run", env=collector_env(full_sim.url, tmp_path, HTTP_RETRIES="1", RESOURCES=NEW_STREAMS))
    finally:
        full_sim.clear_tampering()
    errors = [line for line in result.stderr.splitlines() if line.startswith("zdlogs: error:")]
    assert result.returncode == 4, result.stderr[-2000:]  # the three other streams were collected
    assert len(errors) == 1 and message in errors[0], result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    run(collector_settings(full_sim.url, tmp_path, resources=NEW_STREAMS))
    assert_new_streams_complete(full_sim, tmp_path)
