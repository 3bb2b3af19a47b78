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


class Limits:
    """When a stream pauses for this run: ``max_pages`` pages stored, or the deadline passed."""

    def __init__(self, max_pages: int, deadline: Deadline):
        self.max_pages, self.deadline = max_pages, deadline

    def budget(self, item: StreamSummary) -> int:
        """Pages the stream may still store in this run."""
        return self.max_pages - item.pages

    def reached(self, item: StreamSummary) -> bool:
        """True (and the stream marked ``limited``, in the log too) once a limit is reached."""
        reason = ""
        if item.pages >= self.max_pages:
            reason = env_name("max_pages")
        elif self.deadline.passed():
            reason = "max-runtime"
        if reason:
            item.status = "limited"
            log.info("stream_paused", stream=item.stream, reason=reason, resume="the next run continues from here")
        return bool(reason)
