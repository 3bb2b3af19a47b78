"""Parallel backfill of a time-window stream (audit log, access log): windows fetched concurrently,
stored and checkpointed one by one.

A first run that starts far in the past (``--since`` more than a day back) would
walk months of audit log one page at a time, using a fraction of the request rate it is allowed: each
request waits for Zendesk's answer. Instead the range ``[start, now - settle]`` is split into
contiguous windows of whole seconds, and ``--backfill-workers`` threads each walk one window at a time
(the same request as a normal run, with the window as its ``filter[created_at]``), all paced by the
client's shared, thread-safe Pacer within ``--rate-share`` of the account's limit.

Only the workers talk to Zendesk. Every page is handed to the calling thread, which stores it exactly as
a normal run does, through the page writer (``zdlogs.writer``: consecutive pages of a window in one object,
write-ahead pending entry, create-if-absent object with a deterministic name), and records the window's progress
in its slot of the state file (``StateStore.window``). The windows being walked at once share the object bound
(each open object holds at most its share), so the memory held stays that of one object.
The backfill is given the plan's windows, the writer and the run's limits, and
returns whether the plan is finished: nothing else flows back to the pipeline. So a run killed at any point
resumes every window where it was, without loss or duplicates, and the stream's own checkpoint only ever
covers the finished windows at the start of the range; once all are finished it is what a sequential
backfill would have left, and later runs go on as usual. ``MAX_PAGES`` and ``--max-runtime`` hold for
the whole backfill: workers take a ticket per request, so no page is fetched that cannot be stored. A stop
(Ctrl-C, SIGTERM: ``progress.Stop``) ends it within moments: the storing thread stops waiting for pages, the
workers' waits end at once, and a worker still inside a request is not waited for beyond a grace of seconds.
"""

from __future__ import annotations

import contextvars
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog

from zdlogs.errors import Interrupted
from zdlogs.progress import Limits, StreamSummary
from zdlogs.state import StateStore, WindowSlot
from zdlogs.streams.base import Page, StreamContext
from zdlogs.streams.windowed import WindowCheckpoint, WindowedStream, window_end
from zdlogs.times import iso_z, parse_utc
from zdlogs.writer import PageWriter, mid_page
from zdlogs.zendesk.client import ZendeskClient

log = structlog.get_logger("zdlogs.backfill")

MIN_SPAN = timedelta(days=1)  # shorter first runs are not worth the threads
WINDOWS_PER_WORKER = 4  # more windows than workers keeps every worker busy until the end
POLL_SECONDS = 0.2  # how often the storing thread, waiting for a page, looks whether the run was asked to stop
STOP_GRACE_SECONDS = 2.0  # how long a stopped run waits for workers inside a request before leaving them


