"""The live progress of ``zdlogs run`` on a terminal: per stream its records, pages, rate and, where the range
is known, an ETA; the waits of a rate limit with their reason.

It is a :class:`~zdlogs.progress.Observer`: the pipeline, the page writer and the client tell it what happens,
it asks nothing back, so the data path stays one way. :func:`shown` gives the rich display only when stderr is
a terminal and the log format is not JSON; anywhere else it gives the no-op observer and the log lines are
what they always were. While the display is up, info log lines are not printed (the display says what they
said: pages, pacing, each stream's end) and warnings and errors are printed above it through rich's console,
so no line tears the display; the run's ``run_summary`` line and table follow once it is gone.
"""

from __future__ import annotations

import functools
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from zdlogs import logs
from zdlogs.progress import Observer, StreamSummary
from zdlogs.times import parse_utc

if TYPE_CHECKING:  # rich is imported when a display is shown: a piped run (cron) never imports it
    from rich.console import Console, RenderableType
    from rich.progress import Progress, TaskID

REASON_CHARS = 90  # a wait's reason (a retry quotes the error) is cut past this; its figures come before it


def _epoch(value: str) -> float | None:
    """An ISO time as epoch seconds; None for "" or a time that does not parse (no ETA then, never a wrong one)."""
    try:
        return parse_utc(value).timestamp() if value else None
    except ValueError:
        return None


@dataclass
class StreamPace:
    """How fast a stream goes and when it should end: ``since``/``until`` bound the times it collects (epoch
    seconds, None when not known), ``reached`` is how far its stored pages go. The ETA assumes the time still
    to collect goes as fast as the time collected so far; it is dropped for good once ``reached`` steps back
    (a parallel backfill's windows advance side by side, so no one time says how far the whole is)."""

    since: float | None
    until: float | None
    started: float
    records: int = 0
    pages: int = 0
    reached: float | None = None
    ordered: bool = True

    def stored(self, item: StreamSummary) -> None:
        self.records, self.pages = item.records, item.pages
        reached = _epoch(item.reached)
        if reached is None:
            return
        if self.reached is not None and reached < self.reached:
            self.ordered = False
        self.reached = reached
        if self.since is None:
            self.since = reached  # first run of an export: it starts where its first page is

    def rate(self, now: float) -> float:
        """Records per second since the stream started."""
        elapsed = now - self.started
        return self.records / elapsed if elapsed > 0 else 0.0

    def fraction(self) -> float | None:
        """How much of ``[since, until]`` is stored, 0..1; None when not known."""
        if not self.ordered or None in (self.since, self.until, self.reached):
            return None
        assert self.since is not None and self.until is not None and self.reached is not None
        if self.until <= self.since:
            return 1.0
        return min(1.0, max(0.0, (self.reached - self.since) / (self.until - self.since)))

    def eta(self, now: float) -> float | None:
        """Seconds until the stream should be done; None when not known (nothing stored yet, no range)."""
        fraction, elapsed = self.fraction(), now - self.started
        if fraction is None or fraction <= 0 or elapsed <= 0:
            return None
        return elapsed * (1 - fraction) / fraction


