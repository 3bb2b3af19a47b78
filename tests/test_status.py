"""``zdlogs status`` from state entries: how far each stream is collected, its lag, the rules of exit 6, the
lease of a directory output asked without taking it, the table (nothing cut, blocks when narrow) and the JSON
whose fields docs/STATUS.md documents. Through the CLI as a process, on every kind of output:
tests/e2e/test_status.py."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.conftest import make_settings
from zdlogs.state import StateStore
from zdlogs.status import (
    LeaseStatus,
    Status,
    checkpoint_time,
    lease_status,
    read_status,
    render_json,
    render_table,
    span,
    stream_status,
)
from zdlogs.stores.local import LocalStore

ROOT = Path(__file__).resolve().parent.parent
KEY = "_zdlogs/state.json"
NOW = datetime(2026, 12, 2, 12, 0, 0, tzinfo=UTC)
RUN = {"started": "2026-12-02T11:00:00Z", "finished": "2026-12-02T11:00:09Z", "by": "h:1", "outcome": "ok"}


def entry(**fields: Any) -> dict[str, Any]:
    return {"checkpoint": {}, "pending": None, **fields}


def test_the_lag_runs_from_the_later_of_the_checkpoint_and_the_last_complete_run() -> None:
    audit = entry(checkpoint={"since": "2026-12-02T08:00:00Z", "seen_ids": [1]}, complete_to="2026-12-02T11:58:00Z")
    item = stream_status("audit_logs", {**audit, "last_run": RUN}, NOW, None)
    assert (item.checkpoint_time, item.collected_to, item.lag_seconds) == (
        "2026-12-02T08:00:00Z",
        "2026-12-02T11:58:00Z",
        120,
    )
    limited = stream_status("audit_logs", {**audit, "complete_to": None, "last_run": RUN}, NOW, None)
    assert limited.lag_seconds == 4 * 3600  # no run went to the end: the checkpoint alone says how far


def test_a_cursor_export_is_dated_by_the_newest_record_stored_and_a_backfill_by_its_plan() -> None:
    tickets = entry(checkpoint={"cursor": "abc"}, newest_record="2026-12-02T09:00:00Z")
    assert checkpoint_time("incremental_tickets", tickets) == "2026-12-02T09:00:00Z"
    assert checkpoint_time("incremental_tickets", entry(checkpoint={"cursor": "abc"})) is None  # before run records
    plan = {"until": "x", "windows": [{"start": "2026-11-01T00:00:00Z", "done": False, "pending": {"key": "k"}}]}
    planned = entry(backfill=plan, pending={"key": "p"})
    assert checkpoint_time("audit_logs", planned) == "2026-11-01T00:00:00Z"
    item = stream_status("audit_logs", planned, NOW, None)
    assert (item.pending, item.backfill, item.problem) == (2, {"windows": 1, "done": 0}, None)  # started: not "never"


@pytest.mark.parametrize(
    ("stream_entry", "max_lag", "problem"),
    [
        (None, None, "was never collected"),
        (entry(), None, "was never collected"),
        (entry(last_run={**RUN, "outcome": "failed", "error": "HTTP 500 ..."}), None, "last run failed at"),
        (
            entry(last_run={**RUN, "outcome": "skipped", "error": "403: needs the add-on"}),
            None,
            "403: needs the add-on",
        ),
        (entry(last_run=RUN, complete_to="2026-12-02T09:00:00Z"), 2 * 3600, "lags 3h00m00s, more than --max-lag 2h"),
        (entry(checkpoint={"cursor": "abc"}, last_run=RUN), 3600, "has no known lag yet"),
    ],
)
def test_what_needs_attention(stream_entry: dict | None, max_lag: int | None, problem: str) -> None:
    name = "incremental_tickets" if stream_entry and "cursor" in stream_entry["checkpoint"] else "audit_logs"
    item = stream_status(name, stream_entry, NOW, max_lag)
    assert item.problem is not None and problem in item.problem


@pytest.mark.parametrize(
    ("stream_entry", "max_lag"),
    [
        (entry(last_run=RUN, complete_to="2026-12-02T09:00:00Z"), None),  # no --max-lag: any lag is fine
        (entry(last_run=RUN, complete_to="2026-12-02T10:00:00Z"), 2 * 3600),  # exactly the limit
        (entry(last_run={**RUN, "outcome": "interrupted"}, complete_to="2026-12-02T11:00:00Z"), 3600),
        (entry(last_run={**RUN, "outcome": "limited"}, checkpoint={"since": "2026-12-02T11:30:00Z"}), 3600),
        (entry(checkpoint={"since": "2026-12-01T00:00:00Z"}), None),  # a checkpoint from before run records
    ],
)
def test_what_is_fine(stream_entry: dict, max_lag: int | None) -> None:
    assert stream_status("audit_logs", stream_entry, NOW, max_lag).problem is None


def test_a_stream_not_configured_is_shown_and_not_judged(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    state = StateStore(store, KEY)
    state.record_run("users", {**RUN, "outcome": "failed", "error": "boom"})
    state.flush()
    status = read_status(make_settings(output=str(tmp_path), resources="audit_logs"), now=NOW)
    assert [(item.stream, item.configured) for item in status.streams] == [("audit_logs", True), ("users", False)]
    assert [item.stream for item in status.attention] == ["audit_logs"]  # never collected; users is not judged
    assert "users*" in render_table(status) and "* not in RESOURCES (--resources): shown, not judged" in (
        render_table(status)
    )
    assert status.verdict().startswith("1 of 1 streams need attention - audit_logs was never collected")


def test_status_of_a_directory_creates_and_writes_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "not-yet"
    status = read_status(make_settings(output=str(missing)), now=NOW)
    assert not missing.exists()
    assert status.state == f"{missing.as_uri()}/{KEY}" and not status.healthy


def test_the_lease_of_a_directory_is_asked_without_taking_it(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    key = KEY + ".lease"
    assert lease_status(store, key, NOW) == LeaseStatus("free")
    with store.lease(key, "host:42") as lease:
        assert lease.acquired
        held = lease_status(store, key, NOW)
        assert (held.state, held.owner, held.since, held.until) == ("held", "host:42", lease.since, "")
        assert held.describe() == f"held by host:42 since {lease.since}, until its process ends"
    assert lease_status(store, key, NOW).state == "free"  # released: free again, and the file left as it was


def test_span_is_exact_to_the_second() -> None:
    assert [span(s) for s in (0, 45, 477, 3723, 273906)] == ["0s", "45s", "7m57s", "1h02m03s", "3d04h05m06s"]


def _status() -> Status:
    big = {**RUN, "records": 1234567, "finished": "2026-12-02T11:00:09Z"}
    streams = [
        stream_status("audit_logs", entry(last_run=big, complete_to="2026-12-02T11:58:00Z"), NOW, None),
        stream_status("access_logs", None, NOW, None),
    ]
    return Status("./out", f"file:///out/{KEY}", "2026-12-02T12:00:00Z", None, LeaseStatus("free"), streams)


def test_the_table_cuts_nothing_and_turns_into_blocks_when_narrow() -> None:
    wide, narrow = render_table(_status(), width=200), render_table(_status(), width=60)
    for text in (wide, narrow):
        assert "1,234,567" in text and "2026-12-02T11:58:00Z" in text and "2m00s" in text
    assert re.search(
        r"^audit_logs\s+2026-12-02T11:00:09Z\s+ok\s+1,234,567\s+2026-12-02T11:58:00Z\s+2m00s\s+0$", wide, re.M
    )
    assert "\n  records       1,234,567\n" in narrow and "\n  lag           2m00s\n" in narrow
    assert all(len(line) <= 60 for line in narrow.splitlines()[1:])  # the heading may wrap, no figure is cut


def test_the_json_holds_exactly_the_fields_docs_status_md_documents() -> None:
    doc = orjson.loads(render_json(_status()))
    documented = (ROOT / "docs" / "STATUS.md").read_text()
    table = documented.split("## `zdlogs status --format json`", 1)[1].split("\n## ", 1)[0]
    fields = set(re.findall(r"^\| `([a-z_.\[\]]+)` \|", table, flags=re.M))
    stream, run = doc["streams"][0], doc["streams"][0]["last_run"]
    shown = {*doc, *(f"lease.{key}" for key in doc["lease"]), *(f"streams[].{key}" for key in stream)}
    shown |= {f"streams[].last_run.{key}" for key in run} | {"streams[].backfill.windows", "streams[].backfill.done"}
    assert shown == fields
    assert doc["format"] == 1 and doc["healthy"] is False and doc["streams"][1]["last_run"] is None


def test_a_lease_past_its_expiry_is_expired_not_held() -> None:
    lease = LeaseStatus("expired", "host:7", "2026-12-02T10:00:00+00:00", "2026-12-02T10:15:00+00:00")
    assert lease.describe().startswith("expired at 2026-12-02T10:15:00+00:00 (held by host:7, a run that died)")
    assert lease.to_json() == {"state": "expired", "owner": "host:7", "since": lease.since, "until": lease.until}
