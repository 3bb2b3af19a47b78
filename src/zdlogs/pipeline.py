"""One collection pass: stream → page → page writer → destination → state, for each configured stream.

The page writer (``zdlogs.writer``) stores consecutive pages as one object up to ``ZDLOGS_OBJECT_RECORDS`` /
``ZDLOGS_OBJECT_BYTES`` (write-ahead entry, create-if-absent object, then the checkpoint).
A stream that fails does not stop the others; credentials or storage that fail stop the run, since every stream
would fail the same way.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import structlog

from zdlogs import backfill, metrics
from zdlogs.config import Settings
from zdlogs.destinations import Destination, open_destination, open_state_store
from zdlogs.errors import (
    AuthError,
    CollectionFailed,
    ConfigError,
    Interrupted,
    PartialFailure,
    PermissionDenied,
    StorageError,
    ZdlogsError,
)
from zdlogs.progress import Deadline, Limits, Observer, RunSummary, Stop, StreamSummary
from zdlogs.state import Slot, StateStore
from zdlogs.stores import Lease, ObjectStore
from zdlogs.streams import STREAMS, WindowedStream
from zdlogs.streams.base import Checkpoint, Page, Stream, StreamContext
from zdlogs.streams.windowed import WindowCheckpoint, window_end
from zdlogs.times import iso_z, utc_now
from zdlogs.writer import ObjectBound, PageWriter, mid_page
from zdlogs.zendesk.client import ZendeskClient

__all__ = ["Deadline", "RunSummary", "StreamRunner", "StreamSummary", "run", "run_owner"]

log = structlog.get_logger("zdlogs.pipeline")


def run_owner() -> str:
    """Who holds the lease, as the losing run reports it: host and process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def run(settings: Settings, **parts: Any) -> RunSummary:
    """Collect every configured stream once; raise PartialFailure/CollectionFailed if any stream failed
    (``collect``'s parts and summary)."""
    summary = collect(settings, **parts)
    if not summary.interrupted:
        _raise_for_failures(summary)
    return summary


def collect(
    settings: Settings,
    *,
    client: ZendeskClient | None = None,
    destination: Destination | None = None,
    state_store: ObjectStore | None = None,
    now: datetime | None = None,
    stop: Stop | None = None,
    observer: Observer | None = None,
) -> RunSummary:
    """Collect every configured stream once; a stream that failed is in the summary (``run`` raises for it).

    ``destination`` and ``state_store`` default to what ``--output`` names (``zdlogs.destinations``). ``stop``
    (asked by the CLI's signal handlers) ends the run within moments, what is stored committed: the summary
    then names the signal (``interrupted``) and no error is raised for the streams it cut short. ``observer``
    is told what the run does as it goes (the live progress on a terminal: ``zdlogs.live``)."""
    stop, observer = stop or Stop(), observer or Observer()
    state_store = state_store or open_state_store(settings)
    destination = destination or open_destination(settings, state_store)
    summary = RunSummary(output=destination.url)
    with state_store.lease(settings.state_key + ".lease", run_owner()) as lease:
        if not lease.acquired:
            return _held_elsewhere(summary, lease)
        own_client = client is None
        client = client or ZendeskClient(settings, stop=stop, observer=observer)
        try:
            bound = ObjectBound(settings.object_records, settings.object_bytes)
            writer = PageWriter(
                destination, state_store, settings.data_prefix, settings.compress, observer, bound, settings.record_form
            )
            runner = StreamRunner(settings, client, writer, StateStore(state_store, settings.state_key), now, stop)
            with _recorded(runner.state, settings, summary):
                _collect_all(runner, summary)
            _warn_if_limited(summary, runner.limits)
        finally:
            if own_client:
                client.close()
    summary.interrupted = stop.reason if stop.is_set() else ""
    return summary


def _held_elsewhere(summary: RunSummary, lease: Lease) -> RunSummary:
    """Another run holds the output: say who, until when, and collect nothing."""
    summary.lease_holder = lease.owner
    until = lease.expires or "its process ends"
    log.warning("lease_held_elsewhere", holder=lease.owner, since=lease.since, until=until, output=summary.output)
    return summary