def split(start: datetime, until: datetime, count: int) -> list[tuple[str, str]]:
    """``count`` (or fewer) contiguous windows of whole seconds covering ``[start, until]``, both inclusive."""
    first, last = int(start.timestamp()), int(until.timestamp())
    count = max(1, min(count, last - first + 1))
    bounds = [first + (last - first + 1) * i // count for i in range(count + 1)]
    return [(_iso(bounds[i]), _iso(bounds[i + 1] - 1)) for i in range(count)]


def _iso(epoch: int) -> str:
    return iso_z(datetime.fromtimestamp(epoch, UTC))


def wanted(start: datetime, until: datetime, workers: int) -> bool:
    return workers > 1 and until - start > MIN_SPAN


def due(
    stream: WindowedStream, client: ZendeskClient, start: WindowCheckpoint, ctx: StreamContext, workers: int
) -> tuple[datetime, datetime] | None:
    """The range a first run should backfill in parallel (``--since`` far back), from its oldest record; or None."""
    since, until = parse_utc(start.since), window_end(ctx)
    if ctx.since is None or not wanted(since, until, workers):
        return None
    oldest = stream.oldest(client, start.since, iso_z(until))
    return (oldest, until) if oldest is not None and wanted(oldest, until, workers) else None


def plan(state: StateStore, name: str, start: datetime, until: datetime, workers: int) -> None:
    """Record the windows of ``[start, until]`` in the state before anything is fetched."""
    windows = split(start, until, workers * WINDOWS_PER_WORKER)
    state.start_backfill(name, iso_z(until), windows)
    log.info("backfill_planned", stream=name, since=iso_z(start), until=iso_z(until), windows=len(windows))


@dataclass(frozen=True)
class _Message:
    """What a worker hands to the storing thread: a page, a finished window, an error, or its own exit."""

    kind: str  # page | done | error | exit
    window: int = -1
    page: Page | None = None
    error: BaseException | None = None


class ParallelBackfill:
    """Runs (or resumes) the unfinished windows of a backfill plan; the caller's thread does every write."""

    def __init__(
        self,
        stream: WindowedStream,
        client: ZendeskClient,
        windows: list[WindowSlot],
        writer: PageWriter,
        limits: Limits,
        workers: int,
    ):
        self.stream, self.client, self.limits, self.workers = stream, client, limits, workers
        self.writer = writer.shared(workers)  # the windows' open objects hold together what one object may
        self._cut = mid_page(stream)
        self._windows = windows
        self._open = dict(enumerate(windows))  # the windows not finished yet, by their place in this list
        self._stop = threading.Event()
        self._left = False  # the storing thread stopped waiting for the workers
        self._tickets = threading.Semaphore(0)
        self._ticketed = limits.max_pages is not None  # without MAX_PAGES, a worker needs no ticket
        self._messages: queue.Queue[_Message] = queue.Queue(maxsize=workers * 2)
        self._todo: queue.Queue[int] = queue.Queue()

    def run(self, item: StreamSummary) -> bool:
        """Collect until the plan is finished (True) or a limit stops it (False); errors propagate."""
        starts = {index: self._start(slot) for index, slot in self._open.items()}
        for index in starts:
            self._todo.put(index)
        budget = self.limits.budget(item)
        if budget is not None and budget > 0:
            self._tickets.release(budget)
        count = min(self.workers, len(starts))
        threads = [  # each in a copy of this context: their log lines carry what the run's carry (the tenant)
            threading.Thread(target=contextvars.copy_context().run, args=(self._work, starts), daemon=True)
            for _ in range(count)
        ]
        for thread in threads:
            thread.start()
        try:
            finished = self._store_all(len(threads), item)
        except BaseException as error:
            self._shut_down(threads, error)
            raise
        self._shut_down(threads)
        item.reached = self._stored_until()
        return finished

    def _start(self, slot: WindowSlot) -> tuple[WindowCheckpoint, str]:
        """Where a window's walk starts (its checkpoint, else its first second) and where it ends."""
        checkpoint = self.writer.resume(slot)
        assert isinstance(checkpoint, WindowCheckpoint)
        return (checkpoint if checkpoint.since else WindowCheckpoint(slot.start)), slot.end

    def _stored_until(self) -> str:
        """How far the plan got: where its earliest unfinished window stands (everything before is stored),
        or the end of the last window once all are finished."""
        if self._open:
            return min(slot.durable.reached() or slot.start for slot in self._open.values())
        return max(slot.durable.reached() or slot.end for slot in self._windows)

    def _halt(self) -> None:
        """Stop the workers, waking those waiting for a ticket."""
        self._stop.set()
        self._tickets.release(self.workers)

    # -- the storing (calling) thread --------------------------------------------------------------------

    def _store_all(self, running: int, item: StreamSummary) -> bool:
        """Store pages as they come; after a stop, pages and "done" are dropped (their windows resume later).
        A stop asked of the run (Ctrl-C, SIGTERM) ends this at once: the stream is ``interrupted``."""
        while running and (message := self._next_message()) is not None:
            if message.kind == "exit":
                running -= 1
            elif message.kind == "error":
                assert message.error is not None
                if not isinstance(message.error, Interrupted):  # a worker met the stop: ends below
                    raise message.error
            elif self._stop.is_set():
                continue
            elif message.kind == "done":
                self._finish(self._open.pop(message.window))
            else:
                self._store(message.window, message.page, item)
        if self.limits.stop.is_set():
            item.status = "interrupted"
            return False
        return not self._open

    def _next_message(self) -> _Message | None:
        """The workers' next message; None once the run is asked to stop, even while none comes."""
        while not self.limits.stop.is_set():
            try:
                return self._messages.get(timeout=POLL_SECONDS)
            except queue.Empty:
                continue
        return None

    def _store(self, window: int, page: Page | None, item: StreamSummary) -> None:
        assert page is not None
        slot = self._open[window]
        self.writer.write(slot, page, item, self._cut)
        if page.final:  # finished with its last page, even if that page is the last this run may store
            self._finish(self._open.pop(window))
        if self.limits.reached(item):
            self._halt()

    def _finish(self, slot: WindowSlot) -> None:
        """A window's last page was handed over: store its open object, then mark the window finished."""
        self.writer.flush(slot)
        slot.commit(slot.durable, done=True)

    def _shut_down(self, threads: list[threading.Thread], error: BaseException | None = None) -> None:
        """Stop the workers, drop pages not stored (their windows' checkpoints do not cover them), save progress
        (after an error, as the page writer's ``close`` does: a write of unknown fate keeps its entry)."""
        self._halt()
        self._drain(threads, STOP_GRACE_SECONDS if self.limits.stop.is_set() else None)
        for slot in self._open.values():  # unfinished: the plan is still there
            self.writer.close(slot, error)

    def _drain(self, threads: list[threading.Thread], grace: float | None) -> None:
        """Take the workers' last messages until they exit. After a stop request, wait ``grace`` seconds at most:
        a worker still inside a request is left to end on its own (workers never write), the run goes on."""
        end = None if grace is None else time.monotonic() + grace
        while any(thread.is_alive() for thread in threads) and (end is None or time.monotonic() < end):
            try:
                self._messages.get(timeout=0.1)
            except queue.Empty:
                continue
        self._left = True  # a worker still running hands nothing over any more
        for thread in threads:
            thread.join(timeout=None if end is None else 0)

    # -- workers -----------------------------------------------------------------------------------------

    def _work(self, starts: dict[int, tuple[WindowCheckpoint, str]]) -> None:
        try:
            while not self._stop.is_set():
                try:
                    index = self._todo.get_nowait()
                except queue.Empty:
                    return
                self._walk(index, *starts[index])
        except BaseException as exc:  # handed over: the storing thread raises it
            self._put(_Message("error", error=exc))
        finally:
            self._put(_Message("exit"), always=True)

    def _walk(self, index: int, start: WindowCheckpoint, end: str) -> None:
        pages: Iterator[Page] = self.stream.window_pages(self.client, start, end)
        while True:
            if self._ticketed:
                self._tickets.acquire()
            if self._stop.is_set():
                return
            page = next(pages, None)
            if page is None:
                self._tickets.release()  # the window ended without another request (unticketed: harmless)
                self._put(_Message("done", index))
                return
            if not self._put(_Message("page", index, page)) or page.final:
                return

    def _put(self, message: _Message, always: bool = False) -> bool:
        """Hand a message over, giving up when the run stops (unless ``always``)."""
        while not self._left and (always or not self._stop.is_set()):
            try:
                self._messages.put(message, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False
