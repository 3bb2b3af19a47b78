"""The page writer: the pending entry is written before the object, the checkpoint moves only after it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from pathlib import Path

import orjson
import pytest
import structlog

from zdlogs.destinations import StoredPage
from zdlogs.errors import LeaseLost, RequestRejected, StorageError
from zdlogs.ndjson import MAX_LINE_BYTES
from zdlogs.progress import Deadline, Limits, StreamSummary
from zdlogs.state import StateStore
from zdlogs.stores import LocalStore
from zdlogs.streams import AuditLogs, CursorCheckpoint, IncrementalTickets, Page, WindowCheckpoint
from zdlogs.writer import ObjectBound, PageWriter, mid_page

KEY = "_zdlogs/state.json"
PREFIX = "data/"


class WatchedStore(LocalStore):
    """A local store that records the state file as it was when each page arrived, and can fail a delivery."""

    def __init__(self, root: Path, fail_at: int = -1, stream: str = "incremental_tickets"):
        super().__init__(root)
        self.seen: list[dict] = []
        self.fail_at, self.stream = fail_at, stream

    def deliver(self, page: StoredPage) -> bool:
        self.seen.append(orjson.loads(self.read(KEY) or b"{}")["streams"][self.stream])
        if len(self.seen) - 1 == self.fail_at:
            raise StorageError("disk full")
        return super().deliver(page)


def pages() -> list[Page]:
    return [Page([{"id": n}], CursorCheckpoint(f"c{n}"), f"p{n}", "2026/11/25") for n in range(1, 4)]


def test_each_page_is_written_ahead_and_the_checkpoint_follows_it(tmp_path: Path) -> None:
    store = WatchedStore(tmp_path)
    state = StateStore(store, KEY)
    slot = state.slot(IncrementalTickets())
    item = StreamSummary("incremental_tickets")
    PageWriter(store, store, PREFIX, "none").write_all(slot, pages(), item, Limits(10, Deadline(None)))
    before_the_run_record = orjson.loads((tmp_path / KEY).read_bytes())["streams"]["incremental_tickets"]
    assert before_the_run_record["pending"]["checkpoint"] == {"cursor": "c3"}  # a kill here: settled next run
    state.flush()  # the run's record, which carries the last commit (one write for a quiet run)
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
    """One run's writing of ``source``, then the run's record write (not reached when the writing raises)."""
    state = StateStore(store, KEY)
    slot = state.slot(IncrementalTickets())
    slot.resume(store.delivered)
    item = item or StreamSummary("incremental_tickets")
    PageWriter(store, store, PREFIX, "none").write_all(slot, source, item, Limits(10, Deadline(None)))  # type: ignore[arg-type]
    state.flush()


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


# ---- objects of many pages (issue 17): one object and one checkpoint per many pages


def paged(sizes: list[int]) -> list[Page]:
    """Pages of ``sizes`` records each, ids counting up across pages, each page's cursor named after its number."""
    pages, first = [], 1
    for number, size in enumerate(sizes, start=1):
        records = [{"id": n} for n in range(first, first + size)]
        pages.append(Page(records, CursorCheckpoint(f"c{number}"), f"p{first}", "2026/11/25"))
        first += size
    return pages


def grouped(store: WatchedStore, source: Iterable[Page], bound: ObjectBound, max_pages: int = 10) -> StreamSummary:
    """One run storing ``source`` with objects up to ``bound``, from the stored state, then its record write."""
    state = StateStore(store, KEY)
    slot = state.slot(IncrementalTickets())
    slot.resume(store.delivered)
    item = StreamSummary("incremental_tickets")
    writer = PageWriter(store, store, PREFIX, "none", bound=bound)
    writer.write_all(slot, source, item, Limits(max_pages, Deadline(None)))
    state.flush()
    return item