@contextmanager
def _recorded(state: StateStore, settings: Settings, summary: RunSummary) -> Iterator[None]:
    """When the run ends, write how it went: each stream's ``last_run`` (one state write for the whole run,
    what ``zdlogs status`` reads) and the metrics file (``--metrics-file``). After a storage failure the state
    is not written again: it would fail the same way (another ``ZDLOGS_STORAGE_TIMEOUT`` of retries), and after
    a lost lease the state is the other run's."""
    try:
        yield
    except StorageError:
        metrics.write(settings.metrics_file, summary, state)
        raise
    except BaseException as error:
        _flush_quietly(state, error)
        metrics.write(settings.metrics_file, summary, state)
        raise
    state.flush()
    metrics.write(settings.metrics_file, summary, state)


def _flush_quietly(state: StateStore, error: BaseException) -> None:
    """Record the runs on the way out of an error, never raising over it."""
    try:
        state.flush()
    except Exception as failure:
        log.warning("run_record_not_saved", error=str(failure), after=type(error).__name__)


def _collect_all(runner: StreamRunner, summary: RunSummary) -> None:
    for name in runner.settings.resources:
        item = StreamSummary(stream=name)
        summary.streams.append(item)
        if runner.limits.stop.is_set():
            item.status = "not started"
            continue
        before, began = dict(runner.client.stats), utc_now()
        started = time.monotonic()
        try:
            runner.collect(STREAMS[name](), item)
        except Interrupted:
            item.status = "interrupted"  # what it stored is committed (the page writer, the backfill)
        except (AuthError, ConfigError, StorageError) as exc:
            item.status, item.error = "failed", str(exc)
            raise  # every stream would fail the same way (a host DNS does not know is a ConfigError)
        except ZdlogsError as exc:
            item.status, item.error = ("skipped" if isinstance(exc, PermissionDenied) else "failed"), str(exc)
            log.error("stream_failed", stream=name, error=str(exc))
        finally:
            _account(item, before, runner.client, time.monotonic() - started)
            runner.record(item, began)
            runner.writer.observer.stream_ended(item)
            log.info("stream_summary", **item.__dict__)


