"""What every stream shares: an empty checkpoint is false, frozen pages and contexts (the time helpers they
use are zdlogs.times', tested in tests/test_times.py)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from zdlogs.streams import STREAMS
from zdlogs.streams.base import Checkpoint, Page, StreamContext
from zdlogs.streams.cursor_export import CursorCheckpoint
from zdlogs.streams.time_export import StartTimeCheckpoint
from zdlogs.streams.windowed import WindowCheckpoint

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("empty", [CursorCheckpoint(), StartTimeCheckpoint(), WindowCheckpoint()])
def test_an_empty_checkpoint_is_false_and_reads_back_from_empty_json(empty: Checkpoint) -> None:
    assert not empty and empty.to_json() == {}
    assert type(empty).from_json({}) == empty
    assert CursorCheckpoint("c") and StartTimeCheckpoint(0) and WindowCheckpoint("2026-11-25T10:00:00Z")
    with pytest.raises(NotImplementedError):
        bool(Checkpoint())


def test_a_page_defaults_to_an_unnamed_non_final_page_and_is_frozen() -> None:
    page = Page([{"id": 1}], CursorCheckpoint("c"))
    assert (page.position, page.day, page.final) == ("", "", False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        page.final = True  # type: ignore[misc]


def test_each_context_gets_its_own_extra() -> None:
    first = StreamContext(now=NOW, lookback_seconds=60, settle_seconds=1)
    first.extra["ticket_event_comments"] = True
    assert StreamContext(now=NOW, lookback_seconds=60, settle_seconds=1).extra == {}
    assert first.since is None


@pytest.mark.parametrize("name", sorted(STREAMS))
def test_every_stream_can_be_started_again_at_a_date_and_says_so(name: str) -> None:
    """``zdlogs reset`` writes ``starting_at``: stored, read back, and reported as that time, for each shape."""
    kind = STREAMS[name].checkpoint_type
    start = kind.starting_at(datetime(2026, 6, 1, 8, 30, 15, tzinfo=UTC))
    assert start and kind.from_json(start.to_json()) == start
    assert kind.from_json(start.to_json()).reached() == "2026-06-01T08:30:15Z"
