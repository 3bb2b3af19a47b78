"""Streams read by time window: ask for ``[checkpoint, now - settle]`` oldest first, dedupe the boundary second.

The audit log and the access log both list records by time with cursor pages (``meta.has_more`` and
``links.next``) and a time filter. Neither can be resumed from a saved page link without losing or
repeating records (offset pages shift as records arrive; a cursor taken before a record became visible
skips it), so each run asks for a time window instead: from the checkpoint to "now minus a settle
delay". Timestamps have one-second resolution and several records can share a second, so the window
starts *at* the checkpoint second (inclusive) and the ids already stored at that second are skipped
(estuary/connectors#5205 lost records with a strict ``>``). The settle delay leaves room for records that
become visible a little after their timestamp (Airbyte uses 30 s, Estuary 5 min).

A :class:`WindowedStream` can also be read window by window in parallel (``zdlogs.backfill``): the
pipeline offers a parallel backfill to any stream of this kind, and asks for the resume point once
(:meth:`WindowedStream.resume_point`, then :meth:`WindowedStream.pages_from`) to decide.

Checkpoint (:class:`WindowCheckpoint`): ``{"since": "<timestamp of the last stored second>", "seen_ids":
[ids at that second]}``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Self

from zdlogs.errors import ZendeskError
from zdlogs.streams.base import JSON, Checkpoint, Page, StreamContext
from zdlogs.times import compact, iso_z, parse_utc
from zdlogs.zendesk.client import ZendeskClient
from zdlogs.zendesk.pagination import cursor_next, on_origin, records_of

_ZENDESK_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
RecordId = int | str


@dataclass(frozen=True)
class WindowCheckpoint(Checkpoint):
    """The last stored second (Zendesk's ISO form) and the ids stored at it; ``{}`` before the first page."""

    since: str = ""
    seen_ids: tuple[RecordId, ...] = ()

    def to_json(self) -> JSON:
        return {"since": self.since, "seen_ids": list(self.seen_ids)} if self.since else {}

    @classmethod
    def from_json(cls, doc: JSON) -> Self:
        return cls(doc["since"], tuple(doc.get("seen_ids", []))) if doc.get("since") else cls()

    def reached(self) -> str:
        return self.since

    @classmethod
    def starting_at(cls, moment: datetime) -> Self:
        """The window starts at that second, inclusive, no id of it stored yet."""
        return cls(iso_z(moment))


class WindowedStream:
    """A resource listed oldest first within a time filter; subclasses say where and how."""

    name: ClassVar[str]
    path: ClassVar[str]
    records_key: ClassVar[str]
    time_field: ClassVar[str]  # the record's second-precision ISO-8601 timestamp
    id_type: ClassVar[type]  # int (audit log) or str (access log ULIDs)
    family: ClassVar[str] = "account"  # the rate-limit family its requests count against
    page_size: ClassVar[int]
    checkpoint_type: ClassVar[type[Checkpoint]] = WindowCheckpoint

    def window_params(self, since: str, until: str, size: int) -> dict[str, Any]:
        """The first request's query for ``[since, until]`` (inclusive), ``size`` records per page."""
        raise NotImplementedError

    def pages(self, client: ZendeskClient, checkpoint: WindowCheckpoint, ctx: StreamContext) -> Iterator[Page]:
        return self.pages_from(client, self.resume_point(checkpoint, ctx), ctx)

    def pages_from(self, client: ZendeskClient, start: WindowCheckpoint, ctx: StreamContext) -> Iterator[Page]:
        """Pages from a resume point already worked out (:meth:`resume_point`) to the end of this run's window."""
        until = window_end(ctx)
        if until < parse_utc(start.since):
            return
        yield from self.window_pages(client, start, iso_z(until))

    def resume_point(self, checkpoint: WindowCheckpoint, ctx: StreamContext) -> WindowCheckpoint:
        """Where this run starts: the checkpoint, else ``--since``, else LOOKBACK_SECONDS back."""
        if checkpoint.since:
            return WindowCheckpoint(iso_z(parse_utc(checkpoint.since)), checkpoint.seen_ids)
        return WindowCheckpoint(iso_z(ctx.since or ctx.now - timedelta(seconds=ctx.lookback_seconds)))

    def oldest(self, client: ZendeskClient, since: str, until: str) -> datetime | None:
        """The time of the oldest record in ``[since, until]`` (one request of one record), None if empty.

        A backfill starts its windows there: ``--since 2020-01-01`` on an account with a year of records
        would otherwise give most windows nothing to do and one worker all the work.
        """
        body = client.get_json(self.path, self.window_params(since, until, 1), family=self.family)
        records = records_of(body, self.records_key)
        return parse_utc(self.key(records[0])[0]) if records else None

    def window_pages(self, client: ZendeskClient, checkpoint: WindowCheckpoint, until: str) -> Iterator[Page]:
        """Pages of ``[checkpoint since, until]`` (both inclusive, whole seconds), oldest first.

        Also what each window of a parallel backfill runs (``zdlogs.backfill``), with its own checkpoint.
        """
        since = checkpoint.since
        params: dict[str, Any] | None = self.window_params(since, until, self.page_size)
        url: str | None = self.path
        boundary = Boundary(since, set(checkpoint.seen_ids), self.name)
        while url:
            body = client.get_json(url, params, family=self.family)
            fresh = boundary.admit(records_of(body, self.records_key), self.key)
            url, params = self._next_url(client, body, since, until), None
            if url is None:
                boundary.close_window(until)
            yield self._page(fresh, WindowCheckpoint(boundary.since, boundary.seen_ids()), final=url is None)

    def _next_url(self, client: ZendeskClient, body: dict[str, Any], since: str, until: str) -> str | None:
        """``links.next`` on our origin; a link naming another host gives way to the same window's request
        with ``page[after]`` set to the page's ``meta.after_cursor``, on our origin."""

        def rebuild(cursor: str) -> str:
            params = {**self.window_params(since, until, self.page_size), "page[after]": cursor}
            return on_origin(client.base_url, self.path, params)

        return cursor_next(body, client.base_url, rebuild, client.note_other_host)

    def key(self, record: dict[str, Any]) -> tuple[str, RecordId]:
        """(canonical timestamp, id) of a record; a clear error when Zendesk sent something else."""
        stamp, record_id = record.get(self.time_field), record.get("id")
        if not isinstance(stamp, str) or not isinstance(record_id, self.id_type) or isinstance(record_id, bool):
            kind = "an integer" if self.id_type is int else "a string"
            raise ZendeskError(f"Zendesk sent {self.name} record without {kind} id and a {self.time_field}: report it")
        try:
            return canonical_time(stamp), record_id  # type: ignore[return-value]  # checked against id_type
        except ValueError:
            raise ZendeskError(
                f"{self.name} record {record_id} has an unreadable {self.time_field} {stamp[:40]!r}"
            ) from None

    def _page(self, records: list[dict[str, Any]], checkpoint: WindowCheckpoint, final: bool) -> Page:
        if not records:
            return Page([], checkpoint, final=final)
        first = parse_utc(records[0][self.time_field])
        position = f"{compact(first)}-{records[0]['id']}"
        return Page(records, checkpoint, position, first.strftime("%Y/%m/%d"), final)


class Boundary:
    """The last stored second and the ids stored at it: the dedupe state across pages and runs.

    Works for any comparable second (ISO strings for the audit and access logs, epoch integers for the
    time-based incremental exports) and any hashable id.
    """

    def __init__(self, since: Any, seen: set, stream: str = "audit_logs"):
        self.since = since
        self.seen = seen
        self.stream = stream

    def admit(self, records: list[dict[str, Any]], key: Any, strict: bool = True) -> list[dict[str, Any]]:
        """Drop ids already stored at the boundary second; check order; move the boundary forward.

        A record older than the boundary means Zendesk did not sort as asked: an error when ``strict``,
        else (exports whose order field may lag, like the tickets' ``updated_at``) stored as is.
        """
        fresh = []
        for record in records:
            stamp, record_id = key(record)
            if stamp < self.since and not strict:
                fresh.append(record)
                continue
            if stamp < self.since:
                raise ZendeskError(
                    f"{self.stream} record {record_id} ({stamp}) is older than the requested start "
                    f"{self.since}: Zendesk did not sort oldest first; report this response"
                )
            if stamp == self.since and record_id in self.seen:
                continue
            if stamp > self.since:
                self.since, self.seen = stamp, set()
            self.seen.add(record_id)
            fresh.append(record)
        return fresh

    def close_window(self, until: Any) -> None:
        """Everything up to ``until`` was read: a quiet stretch must not leave a gap for the next run."""
        if until > self.since:
            self.since, self.seen = until, set()

    def seen_ids(self) -> tuple[Any, ...]:
        """The ids stored at the boundary second, sorted (as the checkpoint keeps them)."""
        return tuple(sorted(self.seen))


def canonical_time(stamp: str) -> str:
    """A timestamp in Zendesk's own form (``2026-11-25T10:15:00Z``), comparable as a string.

    Zendesk always sends that form, so it is checked (a real date, not only the right shape) and kept
    as is; re-formatting every record through strftime cost more CPU than parsing the page. Any other
    ISO-8601 form is converted.
    """
    if _ZENDESK_TIME.fullmatch(stamp):
        datetime.fromisoformat(stamp[:19])  # ValueError on an impossible date such as month 13
        return stamp
    return iso_z(parse_utc(stamp))


def window_end(ctx: StreamContext) -> datetime:
    """The newest second a run collects: now minus the settle delay."""
    return ctx.now - timedelta(seconds=ctx.settle_seconds)
