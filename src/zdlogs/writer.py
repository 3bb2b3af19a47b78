"""The page writer: the one place pages are stored, in the order that makes a crash anywhere harmless.

Consecutive pages of one slot are gathered into one *object* (:class:`OpenObject`) until it holds
:class:`ObjectBound` records or bytes, or the slot's pages end (the end of the stream, a limit, the end of the
run). A time-windowed or time-based stream's object is cut at the record that reaches the bound, inside a page
(a resumed run's pages start at the checkpoint, so only a cut counted in records gives a killed run's object
the same name again); a cursor export's ends with the page that reaches it, since it can only resume after a
whole page. Per object: the write-ahead *pending* entry naming the object and the checkpoint after it
(``Slot.begin``), then the object delivered create-if-absent under a name deterministic from its content
(``Destination.deliver``), then the checkpoint moves (``Slot.stored``, written with the next entry, or by the
final ``Slot.commit`` with the run's record). A run killed between any two steps leaves a state the next run
settles by asking the destination whether the pending object arrived (``PageWriter.resume``): nothing lost,
nothing doubled; a run killed while an object is still open loses only pages fetched and not stored, which the
checkpoint does not cover, so the next run fetches them again. The default bound is 10,000 records or 4 MB
(``ZDLOGS_OBJECT_RECORDS``, ``ZDLOGS_OBJECT_BYTES``); ``ZDLOGS_OBJECT_RECORDS=0`` is one object per page. The
sequential pipeline and every window of a parallel backfill store through it.

What a line holds is the record form (``ZDLOGS_RECORD_FORM``, zdlogs.ndjson): one record, or in the page form the
records an object takes from one page, as one ``{"<list key>": [...]}`` line; the same cuts, hashes and names.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import structlog

from zdlogs.config import env_name
from zdlogs.destinations.base import Destination, StoredPage
from zdlogs.errors import LeaseLost, StorageError
from zdlogs.ndjson import MAX_LINE_BYTES, encode_lines, named_object, pack, page_line
from zdlogs.progress import Limits, Observer, StreamSummary
from zdlogs.state import Slot
from zdlogs.stores.base import ObjectStore
from zdlogs.streams import STREAMS
from zdlogs.streams.base import Checkpoint, Page
from zdlogs.streams.time_export import StartTimeCheckpoint, TimeExport
from zdlogs.streams.windowed import Boundary, WindowCheckpoint, WindowedStream

log = structlog.get_logger("zdlogs.pipeline")
_UNKNOWN_FATE = "the run stopped before this object's write was acknowledged: the next run checks whether it arrived"


@dataclass(frozen=True)
class ObjectBound:
    """When an object stops taking records: once it holds ``records`` records or ``size`` bytes of NDJSON;
    ``records == 0``: one object per page (the write-ahead entry and the checkpoint per page, as before issue 17).

    Checked record by record, so the same records after the same checkpoint are always cut at the same place,
    whatever pages brought them (:class:`MidPage`)."""

    records: int = 0
    size: int = 4_000_000

    @property
    def per_page(self) -> bool:
        return self.records == 0

    def reached(self, records: int, size: int) -> bool:
        return records >= self.records or size >= self.size

    def shared(self, ways: int) -> ObjectBound:
        """The bound of each of ``ways`` objects open at once (a backfill's windows): together, this one."""
        records = max(1, self.records // ways) if self.records else 0
        return ObjectBound(records, max(1, self.size // ways))


class MidPage:
    """How a stream whose checkpoint is a position among its records (a second and the ids stored at it: the
    time-windowed streams and the time-based exports) is cut inside a page: the checkpoint after the first records
    of a page, and the name of an object starting at a record. A cursor export has neither (its cursor holds only
    after a whole page), so its objects end with a page."""

    def __init__(
        self,
        key: Callable[[dict[str, Any]], tuple[Any, Any]],
        strict: bool,
        kind: Callable[[Any, tuple[Any, ...]], Checkpoint],
        named: Callable[[dict[str, Any]], Page],
    ):
        self._key, self._strict, self._kind, self._named = key, strict, kind, named

    def after(self, before: Checkpoint, records: list[dict[str, Any]]) -> Checkpoint | None:
        """The checkpoint once ``records`` (the next ones after ``before``) are stored, as the stream's boundary
        would have it; None when ``before`` places nothing (a time-based export's first page: not cut)."""
        since = getattr(before, "since", None) or getattr(before, "start_time", None)
        if since is None and not self._strict:
            return None
        boundary = Boundary(since if since is not None else "", set(getattr(before, "seen_ids", ())))
        boundary.admit(records, self._key, strict=self._strict)
        return self._kind(boundary.since, boundary.seen_ids())

    def name(self, record: dict[str, Any]) -> tuple[str, str]:
        """The position and day of an object starting at ``record``: what a page starting there is named."""
        page = self._named(record)
        return page.position, page.day


def mid_page(stream: object) -> MidPage | None:
    """How ``stream``'s pages may be cut inside (see :class:`MidPage`); None for a cursor export."""
    if isinstance(stream, WindowedStream):
        return MidPage(
            stream.key, True, WindowCheckpoint, lambda record: stream._page([record], WindowCheckpoint(), False)
        )
    if isinstance(stream, TimeExport):
        return MidPage(
            stream._key, False, StartTimeCheckpoint, lambda record: stream._page([record], StartTimeCheckpoint())
        )
    return None


class OpenObject:
    """Records of one slot encoded and not stored yet: named after the first, covering up to the last's checkpoint.

    Only the NDJSON is kept (the records are dropped once encoded), hashed as it grows."""

    def __init__(self, position: str, day: str, after: Checkpoint, item: StreamSummary):
        self.position, self.day, self.after, self.item = position, day, after, item
        self.chunks: list[bytes] = []
        self.sha256 = hashlib.sha256()
        self.records = self.size = self.pages = 0

    def add(self, lines: list[bytes], after: Checkpoint, page_key: str = "") -> int:
        """The records' ``lines`` added (as one page-form line under ``page_key`` if given); the bytes added."""
        chunk = page_line(page_key, lines) if page_key else b"".join(lines)
        self.chunks.append(chunk)
        self.sha256.update(chunk)
        self.records, self.size, self.pages = self.records + len(lines), self.size + len(chunk), self.pages + 1
        self.after = after
        return len(chunk)

    def taking(self, lines: list[bytes], bound: ObjectBound) -> int:
        """How many of ``lines`` this object takes before it reaches ``bound`` (all of them if it does not)."""
        records, size = self.records, self.size
        if not bound.reached(records + len(lines), size + sum(map(len, lines))):
            return len(lines)
        for count, line in enumerate(lines, start=1):
            records, size = records + 1, size + len(line)
            if bound.reached(records, size):
                return count
        return len(lines)

    def body(self) -> bytes:
        """The object's NDJSON, the pages' chunks released."""
        body, self.chunks = b"".join(self.chunks), []
        return body


class PageWriter:
    """Stores pages into ``destination`` under ``prefix``, holding the lease of ``state_store``."""

    def __init__(
        self,
        destination: Destination,
        state_store: ObjectStore,
        prefix: str,
        compress: str,
        observer: Observer | None = None,
        bound: ObjectBound | None = None,
        form: str = "record",
    ):
        """``observer`` is told of every page stored (the live progress); it is never asked anything. ``bound``
        closes an object of many pages (default: one object per page). ``form``: ``record`` or ``page``
        (zdlogs.ndjson)."""
        self.destination, self.state_store = destination, state_store
        self.prefix, self.compress, self.form = prefix, compress, form
        self.observer = observer or Observer()
        self.bound = bound or ObjectBound()
        self._open: dict[Slot, OpenObject] = {}

    def shared(self, ways: int) -> PageWriter:
        """A writer for ``ways`` slots filled at once (a parallel backfill's windows): the objects open at the same
        time hold, together, what one object may, so memory stays within the bound."""
        bound = self.bound.shared(ways)
        return PageWriter(
            self.destination, self.state_store, self.prefix, self.compress, self.observer, bound, self.form
        )

    def resume(self, slot: Slot) -> Checkpoint:
        """The slot's checkpoint, a pending object of an interrupted run settled by asking the destination."""
        return slot.resume(self.destination.delivered)

    def write_all(
        self, slot: Slot, pages: Iterable[Page], item: StreamSummary, limits: Limits, cut: MidPage | None = None
    ) -> None:
        """Store pages until they end or a limit is reached; commit what is durable, even on error. ``cut``: how
        the stream's pages may be cut inside (:func:`mid_page`)."""
        try:
            for page in pages:
                self.write(slot, page, item, cut)
                if limits.reached(item):
                    break
        except BaseException as error:
            self.close(slot, error)
            raise
        self.close(slot)

    def close(self, slot: Slot, error: BaseException | None = None) -> None:
        """Store the slot's open object and commit what this run stored. After a storage error, leave the state as
        a SIGKILL at that point would.

        An object whose write's outcome is unknown (the error came between its write-ahead entry and its
        acknowledgement) keeps its pending entry, so the next run settles it by looking before fetching
        anything (a commit here would clear the entry, and the pages re-fetched later, grown, would be
        stored again under another name: issue 19). A lost lease writes nothing: the state is the other
        run's now. After any other error (Zendesk's, a stop), the pages already fetched are stored first, so a
        stop costs no fetching. A commit that fails on the way out is logged, never raised over the error that
        started it.
        """
        if error is None:
            self.flush(slot)
            slot.commit(slot.durable, defer=True)  # written with the run's record: one write for a quiet run
            return
        if not isinstance(error, LeaseLost) and slot.in_flight is None:
            self._save_quietly(slot, error)
        self._open.pop(slot, None)  # pages not stored: the checkpoint does not cover them
        if slot.in_flight is not None and not isinstance(error, LeaseLost):
            log.warning("pending_page_kept", stream=slot.stream, key=slot.in_flight, reason=_UNKNOWN_FATE)

    def _save_quietly(self, slot: Slot, error: BaseException) -> None:
        try:
            if not isinstance(error, StorageError):  # the store failing would fail the object's write the same way
                self.flush(slot)
            slot.commit(slot.durable)
        except Exception as failure:
            log.warning("checkpoint_not_saved", stream=slot.stream, error=str(failure), after=type(error).__name__)

    def write(self, slot: Slot, page: Page, item: StreamSummary, cut: MidPage | None = None) -> None:
        """Add one page to the slot's open object, storing each object that reaches the bound (inside the page when
        ``cut`` allows); the slot's checkpoint covers a record once its object is stored (:meth:`flush`)."""
        self._check_lease()
        opened = self._open.get(slot)
        if page.records:
            self._add(slot, page, item, cut if not self.bound.per_page else None)
            log.info("page", stream=slot.stream, records=len(page.records))
        elif opened is not None:
            opened.after = page.checkpoint  # an empty page: the object covers up to it
        else:
            log.info("page", stream=slot.stream, records=0)
            slot.stored(page.checkpoint)
            item.reached = page.checkpoint.reached() or item.reached
        item.pages += 1
        self.observer.page_stored(item)

    def _check_lease(self) -> None:
        if self.state_store.lease_lost():
            raise LeaseLost(
                f"another run took over the lease (this run outlived {env_name('lease_ttl')}): stopped writing"
            )

    def _add(self, slot: Slot, page: Page, item: StreamSummary, cut: MidPage | None) -> None:
        """The page's lines into the slot's open object, then into a new one each time the bound is reached."""
        lines, oversized = encode_lines(page.records)
        page_key = STREAMS[slot.stream].records_key if self.form == "page" else ""
        self._warn_oversized(slot, page, [] if page_key else oversized)
        start = 0
        while start < len(lines):
            opened = self._open.get(slot) or self._opened(slot, page, start, item, cut)
            end = len(lines) if cut is None else start + opened.taking(lines[start:], self.bound)
            after = page.checkpoint if end == len(lines) else cut.after(opened.after, page.records[start:end])  # type: ignore[union-attr]
            if after is None:  # this page cannot be cut: the object ends with it
                end, after = len(lines), page.checkpoint
            if opened.add(lines[start:end], after, page_key) > MAX_LINE_BYTES and page_key:  # a page's line
                self._warn_oversized(slot, page, [start], end - start)
            if self.bound.per_page or self.bound.reached(opened.records, opened.size):
                self.flush(slot)
            start = end

    def _opened(self, slot: Slot, page: Page, start: int, item: StreamSummary, cut: MidPage | None) -> OpenObject:
        """A new object starting at the page's record ``start``, named as a page starting there would be."""
        position, day = (page.position, page.day) if start == 0 or cut is None else cut.name(page.records[start])
        opened = self._open[slot] = OpenObject(position, day, slot.durable, item)
        return opened

    @staticmethod
    def _warn_oversized(slot: Slot, page: Page, oversized: list[int], records: int = 1) -> None:
        """One warning per line over the limit: a record's, or in the page form a page's (``records`` of them, the
        first named)."""
        for index in oversized:
            log.warning(
                "record_over_line_limit",
                stream=slot.stream,
                id=page.records[index].get("id"),
                limit_bytes=MAX_LINE_BYTES,
                action="stored as is; a SIEM may reject this line",
                **({"records_in_line": records} if records > 1 else {}),
            )

    def flush(self, slot: Slot) -> None:
        """Store the slot's open object, if any: its write-ahead entry, the object, then its checkpoint."""
        opened = self._open.pop(slot, None)
        if opened is None:
            return
        self._check_lease()
        body = opened.body()
        key = named_object(
            self.prefix, slot.stream, opened.day, opened.position, opened.sha256.hexdigest(), self.compress
        )
        slot.begin(key, opened.after)
        data = pack(body, self.compress)
        del body
        written = self.destination.deliver(StoredPage(key, data))
        slot.stored(opened.after)
        item = opened.item
        item.records += opened.records
        item.objects += int(written)
        item.bytes_out += len(data) if written else 0
        item.reached = opened.after.reached() or item.reached
        log.info(
            "object_stored", stream=slot.stream, records=opened.records, pages=opened.pages, key=key, written=written
        )
