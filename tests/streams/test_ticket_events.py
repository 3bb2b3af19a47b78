"""Ticket events: their endpoint, the comment sideload switch, and the integer timestamp each event is ordered by."""

from __future__ import annotations

import pytest

from tests.streams.test_time_export import CTX, NOW, events, ids, run
from zdlogs.errors import ZendeskError
from zdlogs.streams.base import StreamContext
from zdlogs.streams.ticket_events import TicketEvents
from zdlogs.streams.time_export import StartTimeCheckpoint


def test_events_come_from_their_endpoint_and_are_filed_by_timestamp() -> None:
    pages, seen = run(TicketEvents(), [events([(7, 1_764_064_800)], True)], StartTimeCheckpoint(1_764_064_000))
    assert seen[0].url.path == "/api/v2/incremental/ticket_events.json"
    assert ids(pages) == [7]
    assert pages[0].day == "2025/11/25" and pages[0].position == "20251125T100000Z-7"


def test_comment_events_are_a_sideload_only_when_asked() -> None:
    assert TicketEvents().params(CTX) == {}
    on = StreamContext(now=NOW, lookback_seconds=3600, settle_seconds=1, extra={"ticket_event_comments": True})
    assert TicketEvents().params(on) == {"include": "comment_events"}


@pytest.mark.parametrize("stamp", [None, "1764064800", True, 1.5])
def test_an_event_without_an_integer_timestamp_names_the_event(stamp: object) -> None:
    with pytest.raises(ZendeskError, match="ticket event 11 has no integer timestamp"):
        TicketEvents().second({"id": 11, "timestamp": stamp})
