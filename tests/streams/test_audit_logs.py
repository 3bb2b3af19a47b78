"""The audit log: one oldest-first created_at window per run, asked with its sort and filter params."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import structlog

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


def test_a_next_link_naming_another_host_is_not_followed_the_cursor_is_asked_of_our_origin() -> None:
    """Recordings of a real account: links.next on the old name of a renamed subdomain."""
    first = {"id": 1, "created_at": "2026-11-25T11:10:00Z"}
    moved = httpx.Response(
        200,
        json={
            "audit_logs": [first],
            "meta": {"has_more": True, "after_cursor": "abc+/="},
            "links": {"next": "https://acme-old.zendesk.com/api/v2/audit_logs?page%5Bafter%5D=abc"},
        },
    )
    second = {"id": 2, "created_at": "2026-11-25T11:20:00Z"}
    with structlog.testing.capture_logs() as logs:
        pages, seen = replay(AuditLogs(), [moved, audit_page([second])], WindowCheckpoint("2026-11-25T11:00:00Z"), CTX)
    assert [record["id"] for page in pages for record in page.records] == [1, 2]
    assert [request.url.host for request in seen] == ["acme.zendesk.com"] * 2  # nothing sent to the other host
    params = seen[1].url.params
    assert params["page[after]"] == "abc+/=" and params["sort"] == "created_at" and params["page[size]"] == "100"
    assert params.get_list("filter[created_at][]") == ["2026-11-25T11:00:00Z", "2026-11-25T11:59:30Z"]
    [warning] = [line for line in logs if line["event"] == "link_to_other_host"]
    assert warning["log_level"] == "warning" and warning["named"] == "https://acme-old.zendesk.com:443"
