"""A run's progress: what each stream did (:class:`StreamSummary`, :class:`RunSummary`) and how far it may go
(:class:`Limits`: ``MAX_PAGES``, ``--max-runtime`` and a :class:`Stop` asked by Ctrl-C or SIGTERM), shared by the
pipeline, the page writer, the backfill and the client (every wait of a run waits on the stop)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import structlog

from zdlogs.config import env_name
from zdlogs.errors import Interrupted

log = structlog.get_logger("zdlogs.pipeline")


@dataclass
class StreamSummary:
    stream: str
    status: str = "ok"  # ok | limited (MAX_PAGES / --max-runtime) | interrupted | not started | failed | skipped
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
    reached: str = ""  # the time up to which the stream is stored (its checkpoint's), "" when not known

    def how_far(self) -> str:
        """What this run stored of the stream, for one-line reports: ``1,234 records up to 2026-11-20T12:00:00Z``."""
        if self.status in ("not started", "failed", "skipped"):
            return self.status
        up_to = f" up to {self.reached}" if self.reached else ""
        return f"{self.records:,} records{up_to}{', complete' if self.status == 'ok' else ''}"


@dataclass
class RunSummary:
    output: str
    streams: list[StreamSummary] = field(default_factory=list)
    lease_holder: str = ""
    interrupted: str = ""  # the signal that stopped the run (SIGINT, SIGTERM), if one did

    @property
    def failed(self) -> list[StreamSummary]:
        return [item for item in self.streams if item.status in ("failed", "skipped")]

    def interruption(self) -> str:
        """The one line a run a signal stopped ends with: how far each stream got, and what the next run does."""
        total = sum(item.records for item in self.streams)
        streams = "; ".join(f"{item.stream} {item.how_far()}" for item in self.streams)
        return (
            f"interrupted by {self.interrupted}: {total:,} records stored and checkpointed ({streams}); "
            "the next run continues from there"
        )


class Deadline:
    """``--max-runtime``: no new page is started after it passes."""

    def __init__(self, seconds: float | None, clock: Callable[[], float] = time.monotonic):
        self._clock, self.seconds = clock, seconds or 0.0
        self._end = clock() + seconds if seconds else None

    def passed(self) -> bool:
        return self._end is not None and self._clock() >= self._end


class Stop:
    """A request to stop the run, from a signal handler: every wait of the run (the client's pacing and retry
    sleeps, the backfill's queues) waits on it, so the run stops within moments, whatever it was waiting for.

    ``abortable()`` marks the main thread's calls to Zendesk: a signal arriving inside one may end it at once
    (``interrupt_now``), since nothing is being stored there; anywhere else the run stops after the page it
    is storing."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = ""  # the signal's name
        self.exit_code = 130
        self._main_in_call = False

    def request(self, reason: str, exit_code: int) -> None:
        self.reason, self.exit_code = reason, exit_code
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    @property
    def interrupt_now(self) -> bool:
        """Whether the main thread is inside a call to Zendesk, where the signal may end it at once."""
        return self._main_in_call

    def error(self) -> Interrupted:
        return Interrupted(f"stopped by {self.reason or 'a stop request'}", self.exit_code)

    def check(self) -> None:
        """Raise :class:`~zdlogs.errors.Interrupted` once a stop was asked: no new request starts."""
        if self._event.is_set():
            raise self.error()

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``, or less: a stop ends the wait at once (and raises)."""
        if self._event.wait(max(0.0, seconds)):
            raise self.error()

    @contextmanager
    def abortable(self) -> Iterator[None]:
        """Inside, on the main thread, a stop may raise at once (the workers' calls end at their next wait)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        self._main_in_call = True
        try:
            yield
        finally:
            self._main_in_call = False


class Limits:
    """When a stream pauses for this run: ``max_pages`` pages stored (None: no page limit), or the deadline passed.

    ``hit`` names the limit that paused a stream (``MAX_PAGES=20``), for the run's one warning line."""

    def __init__(self, max_pages: int | None, deadline: Deadline, stop: Stop | None = None):
        self.max_pages, self.deadline, self.stop = max_pages, deadline, stop or Stop()
        self.hit = ""

    def budget(self, item: StreamSummary) -> int | None:
        """Pages the stream may still store in this run; None when there is no page limit."""
        return None if self.max_pages is None else self.max_pages - item.pages

    def reached(self, item: StreamSummary) -> bool:
        """True (and the stream marked ``limited``, in the log too) once a limit is reached; ``interrupted``
        once a stop was asked."""
        if self.stop.is_set():
            item.status = "interrupted"
            return True
        reason = ""
        if self.max_pages is not None and item.pages >= self.max_pages:
            reason = f"{env_name('max_pages')}={self.max_pages}"
        elif self.deadline.passed():
            reason = f"{env_name('max_runtime')}={self.deadline.seconds:g}"
        if reason:
            item.status, self.hit = "limited", reason
            log.info("stream_paused", stream=item.stream, reason=reason, resume="the next run continues from here")
        return bool(reason)


class Observer:
    """Told what a run does, for a live display (``zdlogs.live``); this base is the no-op one (not on a terminal,
    ``--log-format json``). The path is one way: the pipeline, the page writer and the client call it, it
    returns nothing and changes nothing, so a display can never alter what is collected. ``waiting`` may be
    called from the backfill's worker threads."""

    def stream_started(self, stream: str, since: str = "", until: str = "") -> None:
        """A stream begins; ``since``/``until`` (ISO times, "" when not known) bound what it collects."""

    def page_stored(self, item: StreamSummary) -> None:
        """A page of ``item.stream`` is stored: its counts and ``reached`` are up to date."""

    def waiting(self, reason: str, seconds: float) -> None:
        """A request waits ``seconds`` before it is sent: a rate limit's pacing, or a retry (``reason``)."""

    def stream_ended(self, item: StreamSummary) -> None:
        """The stream is done for this run (``item.status`` says how)."""
