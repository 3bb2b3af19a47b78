"""Cursor-based incremental exports (``/api/v2/incremental/<resource>/cursor``): tickets and users.

Resumes from the saved ``after_cursor``; the first request uses ``start_time``, which Zendesk wants at
least a minute in the past and never in the future (400 ``StartTimeTooRecent`` otherwise). The export
stops on ``end_of_stream``: ``after_cursor`` is present even on the last page, and the original
function spent up to MAX_PAGES requests of a 10-per-minute budget on empty pages because it looked
at the cursor instead. A cursor that does not advance, or a page that repeats, stops the stream with
an error instead of looping (zendesk_api_client_rb#168, zenpy#451, PostHog#59215 had that loop).

A record reappears after each update: that is a new version, not a duplicate. Checkpoint
(:class:`CursorCheckpoint`): ``{"cursor": "<after_cursor>"}``, or nothing before the first page, or
``{"start_time": <epoch>}`` once ``zdlogs reset`` moved the stream back to a date (the next run starts the
export there, as a first run does).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Self

import orjson

from zdlogs.errors import StuckCursorError, ZendeskError
from zdlogs.streams.base import JSON, Checkpoint, Page, StreamContext
from zdlogs.times import compact, iso_z, parse_utc
from zdlogs.zendesk.client import ZendeskClient
from zdlogs.zendesk.pagination import next_link, on_origin, records_of

PAGE_SIZE = 1000  # the largest page Zendesk allows; fewer requests of a 10/minute budget
MIN_AGE_SECONDS = 61  # "must be more than one minute in the past" (incremental exports reference)


@dataclass(frozen=True)
class CursorCheckpoint(Checkpoint):
    """The export's ``after_cursor`` of the last stored page; ``{}`` before the first page; a ``start_time``
    (epoch seconds) without a cursor after ``zdlogs reset``: where the export starts again."""

    cursor: str = ""
    until: str = field(default="", compare=False, repr=False)  # newest version on the page; not stored
    start_time: int | None = None

    def to_json(self) -> JSON:
        if self.cursor:
            return {"cursor": self.cursor}
        return {} if self.start_time is None else {"start_time": self.start_time}

    @classmethod
    def from_json(cls, doc: JSON) -> Self:
        if doc.get("cursor"):
            return cls(doc["cursor"])
        start = doc.get("start_time")
        return cls(start_time=start) if isinstance(start, int) and not isinstance(start, bool) else cls()

    def reached(self) -> str:
        """The cursor is opaque: how far it got is the newest version on the page that set it (this run's),
        or the start a reset gave it."""
        if self.until or self.start_time is None:
            return self.until
        return iso_z(datetime.fromtimestamp(self.start_time, UTC))

    @classmethod
    def starting_at(cls, moment: datetime) -> Self:
        """No cursor: the next run asks for the export from ``start_time`` at that second."""
        return cls(start_time=int(moment.timestamp()))


class CursorExport:
    """One cursor-based export; subclasses name the path and the key of the records list."""

    name: ClassVar[str]
    path: ClassVar[str]
    records_key: ClassVar[str]
    checkpoint_type: ClassVar[type[Checkpoint]] = CursorCheckpoint

    def pages(self, client: ZendeskClient, checkpoint: CursorCheckpoint, ctx: StreamContext) -> Iterator[Page]:
        cursor: str | None = checkpoint.cursor or None
        params: dict[str, Any] = (
            {"cursor": cursor, "per_page": PAGE_SIZE}
            if cursor
            else {"start_time": first_start_time(ctx, checkpoint.start_time), "per_page": PAGE_SIZE}
        )
        url, previous_digest = self.path, b""
        while True:
            body = client.get_json(url, params, family="incremental")
            records = records_of(body, self.records_key)
            after, done = self._after_cursor(body), body.get("end_of_stream") is True
            digest = _digest(records)
            self._refuse_loops(cursor, after, done, records, digest == previous_digest)
            newest = iso_z(version_time(records[-1])) if records else ""
            yield version_page(records, CursorCheckpoint(after, newest))
            if done:
                return
            url = self._next_url(client, body, after)
            params, cursor, previous_digest = ({"per_page": PAGE_SIZE} if "per_page" not in url else {}), after, digest

    def _next_url(self, client: ZendeskClient, body: dict[str, Any], after: str) -> str:
        """``after_url`` on our origin; missing, or naming another host, the request built from ``after_cursor``
        on our origin (what a run resuming from the stored cursor sends)."""

        def rebuild(cursor: str) -> str:
            return on_origin(client.base_url, self.path, {"cursor": cursor})

        return next_link(body.get("after_url"), after, client.base_url, rebuild, client.note_other_host)

    def _after_cursor(self, body: dict[str, Any]) -> str:
        after = body.get("after_cursor")
        if not isinstance(after, str) or not after:
            raise ZendeskError(f"the {self.name} export answered without an after_cursor: report this response")
        return after

    def _refuse_loops(self, cursor: str | None, after: str, done: bool, records: list, repeated: bool) -> None:
        if not done and after == cursor:
            raise StuckCursorError(
                f"the {self.name} export returned the cursor it was given without end_of_stream: stopped "
                "instead of looping; the checkpoint is kept, the next run retries from it"
            )
        if records and repeated:
            raise StuckCursorError(f"the {self.name} export returned the same page twice: stopped instead of looping")


def first_start_time(ctx: StreamContext, reset_to: int | None = None) -> int:
    """The start a reset gave the stream, else ``--since``, else LOOKBACK_SECONDS back, clamped to Zendesk's
    rule: at least a minute old."""
    given = datetime.fromtimestamp(reset_to, UTC) if reset_to is not None else ctx.since
    start = given or ctx.now - timedelta(seconds=ctx.lookback_seconds)
    latest = ctx.now - timedelta(seconds=MIN_AGE_SECONDS)
    return int(min(start, latest).timestamp())


def _digest(records: list[dict[str, Any]]) -> bytes:
    keys = [(record.get("id"), record.get("updated_at")) for record in records]
    return hashlib.sha256(orjson.dumps(keys)).digest()


def version_page(records: list[dict[str, Any]], checkpoint: Checkpoint) -> Page:
    """A page of record versions, named and filed by the first one's export time."""
    if not records:
        return Page([], checkpoint)
    first = version_time(records[0])
    return Page(records, checkpoint, f"{compact(first)}-{records[0].get('id')}", first.strftime("%Y/%m/%d"))


def version_time(record: dict[str, Any]) -> datetime:
    """When this version was exported: ``generated_timestamp`` (tickets), else ``updated_at``."""
    stamp = record.get("generated_timestamp")
    if isinstance(stamp, int | float) and not isinstance(stamp, bool):
        return datetime.fromtimestamp(stamp, UTC)
    updated = record.get("updated_at")
    if isinstance(updated, str):
        try:
            return parse_utc(updated)
        except ValueError:
            pass
    raise ZendeskError(f"record {record.get('id')!r} has neither generated_timestamp nor updated_at: report it")