def stored_objects(root: Path) -> dict[str, list[int]]:
    """Each object's name and the ids it holds, in order."""
    found = {}
    for path in sorted((root / PREFIX).rglob("*.ndjson")):
        found[path.name] = [orjson.loads(line)["id"] for line in path.read_bytes().splitlines()]
    return found


def test_pages_up_to_the_bound_are_one_object_written_ahead_once_with_the_checkpoint_after_the_last(
    tmp_path: Path,
) -> None:
    store = WatchedStore(tmp_path)
    item = grouped(store, paged([1, 1, 1, 1]), ObjectBound(records=3))
    assert [entry["pending"]["checkpoint"] for entry in store.seen] == [{"cursor": "c3"}, {"cursor": "c4"}]
    assert [entry["checkpoint"] for entry in store.seen] == [{}, {"cursor": "c3"}]
    assert list(stored_objects(tmp_path).values()) == [[1, 2, 3], [4]]
    assert (item.pages, item.records, item.objects) == (4, 4, 2)
    assert stored_state(tmp_path) == {"checkpoint": {"cursor": "c4"}, "pending": None}


def test_a_cursor_export_s_bound_reached_mid_page_closes_the_object_after_that_whole_page(tmp_path: Path) -> None:
    store = WatchedStore(tmp_path)
    grouped(store, paged([2, 2, 2]), ObjectBound(records=3))  # the bound falls inside page 2
    assert list(stored_objects(tmp_path).values()) == [[1, 2, 3, 4], [5, 6]]
    assert [entry["pending"]["checkpoint"] for entry in store.seen] == [{"cursor": "c2"}, {"cursor": "c3"}]


def test_the_byte_bound_closes_an_object_too(tmp_path: Path) -> None:
    grouped(WatchedStore(tmp_path), paged([1, 1, 1]), ObjectBound(records=1000, size=20))  # 9 bytes a record
    assert list(stored_objects(tmp_path).values()) == [[1, 2, 3]]
    grouped(WatchedStore(tmp_path / "small"), paged([1, 1, 1]), ObjectBound(records=1000, size=18))
    assert list(stored_objects(tmp_path / "small").values()) == [[1, 2], [3]]


def test_a_run_that_ends_with_a_partial_object_stores_it_and_the_next_run_goes_on_after_it(tmp_path: Path) -> None:
    source = paged([1, 1, 1, 1, 1])
    item = grouped(WatchedStore(tmp_path), source, ObjectBound(records=1000), max_pages=2)  # MAX_PAGES=2
    assert (item.status, item.objects, item.records) == ("limited", 1, 2)
    assert stored_state(tmp_path)["checkpoint"] == {"cursor": "c2"}
    grouped(WatchedStore(tmp_path), source[2:], ObjectBound(records=1000))
    assert sorted(stored_objects(tmp_path).values()) == [[1, 2], [3, 4, 5]]


def test_a_stream_error_stores_the_pages_already_fetched_before_committing(tmp_path: Path) -> None:
    def failing() -> Iterator[Page]:
        yield from paged([1, 1])
        raise RequestRejected("Zendesk rejected /api/v2/incremental/tickets/cursor (HTTP 400)")

    with pytest.raises(RequestRejected):
        grouped(WatchedStore(tmp_path), failing(), ObjectBound(records=1000))
    assert list(stored_objects(tmp_path).values()) == [[1, 2]]
    assert stored_state(tmp_path) == {"checkpoint": {"cursor": "c2"}, "pending": None}


class Killed(BaseException):
    """SIGKILL at this point: nothing after it runs, no handler, no commit."""


class KilledAfterTheObject(WatchedStore):
    """The object lands, then the process dies before its checkpoint is written."""

    def deliver(self, page: StoredPage) -> bool:
        super().deliver(page)
        raise Killed


