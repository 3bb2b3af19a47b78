"""The audit log: one oldest-first created_at window per run, asked with its sort and filter params."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from tests.streams.replay import replay
from zdlogs.streams.audit_logs import AuditLogs, window_end
from zdlogs.streams.base import StreamContext
from zdlogs.streams.windowed import WindowCheckpoint

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
CTX = StreamContext(now=NOW, lookback_seconds=3600, settle_seconds=30)


def audit_page(records: list[dict]) -> httpx.Response:
    return httpx.Response(200, json={"audit_logs": records, "meta": {"has_more": False}, "links": {}})


def test_the_window_is_asked_oldest_first_with_created_at_sent_twice() -> None:
    assert AuditLogs().window_params("A", "B", 7) == {
        "page[size]": 7,
        "sort": "created_at",
        "filter[created_at][]": ["A", "B"],
    }
    _pages, seen = replay(AuditLogs(), [audit_page([])], WindowCheckpoint("2026-11-25T11:00:00Z"), CTX)
    params = seen[0].url.params
    assert seen[0].url.path == "/api/v2/audit_logs"
    assert params.get_list("filter[created_at][]") == ["2026-11-25T11:00:00Z", "2026-11-25T11:59:30Z"]
    assert params["sort"] == "created_at" and params["page[size]"] == "100" and "start_time" not in params


def test_the_last_page_is_final_and_its_checkpoint_is_the_window_end() -> None:
    record = {"id": 9, "created_at": "2026-11-25T11:10:00Z", "action": "update"}
    pages, _ = replay(AuditLogs(), [audit_page([record])], WindowCheckpoint("2026-11-25T11:00:00Z"), CTX)
    assert AuditLogs.checkpoint_type is WindowCheckpoint
    assert pages[-1].final and pages[-1].records == [record]
    assert pages[-1].checkpoint == WindowCheckpoint("2026-11-25T11:59:30Z")
    assert window_end(CTX) == datetime(2026, 11, 25, 11, 59, 30, tzinfo=UTC)


def test_a_first_run_starts_lookback_seconds_back() -> None:
    _pages, seen = replay(AuditLogs(), [audit_page([])], WindowCheckpoint(), CTX)
    assert seen[0].url.params.get_list("filter[created_at][]")[0] == "2026-11-25T11:00:00Z"
