"""One collection pass: stream → page → sink → checkpoint, for each configured stream.

Order per page: record the pending checkpoint, store the object (create-if-absent), then go on; the
checkpoint is committed once the object is durable (see ``zdlogs.state``). A stream that fails does
not stop the others; credentials that fail stop the run, since every stream would fail the same way.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog

from zdlogs import backfill
from zdlogs.config import Settings
from zdlogs.errors import (
    AuthError,
    CollectionFailed,
    LeaseLost,
    PartialFailure,
    PermissionDenied,
    StorageError,
    ZdlogsError,
)
from zdlogs.ndjson import MAX_LINE_BYTES, encode, object_key, pack
from zdlogs.sinks import Sink, open_sink
from zdlogs.state import StateStore
from zdlogs.streams import STREAMS, WindowedStream
from zdlogs.streams.base import Page, Stream, StreamContext, iso_z
from zdlogs.streams.windowed import window_end
from zdlogs.zendesk.client import ZendeskClient

log = structlog.get_logger("zdlogs.pipeline")


@dataclass
class StreamSummary:
    stream: str
    status: str = "ok"  # ok | limited (MAX_PAGES / --max-runtime reached) | failed | skipped
    records: int = 0
    pages: int = 0
    objects: int = 0
    requests: int = 0
    rate_limited: int = 0
    retries: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    seconds: float = 0.0
    error: str = ""


@dataclass
class RunSummary:
    output: str
    streams: list[StreamSummary] = field(default_factory=list)
    lease_holder: str = ""

    @property
    def failed(self) -> list[StreamSummary]:
        return [item for item in self.streams if item.status in ("failed", "skipped")]


class Deadline:
    """``--max-runtime``: no new page is started after it passes."""

    def __init__(self, seconds: float | None, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._end = clock() + seconds if seconds else None

    def passed(self) -> bool:
        return self._end is not None and self._clock() >= self._end


def run_owner() -> str:
    """Who holds the lease, as the losing run reports it: host and process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def run(
    settings: Settings, *, client: ZendeskClient | None = None, sink: Sink | None = None, now: datetime | None = None
) -> RunSummary:
    """Collect every configured stream once; raise PartialFailure/first error if any stream failed."""
    sink = sink or open_sink(settings.output, lease_ttl=settings.lease_ttl, settings=settings)
    summary = RunSummary(output=sink.url)
    with sink.lease(settings.state_key + ".lease", run_owner()) as lease:
        if not lease.acquired:
            summary.lease_holder = lease.owner
            until = lease.expires or "its process ends"
            log.warning("lease_held_elsewhere", holder=lease.owner, since=lease.since, until=until, output=sink.url)
            return summary
        own_client = client is None
        client = client or ZendeskClient(settings)
        try:
            _collect_all(settings, client, sink, summary, now)
        finally:
            if own_client:
                client.close()
    _raise_for_failures(summary)
    return summary


def _collect_all(
    settings: Settings, client: ZendeskClient, sink: Sink, summary: RunSummary, now: datetime | None
) -> None:
    runner = StreamRunner(settings, client, sink, StateStore(sink, settings.state_key), now)
    for name in settings.resources:
        item = StreamSummary(stream=name)
        summary.streams.append(item)
        before = dict(client.stats)
        started = time.monotonic()
        try:
            runner.collect(STREAMS[name](), item)
        except (AuthError, StorageError) as exc:
            item.status, item.error = "failed", str(exc)
            raise  # every stream would fail the same way
        except ZdlogsError as exc:
            item.status, item.error = ("skipped" if isinstance(exc, PermissionDenied) else "failed"), str(exc)
            log.error("stream_failed", stream=name, error=str(exc))
        finally:
            _account(item, before, client, time.monotonic() - started)
            log.info("stream_summary", **item.__dict__)