def clock_text(seconds: float) -> str:
    """``0:04:05``: whole seconds, rounded up (an ETA of 0.2 s is 0:00:01, never 0:00:00 before the end)."""
    whole = int(-(-seconds // 1))
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def describe(pace: StreamPace, now: float, with_eta: bool = True) -> str:
    """A stream's figures in one line: ``1,200 records · 12 pages · 340/s · ETA 0:00:42``."""
    parts = [
        f"{pace.records:,} records",
        f"{pace.pages:,} page{'' if pace.pages == 1 else 's'}",
        f"{pace.rate(now):,.0f}/s",
    ]
    eta = pace.eta(now) if with_eta else None
    if eta is not None:
        parts.append(f"ETA {clock_text(eta)}")
    return " · ".join(parts)


class _Waits:
    """The run's waits before a request: how many, the latest one's reason and when it ends (thread-safe: the
    backfill's workers wait too)."""

    def __init__(self, clock: Callable[[], float]):
        self._clock, self._lock = clock, threading.Lock()
        self.count, self.reason, self.ends = 0, "", 0.0

    def add(self, reason: str, seconds: float) -> None:
        with self._lock:
            self.count += 1
            self.reason, self.ends = reason, self._clock() + seconds

    def text(self) -> str:
        """``waiting 58 s (3 waits): rate limit: …``, or "" before the first wait."""
        with self._lock:
            if not self.count:
                return ""
            left = max(0.0, self.ends - self._clock())
            state = f"waiting {clock_text(left)}" if left > 0 else "last wait"
            reason = self.reason if len(self.reason) <= REASON_CHARS else self.reason[: REASON_CHARS - 1] + "…"
            return f"{state} ({self.count:,} wait{'s' if self.count > 1 else ''}): {reason}"


@functools.cache
def _display_class() -> Callable[[_Waits, Console, bool], Progress]:
    """The display's class, defined (and rich imported) when a first display is made."""
    from rich.progress import BarColumn, Progress, TextColumn
    from rich.table import Column
    from rich.text import Text

    class _Display(Progress):
        """rich's progress, one row per stream, and the waits line under the rows."""

        def __init__(self, waits: _Waits, console: Console, transient: bool):
            columns = (
                TextColumn("{task.fields[stream]}", table_column=Column(no_wrap=True)),
                BarColumn(bar_width=16),
                TextColumn("{task.fields[detail]}", table_column=Column(overflow="fold")),  # figures wrap, never cut
            )
            self._waits = waits  # before rich's constructor: it renders once
            super().__init__(*columns, console=console, transient=transient, refresh_per_second=4)

        def get_renderables(self) -> Iterator[RenderableType]:
            yield self.make_tasks_table(self.tasks)
            text = self._waits.text()
            if text:
                yield Text(text, style="yellow", overflow="ellipsis", no_wrap=True)

    return _Display


class LiveProgress(Observer):
    """The observer behind the display: one row per stream as it starts, updated with each page stored."""

    def __init__(self, console: Console, transient: bool = True, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self.waits = _Waits(clock)
        self.display = _display_class()(self.waits, console, transient)
        self._rows: dict[str, tuple[TaskID, StreamPace]] = {}

    def stream_started(self, stream: str, since: str = "", until: str = "") -> None:
        pace = StreamPace(_epoch(since), _epoch(until), self._clock())
        row = self.display.add_task("", total=100 if pace.until is not None else None, stream=stream, detail="")
        self._rows[stream] = (row, pace)
        self._show(stream)

    def page_stored(self, item: StreamSummary) -> None:
        if item.stream in self._rows:
            self._rows[item.stream][1].stored(item)
            self._show(item.stream)

    def waiting(self, reason: str, seconds: float) -> None:
        self.waits.add(reason, seconds)
        self.display.refresh()

    def stream_ended(self, item: StreamSummary) -> None:
        if item.stream not in self._rows:
            return
        row, pace = self._rows[item.stream]
        pace.stored(item)
        done = item.status == "ok"
        detail = f"{describe(pace, self._clock(), with_eta=False)} · {item.status}"
        self.display.update(row, total=100, completed=100 if done else (pace.fraction() or 0) * 100, detail=detail)

    def _show(self, stream: str) -> None:
        row, pace = self._rows[stream]
        fraction = pace.fraction()
        self.display.update(row, completed=(fraction or 0) * 100, detail=describe(pace, self._clock()))


def wanted(log_format: str, stderr: TextIO | None = None) -> bool:
    """The display is for a person at a terminal: stderr a tty, and logs not asked as JSON."""
    stream = stderr or sys.stderr
    return log_format != "json" and stream.isatty()


@contextmanager
def shown(log_format: str, debug: bool = False) -> Iterator[Observer]:
    """The observer for a run: the live display on a terminal (gone when the block ends, leaving the screen to
    the summary table when stdout is a terminal too), else the no-op one with the log lines as they are."""
    if not wanted(log_format):
        yield Observer()
        return
    from rich.console import Console

    live = LiveProgress(Console(file=sys.stderr), transient=sys.stdout.isatty())
    live.display.start()  # from here sys.stderr is rich's proxy: a line written to it is printed above the display
    logs.configure(log_format, debug, stream=sys.stderr, quiet=not debug)
    try:
        yield live
    finally:
        live.display.stop()
        logs.configure(log_format, debug)


@contextmanager
def counting(what: str, log_format: str, stdout_used: bool) -> Iterator[Callable[[int, int], None] | None]:
    """For a long export on a terminal: a bar of ``what`` done of the total, the rate and the time left, on
    stderr; None (nothing shown) when stderr is not a terminal, logs are JSON, or the output goes to the same
    terminal (``stdout_used``: a CSV on stdout), where a display would mix into it."""
    if not wanted(log_format) or (stdout_used and sys.stdout.isatty()):
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (
        TextColumn(what),
        BarColumn(bar_width=24),
        MofNCompleteColumn(),
        TextColumn("· {task.fields[rate]} · ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(file=sys.stderr), transient=True) as display:
        task = display.add_task(what, total=None, rate="")
        started = time.monotonic()

        def told(done: int, total: int) -> None:
            elapsed = time.monotonic() - started
            display.update(task, completed=done, total=total, rate=f"{done / elapsed if elapsed else 0:,.0f}/s")

        yield told
