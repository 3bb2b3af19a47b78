"""The page writer: the pending entry is written before the object, the checkpoint moves only after it."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from zdlogs.destinations import StoredPage
from zdlogs.errors import StorageError
from zdlogs.progress import Deadline, Limits, StreamSummary
from zdlogs.state import StateStore
from zdlogs.stores import LocalStore
from zdlogs.streams import CursorCheckpoint, IncrementalTickets, Page
from zdlogs.writer import PageWriter

KEY = "_zdlogs/state.json"
PREFIX = "data/"


class WatchedStore(LocalStore):
    """A local store that records the state file as it was when each page arrived, and can fail a delivery."""

    def __init__(self, root: Path, fail_at: int = -1):
        super().__init__(root)
        self.seen: list[dict] = []
        self.fail_at = fail_at

    def deliver(self, page: StoredPage) -> bool:
        self.seen.append(orjson.loads(self.read(KEY) or b"{}")["streams"]["incremental_tickets"])
        if len(self.seen) - 1 == self.fail_at:
            raise StorageError("disk full")
        return super().deliver(page)


def pages() -> list[Page]:
    return [Page([{"id": n}], CursorCheckpoint(f"c{n}"), f"p{n}", "2026/11/25") for n in range(1, 4)]


def test_each_page_is_written_ahead_and_the_checkpoint_follows_it(tmp_path: Path) -> None:
    store = WatchedStore(tmp_path)
    slot = StateStore(store, KEY).slot(IncrementalTickets())
    item = StreamSummary("incremental_tickets")
    PageWriter(store, store, PREFIX, "none").write_all(slot, pages(), item, Limits(10, Deadline(None)))
    assert [entry["pending"]["checkpoint"] for entry in store.seen] == [
        {"cursor": "c1"},
        {"cursor": "c2"},
        {"cursor": "c3"},
    ]
    assert [entry["checkpoint"] for entry in store.seen] == [{}, {"cursor": "c1"}, {"cursor": "c2"}]
    assert (item.pages, item.records, item.objects) == (3, 3, 3)
    final = orjson.loads((tmp_path / KEY).read_bytes())["streams"]["incremental_tickets"]
    assert final == {"checkpoint": {"cursor": "c3"}, "pending": None}


def test_a_failed_delivery_leaves_the_checkpoint_at_the_last_stored_page(tmp_path: Path) -> None:
    store = WatchedStore(tmp_path, fail_at=1)
    slot = StateStore(store, KEY).slot(IncrementalTickets())
    with pytest.raises(StorageError):
        PageWriter(store, store, PREFIX, "none").write_all(
            slot, pages(), StreamSummary("incremental_tickets"), Limits(10, Deadline(None))
        )
    final = orjson.loads((tmp_path / KEY).read_bytes())["streams"]["incremental_tickets"]
    assert final == {"checkpoint": {"cursor": "c1"}, "pending": None}  # issue 19 would keep the pending entry


def test_max_pages_stops_after_the_page_that_reaches_it(tmp_path: Path) -> None:
    store = WatchedStore(tmp_path)
    slot = StateStore(store, KEY).slot(IncrementalTickets())
    item = StreamSummary("incremental_tickets")
    PageWriter(store, store, PREFIX, "none").write_all(slot, pages(), item, Limits(2, Deadline(None)))
    assert item.pages == 2 and item.status == "limited" and slot.durable == CursorCheckpoint("c2")
