"""The page writer: the pending entry is written before the object, the checkpoint moves only after it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from zdlogs.destinations import StoredPage
from zdlogs.errors import LeaseLost, RequestRejected, StorageError
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


class LandedThenLost(WatchedStore):
    """The page's object is written, then the answer is lost: the delivery fails although it landed."""

    def deliver(self, page: StoredPage) -> bool:
        if len(self.seen) == self.fail_at:
            self.seen.append({})
            super().deliver(page)
            raise StorageError("GCS did not answer")
        return super().deliver(page)


def write(store: WatchedStore, source: object, item: StreamSummary | None = None) -> None:
    slot = StateStore(store, KEY).slot(IncrementalTickets())
    slot.resume(store.delivered)
    item = item or StreamSummary("incremental_tickets")
    PageWriter(store, store, PREFIX, "none").write_all(slot, source, item, Limits(10, Deadline(None)))  # type: ignore[arg-type]


def stored_state(root: Path) -> dict:
    return orjson.loads((root / KEY).read_bytes())["streams"]["incremental_tickets"]


def test_a_failed_delivery_keeps_its_pending_entry_as_a_kill_would(tmp_path: Path) -> None:
    store = WatchedStore(tmp_path, fail_at=1)
    with pytest.raises(StorageError):
        write(store, pages())
    final = stored_state(tmp_path)
    assert final["checkpoint"] == {"cursor": "c1"}
    assert final["pending"]["checkpoint"] == {"cursor": "c2"}  # settled by the next run, by looking


def test_a_page_that_landed_unacknowledged_is_settled_by_the_next_run_not_stored_again(tmp_path: Path) -> None:
    with pytest.raises(StorageError):
        write(LandedThenLost(tmp_path, fail_at=1), pages())
    objects = sorted(path.name for path in (tmp_path / PREFIX).rglob("*.ndjson"))
    assert len(objects) == 2
    store = WatchedStore(tmp_path)
    slot = StateStore(store, KEY).slot(IncrementalTickets())
    assert slot.resume(store.delivered) == CursorCheckpoint("c2")  # the landed page counts: not fetched again


def test_a_page_that_never_landed_is_fetched_again_by_the_next_run(tmp_path: Path) -> None:
    with pytest.raises(StorageError):
        write(WatchedStore(tmp_path, fail_at=1), pages())
    store = WatchedStore(tmp_path)
    assert StateStore(store, KEY).slot(IncrementalTickets()).resume(store.delivered) == CursorCheckpoint("c1")


def failing_after_one_page() -> Iterator[Page]:
    yield pages()[0]
    raise RequestRejected("Zendesk rejected /api/v2/incremental/tickets/cursor (HTTP 400)")


def test_an_error_between_pages_commits_what_was_stored(tmp_path: Path) -> None:
    with pytest.raises(RequestRejected):
        write(WatchedStore(tmp_path), failing_after_one_page())
    assert stored_state(tmp_path) == {"checkpoint": {"cursor": "c1"}, "pending": None}


class BrokenState(WatchedStore):
    """A store whose state writes fail once the first page is stored."""

    def replace(self, key: str, data: bytes) -> None:
        if self.seen:
            raise StorageError("another writer changed the state")
        super().replace(key, data)


def test_a_commit_failing_on_the_way_out_never_hides_the_first_error(tmp_path: Path) -> None:
    with pytest.raises(RequestRejected):
        write(BrokenState(tmp_path), failing_after_one_page())


def test_a_lost_lease_writes_no_state(tmp_path: Path) -> None:
    store = WatchedStore(tmp_path)
    store.lease_lost = lambda: bool(store.seen)  # type: ignore[method-assign]  # taken over after page 1
    with pytest.raises(LeaseLost):
        write(store, pages())
    assert stored_state(tmp_path)["checkpoint"] == {}  # page 1's checkpoint is not written over the new holder's