def test_a_kill_between_the_object_and_its_checkpoint_loses_nothing_and_repeats_nothing(tmp_path: Path) -> None:
    killed = KilledAfterTheObject(tmp_path)
    slot = StateStore(killed, KEY).slot(IncrementalTickets())
    writer = PageWriter(killed, killed, PREFIX, "none", bound=ObjectBound(records=3))
    item = StreamSummary("incremental_tickets")
    with pytest.raises(Killed):
        for page in paged([1, 1, 1]):
            writer.write(slot, page, item)  # no close(): a kill runs nothing after it
    left = stored_state(tmp_path)
    assert left["checkpoint"] == {} and left["pending"]["checkpoint"] == {"cursor": "c3"}
    store = WatchedStore(tmp_path)
    assert StateStore(store, KEY).slot(IncrementalTickets()).resume(store.delivered) == CursorCheckpoint("c3")
    assert list(stored_objects(tmp_path).values()) == [[1, 2, 3]]


class KilledBeforeTheObject(WatchedStore):
    """The write-ahead entry is saved, then the process dies before the object is written."""

    def deliver(self, page: StoredPage) -> bool:
        self.seen.append(orjson.loads(self.read(KEY) or b"{}")["streams"]["incremental_tickets"])
        raise Killed


def test_the_same_pages_after_a_kill_give_the_object_the_killed_run_had_named(tmp_path: Path) -> None:
    killed = KilledBeforeTheObject(tmp_path)
    with pytest.raises(Killed):
        grouped(killed, paged([2, 2, 2]), ObjectBound(records=3))
    named = killed.seen[0]["pending"]["key"]
    grouped(WatchedStore(tmp_path), paged([2, 2, 2]), ObjectBound(records=3))  # fetched again from the checkpoint
    assert PREFIX + "incremental_tickets/2026/11/25/" + next(iter(stored_objects(tmp_path))) == named


def test_a_backfill_s_windows_share_the_bound() -> None:
    assert ObjectBound(20_000, 8_000_000).shared(4) == ObjectBound(5_000, 2_000_000)
    assert ObjectBound(0, 10).shared(4) == ObjectBound(0, 2)  # one object per page stays one per page
    assert ObjectBound(3, 10).shared(4) == ObjectBound(1, 2)


def audit_pages(seconds: list[list[int]]) -> list[Page]:
    """Audit pages of two records a second: ``seconds[p]`` are the seconds of page p's records, ids counting up."""
    pages, number = [], 0
    for stamps in seconds:
        records = []
        for second in stamps:
            number += 1
            records.append({"id": number, "created_at": f"2026-11-25T10:00:{second:02d}Z"})
        last = records[-1]["created_at"]
        seen = tuple(r["id"] for r in records if r["created_at"] == last)
        pages.append(Page(records, WindowCheckpoint(last, seen), f"p{records[0]['id']}", "2026/11/25"))
    return pages


def windowed(store: WatchedStore, source: list[Page], bound: ObjectBound) -> None:
    state = StateStore(store, KEY)
    slot = state.slot(AuditLogs())
    writer = PageWriter(store, store, PREFIX, "none", bound=bound)
    writer.write_all(slot, source, StreamSummary("audit_logs"), Limits(10, Deadline(None)), mid_page(AuditLogs()))
    state.flush()  # the run's record write


def audit_state(root: Path) -> dict:
    return orjson.loads((root / KEY).read_bytes())["streams"]["audit_logs"]


def test_a_windowed_stream_s_object_ends_at_the_bound_inside_a_page_with_the_checkpoint_of_that_record(
    tmp_path: Path,
) -> None:
    store = WatchedStore(tmp_path, stream="audit_logs")
    windowed(store, audit_pages([[1, 1, 2, 2], [2, 3, 3, 4]]), ObjectBound(records=5))
    held = {name.split("-")[0]: ids for name, ids in stored_objects(tmp_path).items()}
    assert sorted(held.values()) == [[1, 2, 3, 4, 5], [6, 7, 8]]
    first = store.seen[0]["pending"]
    assert first["checkpoint"] == {"since": "2026-11-25T10:00:02Z", "seen_ids": [3, 4, 5]}  # second 2: ids 3, 4, 5
    assert "/20261125T100003Z-6-" in store.seen[1]["pending"]["key"]  # named after its first record, not the page
    assert audit_state(tmp_path)["checkpoint"] == {"since": "2026-11-25T10:00:04Z", "seen_ids": [8]}


