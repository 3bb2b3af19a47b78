"""The cursor exports' stop rules (tickets, users), over httpx.MockTransport."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from tests.streams.replay import BASE, replay
from zdlogs.errors import StuckCursorError
from zdlogs.streams.base import StreamContext
from zdlogs.streams.cursor_export import CursorCheckpoint
from zdlogs.streams.tickets import IncrementalTickets, first_start_time
from zdlogs.streams.users import Users

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
CTX = StreamContext(now=NOW, lookback_seconds=3600, settle_seconds=1)


def export(tickets: list[dict], after: str, end: bool, after_url: str | None = None) -> httpx.Response:
    url = after_url or f"{BASE}/api/v2/incremental/tickets/cursor.json?cursor={after}"
    body = {"tickets": tickets, "after_cursor": after, "after_url": url, "end_of_stream": end}
    return httpx.Response(200, json=body)


def ticket(ticket_id: int, stamp: int) -> dict:
    return {"id": ticket_id, "updated_at": "2026-11-25T10:00:00Z", "generated_timestamp": stamp}


def run_stream(responses: list[httpx.Response], checkpoint: CursorCheckpoint) -> tuple[list, list[httpx.Request]]:
    return replay(IncrementalTickets(), responses, checkpoint, CTX)


def test_stops_on_end_of_stream_although_a_cursor_is_present() -> None:
    pages, seen = run_stream(
        [export([ticket(1, 100)], "c1", False), export([ticket(2, 200)], "c2", True)], CursorCheckpoint()
    )
    assert len(seen) == 2
    assert pages[-1].checkpoint == CursorCheckpoint("c2")
    assert "start_time" in seen[0].url.params and seen[1].url.params["cursor"] == "c1"
    assert seen[0].url.params["per_page"] == "1000"


def test_a_quiet_run_costs_one_request() -> None:
    pages, seen = run_stream([export([], "c1", True)], CursorCheckpoint("c1"))
    assert len(seen) == 1 and pages[0].records == [] and pages[0].checkpoint == CursorCheckpoint("c1")


def test_a_cursor_that_does_not_advance_stops_the_stream() -> None:
    with pytest.raises(StuckCursorError, match="instead of"):
        run_stream([export([ticket(1, 100)], "c1", False)], CursorCheckpoint("c1"))


def test_a_repeated_page_stops_the_stream() -> None:
    with pytest.raises(StuckCursorError, match="same page twice"):
        run_stream([export([ticket(1, 100)], "c1", False), export([ticket(1, 100)], "c2", False)], CursorCheckpoint())


def test_an_after_url_to_another_host_is_not_followed_the_cursor_is_asked_of_our_origin() -> None:
    moved = export([ticket(1, 100)], "c1+/=", False, after_url="https://acme-old.zendesk.com/next?cursor=c1")
    pages, seen = run_stream([moved, export([ticket(2, 200)], "c2", True)], CursorCheckpoint())
    assert [request.url.host for request in seen] == ["acme.zendesk.com"] * 2
    assert seen[1].url.path == "/api/v2/incremental/tickets/cursor.json"
    assert dict(seen[1].url.params) == {"cursor": "c1+/=", "per_page": "1000"}  # what a resumed run asks
    assert pages[-1].checkpoint == CursorCheckpoint("c2")


def test_first_start_time_is_at_least_a_minute_old_and_never_in_the_future() -> None:
    assert first_start_time(StreamContext(now=NOW, lookback_seconds=0, settle_seconds=1)) == int(NOW.timestamp()) - 61
    future = StreamContext(now=NOW, lookback_seconds=0, settle_seconds=1, since=datetime(2030, 1, 1, tzinfo=UTC))
    assert first_start_time(future) == int(NOW.timestamp()) - 61
    assert first_start_time(CTX) == int(NOW.timestamp()) - 3600


def test_users_share_the_cursor_rules_and_are_filed_by_updated_at() -> None:
    user = {"id": 9, "role": "admin", "updated_at": "2026-11-24T08:30:00Z"}
    body = {"users": [user], "after_cursor": "u1", "after_url": f"{BASE}/x?cursor=u1", "end_of_stream": True}
    pages, seen = replay(Users(), [httpx.Response(200, json=body)], CursorCheckpoint(), CTX)
    assert seen[0].url.path == "/api/v2/incremental/users/cursor.json"
    assert pages[0].day == "2026/11/24" and pages[0].position == "20261124T083000Z-9"
    assert pages[0].checkpoint == CursorCheckpoint("u1")


def test_a_reset_export_starts_again_at_its_start_time_and_then_follows_cursors() -> None:
    reset = CursorCheckpoint.starting_at(datetime(2026, 6, 1, tzinfo=UTC))
    assert reset.to_json() == {"start_time": 1780272000} and not reset.cursor
    pages, seen = run_stream([export([ticket(1, 100)], "c1", True)], reset)
    assert seen[0].url.params["start_time"] == "1780272000" and "cursor" not in seen[0].url.params
    assert pages[-1].checkpoint == CursorCheckpoint("c1") and pages[-1].checkpoint.to_json() == {"cursor": "c1"}


def test_a_cursor_checkpoint_of_a_state_file_with_a_stray_start_time_keeps_its_cursor() -> None:
    assert CursorCheckpoint.from_json({"cursor": "c", "start_time": 5}) == CursorCheckpoint("c")
    assert CursorCheckpoint.from_json({"start_time": True}) == CursorCheckpoint()
