"""Time-based incremental exports (``/api/v2/incremental/<resource>?start_time=``): ticket events, organizations.

These exports have no cursor variant. Each page answers ``end_time`` (the time of its last record) and
a ``next_page`` that is the same request with ``start_time=end_time``: the boundary second is sent again,
so records of that second repeat ("may contain duplicate items", incremental exports guide), and when
more than a page of records share one second the page runs past ``per_page`` to hold them all. zdlogs
builds the next request itself (``next_page`` is that same URL, so no link is followed) and skips the
ids it already stored at the boundary second — the audit log's rule, with epoch seconds
(``zdlogs.streams.windowed.Boundary``).

It stops on ``end_of_stream``, never on ``next_page`` (always present: zenpy#451). A page that is one
whole second (more records share it than ``per_page``) answers ``end_time`` equal to its start, and
following ``next_page`` would loop on it (airbyte's organizations loop, airbytehq/airbyte#31164): the
next request starts one second later instead. Zendesk never returns the most recent minute
and refuses a ``start_time`` inside it, so the first request is clamped like the cursor exports'.

Checkpoint (:class:`StartTimeCheckpoint`): ``{"start_time": <epoch of the last stored second>, "seen_ids":
[ids at that second]}``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Self

import structlog

from zdlogs.errors import StuckCursorError, ZendeskError
from zdlogs.streams.base import JSON, Checkpoint, Page, StreamContext
from zdlogs.streams.cursor_export import PAGE_SIZE, first_start_time
from zdlogs.streams.windowed import Boundary
from zdlogs.times import compact, iso_z
from zdlogs.zendesk.client import ZendeskClient
from zdlogs.zendesk.pagination import records_of

log = structlog.get_logger("zdlogs.streams.time_export")


@dataclass(frozen=True)
class StartTimeCheckpoint(Checkpoint):
    """The epoch second of the last stored records and their ids; ``{}`` before the first page."""

    start_time: int | None = None
    seen_ids: tuple[int, ...] = ()

    def to_json(self) -> JSON:
        return {} if self.start_time is None else {"start_time": self.start_time, "seen_ids": list(self.seen_ids)}

    @classmethod
    def from_json(cls, doc: JSON) -> Self:
        start = doc.get("start_time")
        return cls(start, tuple(doc.get("seen_ids", []))) if isinstance(start, int) else cls()

    def reached(self) -> str:
        return "" if self.start_time is None else iso_z(datetime.fromtimestamp(self.start_time, UTC))

    @classmethod
    def starting_at(cls, moment: datetime) -> Self:
        """The export's ``start_time`` at that second, no id of it stored yet."""
        return cls(int(moment.timestamp()))


class TimeExport:
    """One time-based export; subclasses name the path, the records key and each record's second."""

    name: ClassVar[str]
    path: ClassVar[str]
    records_key: ClassVar[str]
    checkpoint_type: ClassVar[type[Checkpoint]] = StartTimeCheckpoint

    def params(self, ctx: StreamContext) -> dict[str, Any]:
        """Query parameters beyond ``start_time`` and ``per_page`` (sideloads)."""
        return {}

    def second(self, record: dict[str, Any]) -> int:
        """The epoch second the export orders this record by."""
        raise NotImplementedError

    def pages(self, client: ZendeskClient, checkpoint: StartTimeCheckpoint, ctx: StreamContext) -> Iterator[Page]:
        start = checkpoint.start_time if checkpoint.start_time is not None else first_start_time(ctx)
        boundary = Boundary(start, set(checkpoint.seen_ids), self.name)
        while True:
            requested = boundary.since
            params = {"start_time": requested, "per_page": PAGE_SIZE, **self.params(ctx)}
            body = client.get_json(self.path, params, family="incremental")
            records = records_of(body, self.records_key)
            fresh = boundary.admit(records, self._key, strict=False)
            end_time, done = self._end_time(body, requested), body.get("end_of_stream") is True
            boundary.close_window(self._next_start(requested, end_time, done, records))
            yield self._page(fresh, StartTimeCheckpoint(boundary.since, boundary.seen_ids()))
            if done:
                return

    def _next_start(self, requested: int, end_time: int, done: bool, records: list) -> int:
        """Where the next request starts: ``end_time``, or the next second when the page was one whole second.

        A page whose ``end_time`` is the second it started at holds every record of that second (Zendesk
        stretches a page to the end of its last second rather than split one); asking for it again
        would answer the same page forever (airbytehq/airbyte#31164), so the next request starts one
        second later. An empty page that does not end the stream cannot be resolved: stop, not loop.
        """
        if done or end_time > requested:
            return end_time
        if not records:
            raise StuckCursorError(
                f"the {self.name} export answered an empty page at start_time={requested} without end_of_stream: "
                "stopped instead of looping (the checkpoint is kept, the next run retries)"
            )
        log.info("whole_second_page", stream=self.name, second=requested, records=len(records))
        return requested + 1

    def _key(self, record: dict[str, Any]) -> tuple[int, Any]:
        record_id = record.get("id")
        if not isinstance(record_id, int) or isinstance(record_id, bool):
            raise ZendeskError(f"Zendesk sent a {self.name} record without an integer id: report it")
        return self.second(record), record_id

    def _end_time(self, body: dict[str, Any], requested: int) -> int:
        end_time = body.get("end_time")
        if not isinstance(end_time, int) or isinstance(end_time, bool) or end_time < requested:
            raise ZendeskError(
                f"the {self.name} export answered end_time={str(end_time)[:30]!r} for start_time={requested}: "
                "report this response"
            )
        return end_time

    def _page(self, records: list[dict[str, Any]], checkpoint: StartTimeCheckpoint) -> Page:
        if not records:
            return Page([], checkpoint)
        first = datetime.fromtimestamp(self.second(records[0]), UTC)
        return Page(records, checkpoint, f"{compact(first)}-{records[0]['id']}", first.strftime("%Y/%m/%d"))
