"""The page writer: the one place a page is stored, in the order that makes a crash anywhere harmless.

Per page: the write-ahead *pending* entry naming the page's object and the checkpoint after it
(``Slot.begin``), then the page delivered create-if-absent under a name deterministic from its content
(``Destination.deliver``), then the checkpoint moves (``Slot.stored``, written with the next entry or the
final ``Slot.commit``). A run killed between any two steps leaves a state the next run settles by asking
the destination whether the pending page arrived (``PageWriter.resume``): nothing lost, nothing doubled.
The sequential pipeline and every window of a parallel backfill store their pages through it.
"""

from __future__ import annotations

from collections.abc import Iterable

import structlog

from zdlogs.config import env_name
from zdlogs.destinations.base import Destination, StoredPage
from zdlogs.errors import LeaseLost
from zdlogs.ndjson import MAX_LINE_BYTES, encode, object_key, pack
from zdlogs.progress import Limits, Observer, StreamSummary
from zdlogs.state import Slot
from zdlogs.stores.base import ObjectStore
from zdlogs.streams.base import Checkpoint, Page

log = structlog.get_logger("zdlogs.pipeline")
_UNKNOWN_FATE = "the run stopped before this page's write was acknowledged: the next run checks whether it arrived"


class PageWriter:
    """Stores pages into ``destination`` under ``prefix``, holding the lease of ``state_store``."""

    def __init__(
        self,
        destination: Destination,
        state_store: ObjectStore,
        prefix: str,
        compress: str,
        observer: Observer | None = None,
    ):
        """``observer`` is told of every page stored (the live progress); it is never asked anything."""
        self.destination, self.state_store = destination, state_store
        self.prefix, self.compress = prefix, compress
        self.observer = observer or Observer()

    def resume(self, slot: Slot) -> Checkpoint:
        """The slot's checkpoint, a pending page of an interrupted run settled by asking the destination."""
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
        """Commit what this run stored. After an error, leave the state as a SIGKILL at that point would.

        A page whose write's outcome is unknown (the error came between its write-ahead entry and its
        acknowledgement) keeps its pending entry, so the next run settles it by looking before fetching
        anything (a commit here would clear the entry, and the page re-fetched later, grown, would be
        stored again under another name: issue 19). A lost lease writes nothing: the state is the other
        run's now. A commit that fails on the way out is logged, never raised over the error that started it.
        """
        if error is None:
            slot.commit(slot.durable)
        elif isinstance(error, LeaseLost):
            return
        elif slot.in_flight is not None:
            log.warning("pending_page_kept", stream=slot.stream, key=slot.in_flight, reason=_UNKNOWN_FATE)
        else:
            self._commit_quietly(slot, error)

    @staticmethod
    def _commit_quietly(slot: Slot, error: BaseException) -> None:
        try:
            slot.commit(slot.durable)
        except Exception as failure:
            log.warning("checkpoint_not_saved", stream=slot.stream, error=str(failure), after=type(error).__name__)

    def write(self, slot: Slot, page: Page, item: StreamSummary) -> None:
        """Store one page; once this returns, the slot's checkpoint may cover it."""
        if self.state_store.lease_lost():
            raise LeaseLost(
                f"another run took over the lease (this run outlived {env_name('lease_ttl')}): stopped writing"
            )
        if page.records:
            self._deliver(slot, page, item)
        else:
            log.info("page", stream=slot.stream, records=0)
        slot.stored(page.checkpoint)
        item.pages += 1
        item.reached = page.checkpoint.reached() or item.reached
        self.observer.page_stored(item)

    def _deliver(self, slot: Slot, page: Page, item: StreamSummary) -> None:
        body, oversized = encode(page.records)
        for index in oversized:
            log.warning(
                "record_over_line_limit",
                stream=slot.stream,
                id=page.records[index].get("id"),
                limit_bytes=MAX_LINE_BYTES,
                action="stored as is; a SIEM may reject this line",
            )
        key = object_key(self.prefix, slot.stream, page.day, page.position, body, self.compress)
        slot.begin(key, page.checkpoint)
        data = pack(body, self.compress)
        written = self.destination.deliver(StoredPage(key, data))
        item.records += len(page.records)
        item.objects += int(written)
        item.bytes_out += len(data) if written else 0
        log.info("page", stream=slot.stream, records=len(page.records), key=key, written=written)
