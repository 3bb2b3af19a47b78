"""The time-based exports (ticket events, organizations): boundary dedupe, stop and loop rules, over MockTransport."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from tests.streams.replay import BASE, replay
from zdlogs.errors import StuckCursorError, ZendeskError
from zdlogs.streams.base import StreamContext
from zdlogs.streams.organizations import Organizations
from zdlogs.streams.ticket_events import TicketEvents
from zdlogs.streams.time_export import StartTimeCheckpoint, TimeExport

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
CTX = StreamContext(now=NOW, lookback_seconds=3600, settle_seconds=1)


def events(stamps: list[tuple[int, int]], end: bool, end_time: int | None = None) -> httpx.Response:
    """A ticket_events page of (id, timestamp); end_time defaults to the last timestamp, as Zendesk does."""
    records = [{"id": i, "ticket_id": 7, "timestamp": t, "event_type": "Audit"} for i, t in stamps]
    last = end_time if end_time is not None else (stamps[-1][1] if stamps else 0)
    body = {"ticket_events": records, "end_time": last, "end_of_stream": end, "count": len(records),
            "next_page": f"{BASE}/api/v2/incremental/ticket_events.json?start_time={last}"}  # fmt: skip
    return httpx.Response(200, json=body)


def run(stream: TimeExport, responses: list[httpx.Response], checkpoint: StartTimeCheckpoint, ctx: StreamContext = CTX):
    return replay(stream, responses, checkpoint, ctx)


def ids(pages: list) -> list[int]:
    return [record["id"] for page in pages for record in page.records]


def test_the_repeated_boundary_second_is_stored_once() -> None:
    responses = [events([(1, 100), (2, 105), (3, 105)], False), events([(2, 105), (3, 105), (4, 110)], True)]
    pages, seen = run(TicketEvents(), responses, StartTimeCheckpoint(100))
    assert ids(pages) == [1, 2, 3, 4]
    assert [r.url.params["start_time"] for r in seen] == ["100", "105"]
    assert pages[-1].checkpoint == StartTimeCheckpoint(110, (4,))


def test_a_run_resumes_at_the_checkpoint_second_without_repeating_it() -> None:
    pages, seen = run(TicketEvents(), [events([(4, 110), (5, 110), (6, 111)], True)], StartTimeCheckpoint(110, (4,)))
    assert ids(pages) == [5, 6]
    assert seen[0].url.params["per_page"] == "1000" and "include" not in seen[0].url.params


def test_comment_events_are_asked_for_only_when_configured() -> None:
    ctx = StreamContext(now=NOW, lookback_seconds=3600, settle_seconds=1, extra={"ticket_event_comments": True})
    _pages, seen = run(TicketEvents(), [events([], True, end_time=100)], StartTimeCheckpoint(100), ctx)
    assert seen[0].url.params["include"] == "comment_events"


def test_a_first_run_starts_at_least_a_minute_back() -> None:
    start = int(NOW.timestamp()) - 3600
    pages, seen = run(TicketEvents(), [events([], True, end_time=start)], StartTimeCheckpoint())
    assert int(seen[0].url.params["start_time"]) == start
    assert pages[0].checkpoint == StartTimeCheckpoint(start)


def test_a_page_that_is_one_whole_second_moves_on_to_the_next_second() -> None:
    """Zendesk stretches a page over its last second: end_time == start_time means the second is complete."""
    whole = [(i, 200) for i in range(1, 4)]
    responses = [events(whole, False), events([(4, 201)], True)]
    pages, seen = run(TicketEvents(), responses, StartTimeCheckpoint(200))
    assert [r.url.params["start_time"] for r in seen] == ["200", "201"]
    assert ids(pages) == [1, 2, 3, 4]


def test_an_empty_page_that_does_not_end_the_stream_stops_instead_of_looping() -> None:
    with pytest.raises(StuckCursorError, match="instead of looping"):
        run(TicketEvents(), [events([], False, end_time=200)], StartTimeCheckpoint(200))


def test_a_quiet_page_moves_to_the_end_time_zendesk_gives() -> None:
    pages, _ = run(TicketEvents(), [events([], True, end_time=500)], StartTimeCheckpoint(100, (9,)))
    assert pages[0].records == [] and pages[0].checkpoint == StartTimeCheckpoint(500)


@pytest.mark.parametrize("end_time", [50, "soon", None])
def test_an_end_time_before_the_start_or_missing_is_a_clear_error(end_time: object) -> None:
    body = {"ticket_events": [], "end_time": end_time, "end_of_stream": True}
    with pytest.raises(ZendeskError, match="end_time"):
        run(TicketEvents(), [httpx.Response(200, json=body)], StartTimeCheckpoint(100))


def test_organizations_are_ordered_by_updated_at_and_filed_by_it() -> None:
    orgs = [{"id": 3, "updated_at": "2026-11-25T10:00:00Z"}, {"id": 4, "updated_at": "2026-11-25T10:00:01Z"}]
    body = {"organizations": orgs, "end_time": int(datetime(2026, 11, 25, 10, 0, 1, tzinfo=UTC).timestamp()),
            "end_of_stream": True}  # fmt: skip
    pages, seen = run(Organizations(), [httpx.Response(200, json=body)], StartTimeCheckpoint(1_700_000_000))
    assert seen[0].url.path == "/api/v2/incremental/organizations.json"
    assert pages[0].day == "2026/11/25" and pages[0].position.startswith("20261125T100000Z-3")
    assert pages[0].checkpoint.seen_ids == (4,)


def test_an_organization_without_updated_at_is_a_clear_error() -> None:
    body = {"organizations": [{"id": 3}], "end_time": 1_700_000_001, "end_of_stream": True}
    with pytest.raises(ZendeskError, match="organization 3 has no readable updated_at"):
        run(Organizations(), [httpx.Response(200, json=body)], StartTimeCheckpoint(1_700_000_000))
