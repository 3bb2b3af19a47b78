"""What a stream is: an endpoint, a cursor, and a rule for resuming.

A stream yields :class:`Page` objects, each holding the records to store and the checkpoint that
becomes true once those records are durable. The stream never writes anything: the page writer stores
the page, then commits the checkpoint, so a stream cannot move a checkpoint past unstored data.

A checkpoint is a small frozen dataclass per pagination shape (``windowed.WindowCheckpoint``,
``cursor_export.CursorCheckpoint``, ``time_export.StartTimeCheckpoint``), read from and written to the
JSON of the state file (``zdlogs.state``) by ``from_json`` / ``to_json``; ``{}`` is the empty one
(nothing stored yet), and an empty checkpoint is false, as ``{}`` is.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol, Self, TypeVar

from zdlogs.zendesk.client import ZendeskClient

JSON = dict[str, Any]


class Checkpoint:
    """Where a stream resumes, as stored in the state file; subclasses are frozen dataclasses."""

    def to_json(self) -> JSON:
        raise NotImplementedError

    @classmethod
    def from_json(cls, doc: JSON) -> Self:
        raise NotImplementedError

    def __bool__(self) -> bool:
        return bool(self.to_json())

    def reached(self) -> str:
        """The time (Zendesk's ISO form) up to which the stream is stored once this holds, for the run's
        report of how far it got; "" when the checkpoint does not say (an opaque cursor)."""
        return ""

    @classmethod
    def starting_at(cls, moment: datetime) -> Self:
        """The checkpoint of a stream that stored nothing from ``moment`` on: its next run collects from there
        (``zdlogs reset``, to collect a stream again from a date)."""
        raise NotImplementedError


C = TypeVar("C", bound=Checkpoint, contravariant=True)


@dataclass(frozen=True)
class Page:
    """Records of one API page and the checkpoint that holds once they are stored.

    ``position`` names where the page starts (time + first id) so its object name is deterministic;
    ``day`` is the partition (UTC date) the object is filed under; ``final`` says no page follows (set by
    the audit log, whose backfill windows must be marked finished with their last page).
    """

    records: list[dict[str, Any]]
    checkpoint: Checkpoint
    position: str = ""
    day: str = ""
    final: bool = False


@dataclass(frozen=True)
class StreamContext:
    """The run-wide inputs a stream needs to decide where to start and stop."""

    now: datetime
    lookback_seconds: int
    settle_seconds: int
    since: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Stream(Protocol[C]):
    """One Zendesk resource: ``pages`` fetches lazily, so stopping early costs no extra request."""

    name: ClassVar[str]
    records_key: ClassVar[str]  # the list key of the resource's pages (the page form's key)
    checkpoint_type: ClassVar[type[Checkpoint]]

    def pages(self, client: ZendeskClient, checkpoint: C, ctx: StreamContext) -> Iterator[Page]: ...