class StreamRunner:
    """Drives one stream at a time through the page writer, within the run's limits."""

    def __init__(
        self,
        settings: Settings,
        client: ZendeskClient,
        writer: PageWriter,
        state: StateStore,
        now: datetime | None = None,
        stop: Stop | None = None,
    ):
        """``now`` (default: the clock) fixes where this run's windows end, for tests comparing two runs."""
        self.settings, self.client, self.writer, self.state = settings, client, writer, state
        self.limits = Limits(settings.max_pages, Deadline(settings.max_runtime), stop)
        self.ctx = StreamContext(
            now=now or utc_now(),
            lookback_seconds=settings.lookback_seconds,
            settle_seconds=settings.settle_seconds,
            since=settings.since,
            extra={"ticket_event_comments": settings.ticket_event_comments},
        )

    def record(self, item: StreamSummary, started: datetime) -> None:
        """Note in the state how this run went for the stream (written with the run's last save). A run that went
        to the end (``ok``) collected everything up to where it asked: the window's end (now minus the settle
        delay) for the time-windowed streams, the start of the run for the exports."""
        complete_to = ""
        if item.status == "ok":
            windowed = isinstance(STREAMS[item.stream](), WindowedStream)
            complete_to = iso_z(window_end(self.ctx) if windowed else self.ctx.now)
        run = run_record(item, started, utc_now())
        self.state.record_run(item.stream, run, newest_record=item.reached, complete_to=complete_to)

    def collect(self, stream: Stream[Any], item: StreamSummary) -> None:
        """Store pages until the stream ends or a limit is hit; commit what is durable, even on error."""
        slot = self.state.slot(stream)
        checkpoint = self.writer.resume(slot)
        if (checkpoint or self.state.planned(stream.name)) and self.settings.since:
            log.info(
                "since_ignored",
                stream=stream.name,
                reason="a checkpoint exists; --since only places a first run",
                fix=f"to collect it again from a date: zdlogs reset --stream {stream.name} --since DATE",
            )
        self.writer.observer.stream_started(stream.name, *self._range(stream, checkpoint))
        pages = self._pages(stream, slot, checkpoint, item)
        if pages is not None:
            self.writer.write_all(slot, pages, item, self.limits, mid_page(stream))

    def _range(self, stream: Stream[Any], checkpoint: Checkpoint) -> tuple[str, str]:
        """The times this run collects ``stream`` between, for the live progress's ETA: from the checkpoint ("" on a
        first run: the display starts the range at the first page) to the window's end (now minus the settle delay)
        for the time-windowed streams, the start of the run for the exports."""
        return checkpoint.reached(), iso_z(window_end(self.ctx) if isinstance(stream, WindowedStream) else self.ctx.now)

    def _pages(
        self, stream: Stream[Any], slot: Slot, checkpoint: Checkpoint, item: StreamSummary
    ) -> Iterator[Page] | None:
        """The pages to store one after the other (after a parallel backfill when one is due), None when the
        backfill has not finished in this run. A windowed stream's resume point is worked out once."""
        if not isinstance(stream, WindowedStream):
            return stream.pages(self.client, checkpoint, self.ctx)
        assert isinstance(checkpoint, WindowCheckpoint)
        if not self.state.planned(stream.name):
            start = stream.resume_point(checkpoint, self.ctx)
            if not self._plan_backfill(stream, checkpoint, start):
                return stream.pages_from(self.client, start, self.ctx)
        if not self._backfill(stream, item):
            return None
        return stream.pages(self.client, self.writer.resume(slot), self.ctx)  # type: ignore[arg-type]

    def _plan_backfill(self, stream: WindowedStream, checkpoint: Checkpoint, start: WindowCheckpoint) -> bool:
        """Plan a parallel backfill when one is due (a first run far back); True if planned."""
        workers = self.settings.backfill_workers
        span = None if checkpoint else backfill.due(stream, self.client, start, self.ctx, workers)
        if span is not None:
            backfill.plan(self.state, stream.name, *span, workers)
        return span is not None

    def _backfill(self, stream: WindowedStream, item: StreamSummary) -> bool:
        """Run (or resume) the stream's backfill plan; True when it finished and the stream may go on."""
        windows = self.state.open_windows(stream)
        workers = self.settings.backfill_workers
        finished = backfill.ParallelBackfill(stream, self.client, windows, self.writer, self.limits, workers).run(item)
        return finished and item.status != "limited"


def _warn_if_limited(summary: RunSummary, limits: Limits) -> None:
    """One warning line when a limit paused streams: how far each got, and that the next run continues."""
    limited = [item for item in summary.streams if item.status == "limited"]
    if limited:
        log.warning(
            "run_limited",
            limit=limits.hit,
            stored="; ".join(f"{item.stream}: {item.how_far()}" for item in limited),
            next_run="continues from there",
        )


def run_record(item: StreamSummary, started: datetime, finished: datetime) -> dict[str, Any]:
    """A stream's ``last_run`` in the state file: when, by whom, how it ended, what it stored, what it cost."""
    record: dict[str, Any] = {
        "started": iso_z(started),
        "finished": iso_z(finished),
        "by": run_owner(),
        "outcome": item.status,
        "records": item.records,
        "pages": item.pages,
        "requests": item.requests,
        "rate_limited": item.rate_limited,
        "retries": item.retries,
        "seconds": item.seconds,
    }
    if item.error:
        record["error"] = item.error
    return record


def _account(item: StreamSummary, before: dict[str, int], client: ZendeskClient, seconds: float) -> None:
    delta = {key: client.stats.get(key, 0) - before.get(key, 0) for key in client.stats}
    item.requests = delta.get("requests", 0)
    item.rate_limited = delta.get("rate_limited", 0)
    item.retries = delta.get("retries", 0)
    item.bytes_in = delta.get("bytes", 0)
    item.seconds = round(seconds, 3)


def _raise_for_failures(summary: RunSummary) -> None:
    failed = summary.failed
    if not failed:
        return
    names = "; ".join(f"{item.stream}: {item.error}" for item in failed)
    if len(failed) == len(summary.streams):
        raise CollectionFailed(names if len(failed) == 1 else f"every stream failed - {names}")
    raise PartialFailure(f"{len(failed)} of {len(summary.streams)} streams failed - {names}")