class StreamRunner:
    """Drives one stream at a time through the sink and the state store, within the run's limits."""

    def __init__(
        self, settings: Settings, client: ZendeskClient, sink: Sink, state: StateStore, now: datetime | None = None
    ):
        """``now`` (default: the clock) fixes where this run's windows end, for tests comparing two runs."""
        self.settings, self.client, self.sink, self.state = settings, client, sink, state
        self.deadline = Deadline(settings.max_runtime)
        self.ctx = StreamContext(
            now=now or datetime.now(UTC),
            lookback_seconds=settings.lookback_seconds,
            settle_seconds=settings.settle_seconds,
            since=settings.since,
            extra={"ticket_event_comments": settings.ticket_event_comments},
        )

    def collect(self, stream: Stream, item: StreamSummary) -> None:
        """Store pages until the stream ends or a limit is hit; commit what is durable, even on error."""
        committed = self.state.resume(stream.name)
        if (committed or self.state.backfill(stream.name)) and self.settings.since:
            log.info("since_ignored", stream=stream.name, reason="a checkpoint exists; --since is for first runs")
        if isinstance(stream, WindowedStream) and not self._backfill(stream, committed, item):
            return
        committed = self.state.checkpoint(stream.name)
        try:
            for page in stream.pages(self.client, committed, self.ctx):
                self.store(stream.name, page, item, self._begin(stream.name, committed, page))
                committed = page.checkpoint
                item.pages += 1
                if self.limit_reached(stream.name, item):
                    break
        finally:
            self.state.commit(stream.name, committed)

    def _backfill(self, stream: WindowedStream, committed: dict, item: StreamSummary) -> bool:
        """Run (or resume) a parallel backfill when one is due; True when the stream may go on as usual."""
        if not self.state.backfill(stream.name):
            start, _ = stream.resume_point(committed, self.ctx)
            until = window_end(self.ctx)
            if committed or self.ctx.since is None or not backfill.wanted(start, until, self.settings.backfill_workers):
                return True
            oldest = stream.oldest(self.client, iso_z(start), iso_z(until))
            if oldest is None or not backfill.wanted(oldest, until, self.settings.backfill_workers):
                return True
            backfill.ParallelBackfill.plan(self, stream.name, oldest, until, self.settings.backfill_workers)
        finished = backfill.ParallelBackfill(self, stream, self.settings.backfill_workers).run(item)
        return finished and item.status != "limited"

    def _begin(self, name: str, committed: dict, page: Page) -> Callable[[str], None]:
        return lambda key: self.state.begin(name, committed, key, page.checkpoint)

    def limit_reached(self, name: str, item: StreamSummary) -> bool:
        reason = ""
        if item.pages >= self.settings.max_pages:
            reason = "MAX_PAGES"
        elif self.deadline.passed():
            reason = "max-runtime"
        if reason:
            item.status = "limited"
            log.info("stream_paused", stream=name, reason=reason, resume="the next run continues from here")
        return bool(reason)

    def store(self, name: str, page: Page, item: StreamSummary, begin: Callable[[str], None]) -> None:
        """Write one page's object; ``begin(key)`` records the write-ahead checkpoint first."""
        if self.sink.lease_lost():
            raise LeaseLost("another run took over the lease (this run outlived ZDLOGS_LEASE_TTL): stopped writing")
        if not page.records:
            log.info("page", stream=name, records=0)
            return
        compress = self.settings.compress
        body, oversized = encode(page.records)
        for index in oversized:
            log.warning(
                "record_over_line_limit",
                stream=name,
                id=page.records[index].get("id"),
                limit_bytes=MAX_LINE_BYTES,
                action="stored as is; a SIEM may reject this line",
            )
        key = object_key(self.settings.gcs_prefix, name, page.day, page.position, body, compress)
        begin(key)
        data = pack(body, compress)
        written = self.sink.put_if_absent(key, data)
        item.records += len(page.records)
        item.objects += int(written)
        item.bytes_out += len(data) if written else 0
        log.info("page", stream=name, records=len(page.records), key=key, written=written)


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
