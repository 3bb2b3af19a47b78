"""Parallel backfill of a time-window stream (audit log, access log): windows fetched concurrently,
stored and checkpointed one by one.

A first run that starts far in the past (``--since`` more than a day back) would
walk months of audit log one page at a time, using a fraction of the request rate it is allowed: each
request waits for Zendesk's answer. Instead the range ``[start, now - settle]`` is split into
contiguous windows of whole seconds, and ``--backfill-workers`` threads each walk one window at a time
(the same request as a normal run, with the window as its ``filter[created_at]``), all paced by the
client's shared, thread-safe Pacer within ``--rate-share`` of the account's limit.

Only the workers talk to Zendesk. Every page is handed to the calling thread, which stores it exactly as
a normal run does (write-ahead pending entry, create-if-absent object with a deterministic name) and
records the window's progress in the state file (``StateStore.*_window``). So a run killed at any point
resumes every window where it was, without loss or duplicates, and the stream's own checkpoint only ever
covers the finished windows at the start of the range; once all are finished it is what a sequential
backfill would have left, and later runs go on as usual. ``MAX_PAGES`` and ``--max-runtime`` hold for
the whole backfill: workers take a ticket per request, so no page is fetched that cannot be stored.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog

from zdlogs.streams.base import Checkpoint, Page, iso_z
from zdlogs.streams.windowed import WindowedStream

if TYPE_CHECKING:
    from zdlogs.pipeline import StreamRunner, StreamSummary

log = structlog.get_logger("zdlogs.backfill")

MIN_SPAN = timedelta(days=1)  # shorter first runs are not worth the threads
WINDOWS_PER_WORKER = 4  # more windows than workers keeps every worker busy until the end


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


@dataclass(frozen=True)
class _Message:
    """What a worker hands to the storing thread: a page, a finished window, an error, or its own exit."""

    kind: str  # page | done | error | exit
    window: int = -1
    page: Page | None = None
    error: BaseException | None = None


class ParallelBackfill:
    """Runs (or resumes) the stream's backfill plan; the caller's thread does every write."""

    def __init__(self, runner: StreamRunner, stream: WindowedStream, workers: int):
        self.runner, self.stream, self.workers = runner, stream, workers
        self.name = stream.name
        self._stop = threading.Event()
        self._tickets = threading.Semaphore(0)
        self._messages: queue.Queue[_Message] = queue.Queue(maxsize=workers * 2)
        self._todo: queue.Queue[int] = queue.Queue()

    @staticmethod
    def plan(runner: StreamRunner, name: str, start: datetime, until: datetime, workers: int) -> None:
        windows = split(start, until, workers * WINDOWS_PER_WORKER)
        runner.state.start_backfill(name, iso_z(until), windows)
        log.info("backfill_planned", stream=name, since=iso_z(start), until=iso_z(until), windows=len(windows))

    def run(self, item: StreamSummary) -> bool:
        """Collect until the plan is finished (True) or a limit stops it (False); errors propagate."""
        plan = self.runner.state.backfill(self.name)
        assert plan is not None
        windows = plan["windows"]
        committed = {i: self.runner.state.resume_window(self.name, i) for i, w in enumerate(windows) if not w["done"]}
        for index in committed:
            self._todo.put(index)
        budget = self.runner.settings.max_pages - item.pages
        if budget > 0:
            self._tickets.release(budget)
        count = min(self.workers, len(committed))
        threads = [threading.Thread(target=self._work, args=(windows, committed), daemon=True) for _ in range(count)]
        for thread in threads:
            thread.start()
        try:
            return self._store_all(len(threads), committed, item)
        finally:
            self._shut_down(threads, committed)

    def _halt(self) -> None:
        """Stop the workers, waking those waiting for a ticket."""
        self._stop.set()
        self._tickets.release(self.workers)

    # -- the storing (calling) thread --------------------------------------------------------------------

    def _store_all(self, running: int, committed: dict[int, Checkpoint], item: StreamSummary) -> bool:
        """Store pages as they come; after a stop, pages and "done" are dropped (their windows resume later)."""
        while running:
            message = self._messages.get()
            if message.kind == "exit":
                running -= 1
            elif message.kind == "error":
                assert message.error is not None
                raise message.error
            elif self._stop.is_set():
                continue
            elif message.kind == "done":
                self.runner.state.commit_window(self.name, message.window, committed.pop(message.window), done=True)
            else:
                self._store(message.window, message.page, committed, item)
        return not committed

    def _store(self, window: int, page: Page | None, committed: dict[int, Checkpoint], item: StreamSummary) -> None:
        assert page is not None
        before = committed[window]
        self.runner.store(
            self.name, page, item, lambda key: self.runner.state.begin_window(self.name, window, before, key,
                                                                              page.checkpoint)
        )  # fmt: skip
        item.pages += 1
        if page.final:  # finished with its last page, even if that page is the last this run may store
            committed.pop(window)
            self.runner.state.commit_window(self.name, window, page.checkpoint, done=True)
        else:
            committed[window] = page.checkpoint
        if self.runner.limit_reached(self.name, item):
            self._halt()

    def _shut_down(self, threads: list[threading.Thread], committed: dict[int, Checkpoint]) -> None:
        """Stop the workers, drop pages not stored (their windows' checkpoints do not cover them), save progress."""
        self._halt()
        while any(thread.is_alive() for thread in threads):
            try:
                self._messages.get(timeout=0.1)
            except queue.Empty:
                continue
        for thread in threads:
            thread.join()
        if self.runner.state.backfill(self.name) is None:
            return
        for window, checkpoint in committed.items():
            self.runner.state.commit_window(self.name, window, checkpoint, done=False)

    # -- workers -----------------------------------------------------------------------------------------

    def _work(self, windows: list[dict[str, Any]], committed: dict[int, Checkpoint]) -> None:
        try:
            while not self._stop.is_set():
                try:
                    index = self._todo.get_nowait()
                except queue.Empty:
                    return
                self._walk(index, windows[index], dict(committed[index]))
        except BaseException as exc:  # handed over: the storing thread raises it
            self._put(_Message("error", error=exc))
        finally:
            self._put(_Message("exit"), always=True)

    def _walk(self, index: int, window: dict[str, Any], checkpoint: Checkpoint) -> None:
        start = checkpoint if checkpoint.get("since") else {"since": window["start"], "seen_ids": []}
        pages: Iterator[Page] = self.stream.window_pages(self.runner.client, start, window["end"])
        while True:
            self._tickets.acquire()
            if self._stop.is_set():
                return
            page = next(pages, None)
            if page is None:
                self._tickets.release()  # the window ended without another request
                self._put(_Message("done", index))
                return
            if not self._put(_Message("page", index, page)) or page.final:
                return

    def _put(self, message: _Message, always: bool = False) -> bool:
        """Hand a message over, giving up when the run stops (unless ``always``)."""
        while always or not self._stop.is_set():
            try:
                self._messages.put(message, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False
