"""The incremental ticket export: its endpoint, its records, where its first request starts and how it resumes."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.streams.replay import replay
from tests.streams.test_cursor_export import CTX, NOW, export, ticket
from zdlogs.streams.base import StreamContext
from zdlogs.streams.cursor_export import CursorCheckpoint
from zdlogs.streams.tickets import IncrementalTickets


def test_tickets_come_from_the_cursor_endpoint_under_tickets_and_are_filed_by_generated_timestamp() -> None:
    stamp = int(datetime(2026, 11, 24, 9, 30, tzinfo=UTC).timestamp())
    pages, seen = replay(IncrementalTickets(), [export([ticket(5, stamp)], "c1", True)], CursorCheckpoint(), CTX)
    assert seen[0].url.path == "/api/v2/incremental/tickets/cursor.json"
    assert [r["id"] for r in pages[0].records] == [5]
    assert pages[0].day == "2026/11/24" and pages[0].position == "20261124T093000Z-5"
    assert IncrementalTickets.checkpoint_type is CursorCheckpoint


def test_a_first_run_starts_at_since_and_sends_no_cursor() -> None:
    since = datetime(2026, 11, 20, tzinfo=UTC)
    ctx = StreamContext(now=NOW, lookback_seconds=3600, settle_seconds=1, since=since)
    _pages, seen = replay(IncrementalTickets(), [export([], "c1", True)], CursorCheckpoint(), ctx)
    assert int(seen[0].url.params["start_time"]) == int(since.timestamp())
    assert "cursor" not in seen[0].url.params


def test_a_saved_cursor_is_resumed_without_start_time() -> None:
    checkpoint = IncrementalTickets.checkpoint_type.from_json({"cursor": "saved"})
    pages, seen = replay(IncrementalTickets(), [export([ticket(1, 100)], "next", True)], checkpoint, CTX)
    assert seen[0].url.params["cursor"] == "saved" and "start_time" not in seen[0].url.params
    assert pages[-1].checkpoint.to_json() == {"cursor": "next"}