# ---- the page form (ZDLOGS_RECORD_FORM=page): a page's records as one line under the resource's list key


def paged_form(store: WatchedStore, source: list[Page], bound: ObjectBound, form: str = "page") -> StreamSummary:
    state = StateStore(store, KEY)
    slot = state.slot(AuditLogs())
    item = StreamSummary("audit_logs")
    writer = PageWriter(store, store, PREFIX, "none", bound=bound, form=form)
    writer.write_all(slot, source, item, Limits(10, Deadline(None)), mid_page(AuditLogs()))
    state.flush()
    return item


def page_objects(root: Path) -> list[list[list[int]]]:
    """Each object (in name order) as its lines, each line the ids of its envelope's records."""
    return [
        [[record["id"] for record in orjson.loads(line)["audit_logs"]] for line in path.read_bytes().splitlines()]
        for path in sorted((root / PREFIX).rglob("*.ndjson"))
    ]


def test_the_page_form_writes_each_page_as_one_line_named_by_its_content_with_the_same_checkpoints(
    tmp_path: Path,
) -> None:
    source = audit_pages([[1, 1, 2], [2, 3, 3]])
    item = paged_form(WatchedStore(tmp_path / "page", stream="audit_logs"), source, ObjectBound())
    paged_form(WatchedStore(tmp_path / "record", stream="audit_logs"), source, ObjectBound(), form="record")
    assert page_objects(tmp_path / "page") == [[[1, 2, 3]], [[4, 5, 6]]]
    assert (item.pages, item.records, item.objects) == (2, 6, 2)
    for path in (tmp_path / "page" / PREFIX).rglob("*.ndjson"):
        assert hashlib.sha256(path.read_bytes()).hexdigest()[:16] in path.name  # the content hash still names it
    assert audit_state(tmp_path / "page") == audit_state(tmp_path / "record")  # the same checkpoint
    names = [
        sorted(p.name.split("-")[0] for p in (tmp_path / form / PREFIX).rglob("*.ndjson"))
        for form in ("page", "record")
    ]
    assert names[0] == names[1] == ["p1", "p4"]  # the same positions; only the hashes differ


def test_the_page_form_in_objects_of_many_pages_cuts_where_the_record_form_does_one_line_per_page_part(
    tmp_path: Path,
) -> None:
    paged_form(WatchedStore(tmp_path, stream="audit_logs"), audit_pages([[1, 1, 2, 2], [2, 3, 3, 4]]), ObjectBound(5))
    assert sorted(page_objects(tmp_path)) == [[[1, 2, 3, 4], [5]], [[6, 7, 8]]]  # cut at record 5, as in record form


def test_a_page_form_line_over_the_line_limit_is_reported_once_naming_its_first_record(tmp_path: Path) -> None:
    big = "x" * (MAX_LINE_BYTES // 2)
    records = [{"id": n, "created_at": "2026-11-25T10:00:01Z", "blob": big} for n in (1, 2, 3)]
    page = Page(records, WindowCheckpoint("2026-11-25T10:00:01Z", (1, 2, 3)), "p1", "2026/11/25")
    with structlog.testing.capture_logs() as logs:
        paged_form(WatchedStore(tmp_path, stream="audit_logs"), [page], ObjectBound())
    warned = [entry for entry in logs if entry["event"] == "record_over_line_limit"]
    assert [(entry["id"], entry["records_in_line"]) for entry in warned] == [(1, 3)]
    assert page_objects(tmp_path) == [[[1, 2, 3]]]  # stored anyway
