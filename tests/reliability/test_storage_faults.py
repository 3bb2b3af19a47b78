"""The storage-fault suite (reliability/storage_faults.py): how it judges a run, and its short version as CI
runs it.

The short version: S3 (moto's server) behind the fault proxy, random faults on every request and two outages
that outlast boto3's retries after a write landed unacknowledged, one aimed at a data object, one at the
checkpoint. It must end with nothing lost or duplicated, no traceback, every failed run naming S3 as its
cause, and no checkpoint ever ahead of the stored data. The full runs (GCS, S3, SecOps' state store on GCS)
and their figures are in docs/RELIABILITY.md.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from reliability.storage_faults import checkpoint_gaps, epoch, export_cursor_key, uncovered, wrong_cause

from zdlogs.simulator._cursors import encode_export_cursor

ROOT = Path(__file__).resolve().parents[2]
SHORT = "--runs 4 --outage-every 2 --targets data,state --storage s3 --seed 3 --latency 0.05"
STREAM_LINE = re.compile(
    r"^  (\w+): \d+ (?:records|latest versions), lost (\d+), duplicated (\d+), invented (\d+)$", re.M
)

GCS_DOWN = (
    "zdlogs: error: GCS did not answer while trying to write gs://b/zendesk/crm/audit_logs/x.ndjson (Timeout of "
    "120.0s exceeded, last error: ServiceUnavailable): check the network (or STORAGE_EMULATOR_HOST); the "
    "checkpoint was not moved, so the next run continues from it"
)
ANOTHER_WRITER = (
    "zdlogs: error: another writer changed gs://b/_zdlogs/state.json since this run read it: this run stops "
    "without moving the checkpoint; check that only one zdlogs collects into this output"
)


def test_a_failed_run_must_name_the_storage_and_no_phantom_writer() -> None:
    assert wrong_cause(0, "anything", "gcs") == ""
    assert wrong_cause(5, '{"event": "page"}\n' + GCS_DOWN + "\n", "gcs") == ""
    assert "another writer" in wrong_cause(5, ANOTHER_WRITER, "gcs")
    assert "does not name the storage" in wrong_cause(5, GCS_DOWN.replace("GCS", "It").replace("gs://", "x://"), "gcs")
    assert "does not name the storage" in wrong_cause(5, GCS_DOWN, "s3")
    assert "last line is not the error" in wrong_cause(1, "Traceback (most recent call last):\n  ValueError: x", "s3")
    assert "not a storage error's 5" in wrong_cause(1, GCS_DOWN, "gcs")
    zendesk = "zdlogs: error: Zendesk still failing after retries (HTTP 503) gs://b/"
    assert "Zendesk" in wrong_cause(5, zendesk, "secops")


TRUTH = {
    "audit_logs": [
        {"id": 1, "created_at": "2026-12-01T10:00:00Z"},
        {"id": 2, "created_at": "2026-12-01T10:00:05Z"},
        {"id": 3, "created_at": "2026-12-01T10:00:05Z"},
        {"id": 4, "created_at": "2026-12-01T10:00:09Z"},
    ],
    "ticket_versions": [[7, "2026-12-01T10:00:00Z"], [7, "2026-12-01T10:00:30Z"], [8, "2026-12-01T10:00:10Z"]],
}


def cursor(moment: str, ticket: int) -> str:
    """The simulator's own export cursor for a position."""
    return encode_export_cursor((epoch(moment), ticket))


def test_a_window_checkpoint_is_covered_when_every_record_before_it_and_its_seen_ids_are_stored() -> None:
    checkpoint = {"since": "2026-12-01T10:00:05Z", "seen_ids": [2]}
    assert uncovered("audit_logs", checkpoint, TRUTH, [{"id": 1}, {"id": 2}]) == 0  # 3 comes again next run
    assert uncovered("audit_logs", checkpoint, TRUTH, [{"id": 2}]) == 1
    assert uncovered("audit_logs", {"since": "2026-12-01T10:00:09Z", "seen_ids": [4]}, TRUTH, []) == 4
    assert uncovered("audit_logs", {}, TRUTH, []) == 0


def test_a_ticket_cursor_is_covered_when_the_latest_version_of_every_ticket_before_it_is_stored() -> None:
    assert export_cursor_key(cursor("2026-12-01T10:00:10Z", 8)) == (1796119210, 8)
    before_the_update = {"cursor": cursor("2026-12-01T10:00:10Z", 8)}
    assert (
        uncovered("incremental_tickets", before_the_update, TRUTH, [{"id": 8, "updated_at": "2026-12-01T10:00:10Z"}])
        == 0
    )
    assert (
        uncovered("incremental_tickets", before_the_update, TRUTH, []) == 1
    )  # ticket 8; ticket 7's newest version is after the cursor
    past_all = {"cursor": cursor("2026-12-01T10:00:30Z", 7)}
    assert uncovered("incremental_tickets", past_all, TRUTH, [{"id": 7, "updated_at": "2026-12-01T10:00:00Z"}]) == 2


def test_a_pending_page_counts_only_once_it_is_stored() -> None:
    ahead = {"checkpoint": {"since": "2026-12-01T10:00:09Z", "seen_ids": [4]}, "key": "zendesk/crm/p.ndjson"}
    state = {
        "streams": {"audit_logs": {"checkpoint": {"since": "2026-12-01T10:00:00Z", "seen_ids": [1]}, "pending": ahead}}
    }
    stored = {"audit_logs": [{"id": 1}]}
    assert checkpoint_gaps(state, TRUTH, stored.__getitem__, lambda key: False) == []
    gaps = checkpoint_gaps(state, TRUTH, stored.__getitem__, lambda key: key == "zendesk/crm/p.ndjson")
    assert len(gaps) == 1 and gaps[0].startswith("audit_logs: 3 records before its pending page's checkpoint")


def test_short_storage_fault_suite_loses_and_doubles_nothing_and_names_the_storage() -> None:
    command = [sys.executable, "-m", "reliability.storage_faults", *SHORT.split()]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=280)
    out = result.stdout
    streams = {stream: (int(lost), int(dup)) for stream, lost, dup, _ in STREAM_LINE.findall(out)}
    assert set(streams) == {"audit_logs", "incremental_tickets"}, out + result.stderr[-3000:]
    assert all(figures == (0, 0) for figures in streams.values()), out
    assert re.search(r"tracebacks 0; non-zero exits not naming the storage as the cause 0$", out, re.M), out
    assert re.search(r"checkpoint ahead of stored data 0 ", out), out
    assert re.search(r"outages \(.*\): data 1, state 1;", out), out  # both outages happened
    assert "result: PASS" in out and result.returncode == 0, out
