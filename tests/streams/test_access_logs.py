"""The access-log stream's request shape and retention rule, over MockTransport."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import structlog

from tests.streams.replay import BASE, replay
from zdlogs.streams.access_logs import AccessLogs
from zdlogs.streams.base import StreamContext
from zdlogs.streams.windowed import WindowCheckpoint

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def page(records: list[dict], has_more: bool, after: str = "c1") -> httpx.Response:
    body = {"access_logs": records, "meta": {"has_more": has_more, "after_cursor": after, "before_cursor": None},
            "links": {"next": f"{BASE}/api/v2/access_logs?page[after]={after}", "prev": None}}  # fmt: skip
    return httpx.Response(200, json=body)


def log(ulid: str, second: int) -> dict:
    return {"id": ulid, "timestamp": f"2026-11-25T10:00:{second:02d}Z", "url": "/api/v2/users", "method": "GET"}


def collect(responses: list[httpx.Response], checkpoint: WindowCheckpoint, ctx: StreamContext):
    return replay(AccessLogs(), responses, checkpoint, ctx)


def test_windows_use_filter_start_end_and_the_largest_page() -> None:
    ctx = StreamContext(now=NOW, lookback_seconds=3600, settle_seconds=60)
    responses = [page([log("01A", 1), log("01B", 1)], True), page([log("01B", 1), log("01C", 2)], False)]
    pages, seen = collect(responses, WindowCheckpoint("2026-11-25T10:00:00Z"), ctx)
    first = seen[0].url.params
    assert first["page[size]"] == "2500"
    assert (first["filter[start]"], first["filter[end]"]) == ("2026-11-25T10:00:00Z", "2026-11-25T11:59:00Z")
    assert seen[1].url.params["page[after]"] == "c1" and "filter[start]" not in seen[1].url.params
    assert [r["id"] for p in pages for r in p.records] == ["01A", "01B", "01C"]
    assert pages[-1].checkpoint == WindowCheckpoint("2026-11-25T11:59:00Z")
    assert pages[0].position == "20261125T100001Z-01A"


def test_a_start_beyond_the_90_days_is_moved_to_the_retention_edge_with_a_warning() -> None:
    ctx = StreamContext(now=NOW, lookback_seconds=0, settle_seconds=60, since=NOW - timedelta(days=200))
    with structlog.testing.capture_logs() as logs:
        _pages, seen = collect([page([], False)], WindowCheckpoint(), ctx)
    assert seen[0].url.params["filter[start]"] == "2026-08-27T12:00:00Z"  # NOW - 90 days
    warning = next(entry for entry in logs if entry["event"] == "access_logs_beyond_retention")
    assert warning["requested"] == "2026-05-09T12:00:00Z" and "90 days" in warning["detail"]


def test_the_resume_point_beyond_the_90_days_is_the_retention_edge_with_one_warning() -> None:
    ctx = StreamContext(now=NOW, lookback_seconds=0, settle_seconds=60, since=NOW - timedelta(days=200))
    with structlog.testing.capture_logs() as logs:
        start = AccessLogs().resume_point(WindowCheckpoint(), ctx)
    assert start == WindowCheckpoint("2026-08-27T12:00:00Z")  # NOW - 90 days
    assert [entry["event"] for entry in logs].count("access_logs_beyond_retention") == 1
