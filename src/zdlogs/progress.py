"""A run's progress: what each stream did (:class:`StreamSummary`, :class:`RunSummary`) and how far it may go
(:class:`Limits`: ``MAX_PAGES`` and ``--max-runtime``), shared by the pipeline, the page writer and the backfill."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from zdlogs.config import env_name

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
    reached: str = ""  # the time up to which the stream is stored (its checkpoint's), "" when not known


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
        self._clock, self.seconds = clock, seconds or 0.0
        self._end = clock() + seconds if seconds else None

    def passed(self) -> bool:
        return self._end is not None and self._clock() >= self._end


class Limits:
    """When a stream pauses for this run: ``max_pages`` pages stored (None: no page limit), or the deadline passed.

    ``hit`` names the limit that paused a stream (``MAX_PAGES=20``), for the run's one warning line."""

    def __init__(self, max_pages: int | None, deadline: Deadline):
        self.max_pages, self.deadline = max_pages, deadline
        self.hit = ""

    def budget(self, item: StreamSummary) -> int | None:
        """Pages the stream may still store in this run; None when there is no page limit."""
        return None if self.max_pages is None else self.max_pages - item.pages

    def reached(self, item: StreamSummary) -> bool:
        """True (and the stream marked ``limited``, in the log too) once a limit is reached."""
        reason = ""
        if self.max_pages is not None and item.pages >= self.max_pages:
            reason = f"{env_name('max_pages')}={self.max_pages}"
        elif self.deadline.passed():
            reason = f"{env_name('max_runtime')}={self.deadline.seconds:g}"
        if reason:
            item.status, self.hit = "limited", reason
            log.info("stream_paused", stream=item.stream, reason=reason, resume="the next run continues from here")
        return bool(reason)
