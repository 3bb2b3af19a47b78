"""The page writer: the one place pages are stored, in the order that makes a crash anywhere harmless.

Consecutive pages of one slot are gathered into one *object* (:class:`OpenObject`) until it holds
:class:`ObjectBound` records or bytes (checked after each page: an object passes the bound by less than its
last page; a page is never split, since a cursor export can only resume after a whole page), or the slot's
pages end (the end of the stream, a limit, the end of the run). Per object: the write-ahead *pending* entry
naming the object and the checkpoint after its last page (``Slot.begin``), then the object delivered
create-if-absent under a name deterministic from its content (``Destination.deliver``), then the checkpoint
moves (``Slot.stored``, written with the next entry or the final ``Slot.commit``). A run killed between any
two steps leaves a state the next run settles by asking the destination whether the pending object arrived
(``PageWriter.resume``): nothing lost, nothing doubled; a run killed while an object is still open loses only
pages fetched and not stored, which the checkpoint does not cover, so the next run fetches them again.
The default bound of one record is one object per page: the write-ahead entry and the checkpoint per page.
The sequential pipeline and every window of a parallel backfill store their pages through it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

import structlog

from zdlogs.config import env_name
from zdlogs.destinations.base import Destination, StoredPage
from zdlogs.errors import LeaseLost, StorageError
from zdlogs.ndjson import MAX_LINE_BYTES, encode, named_object, pack
from zdlogs.progress import Limits, Observer, StreamSummary
from zdlogs.state import Slot
from zdlogs.stores.base import ObjectStore
from zdlogs.streams.base import Checkpoint, Page

log = structlog.get_logger("zdlogs.pipeline")
_UNKNOWN_FATE = "the run stopped before this object's write was acknowledged: the next run checks whether it arrived"


@dataclass(frozen=True)
class ObjectBound:
    """When an object stops taking pages: once it holds ``records`` records or ``size`` bytes of NDJSON.

    Checked after each page, so the same pages from the same checkpoint are always cut at the same place."""

    records: int = 1
    size: int = 8_000_000

    def reached(self, records: int, size: int) -> bool:
        return records >= self.records or size >= self.size

    def shared(self, ways: int) -> ObjectBound:
        """The bound of each of ``ways`` objects open at once (a backfill's windows): together, this one."""
        return ObjectBound(max(1, self.records // ways), max(1, self.size // ways))


class OpenObject:
    """Pages of one slot encoded and not stored yet: named after the first, covering up to the last's checkpoint.

    Only the NDJSON is kept (the records are dropped once encoded), hashed as it grows."""

    def __init__(self, first: Page, item: StreamSummary):
        self.day, self.position, self.item = first.day, first.position, item
        self.chunks: list[bytes] = []
        self.sha256 = hashlib.sha256()
        self.records = self.size = self.pages = 0
        self.after: Checkpoint = first.checkpoint

    def add(self, body: bytes, records: int, after: Checkpoint) -> None:
        self.chunks.append(body)
        self.sha256.update(body)
        self.records, self.size, self.pages = self.records + records, self.size + len(body), self.pages + 1
        self.after = after

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
    ):
        """``observer`` is told of every page stored (the live progress); it is never asked anything. ``bound``
        closes an object of many pages (default: one object per page)."""
        self.destination, self.state_store = destination, state_store
        self.prefix, self.compress = prefix, compress
        self.observer = observer or Observer()
        self.bound = bound or ObjectBound()
        self._open: dict[Slot, OpenObject] = {}

    def shared(self, ways: int) -> PageWriter:
        """A writer for ``ways`` slots filled at once (a parallel backfill's windows): the objects open at the same
        time hold, together, what one object may, so memory stays within the bound."""
        bound = self.bound.shared(ways)
        return PageWriter(self.destination, self.state_store, self.prefix, self.compress, self.observer, bound)

    def resume(self, slot: Slot) -> Checkpoint:
        """The slot's checkpoint, a pending object of an interrupted run settled by asking the destination."""
        return slot.resume(self.destination.delivered)

    def write_all(self, slot: Slot, pages: Iterable[Page], item: StreamSummary, limits: Limits) -> None:
        """Store pages until they end or a limit is reached; commit what is durable, even on error."""
        try:
            for page in pages:
                self.write(slot, page, item)
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
            slot.commit(slot.durable)
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

    def write(self, slot: Slot, page: Page, item: StreamSummary) -> None:
        """Add one page to the slot's open object, storing the object once it reaches the bound; the slot's
        checkpoint covers the page once its object is stored (:meth:`flush`)."""
        self._check_lease()
        opened = self._open.get(slot)
        if page.records:
            opened = self._add(slot, page, item)
        elif opened is not None:
            opened.after = page.checkpoint  # an empty page: the object covers up to it
        else:
            log.info("page", stream=slot.stream, records=0)
            slot.stored(page.checkpoint)
            item.reached = page.checkpoint.reached() or item.reached
        item.pages += 1
        if opened is not None and self.bound.reached(opened.records, opened.size):
            self.flush(slot)
        self.observer.page_stored(item)

    def _check_lease(self) -> None:
        if self.state_store.lease_lost():
            raise LeaseLost(
                f"another run took over the lease (this run outlived {env_name('lease_ttl')}): stopped writing"
            )

    def _add(self, slot: Slot, page: Page, item: StreamSummary) -> OpenObject:
        body, oversized = encode(page.records)
        for index in oversized:
            log.warning(
                "record_over_line_limit",
                stream=slot.stream,
                id=page.records[index].get("id"),
                limit_bytes=MAX_LINE_BYTES,
                action="stored as is; a SIEM may reject this line",
            )
        opened = self._open.setdefault(slot, OpenObject(page, item))
        opened.add(body, len(page.records), page.checkpoint)
        return opened

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
        log.info("page", stream=slot.stream, records=opened.records, pages=opened.pages, key=key, written=written)
