"""The audit log (``GET /api/v2/audit_logs``, Enterprise plan, admins), resumed by time, not by page.

Each run asks for a ``filter[created_at]`` window from the checkpoint to "now minus a settle delay",
oldest first (``sort=created_at``; the default is newest first, and offset pages shift as records
arrive — the original function skipped and repeated records that way). Timestamps have one-second
resolution and several records can share a second, so the window starts *at* the checkpoint second
(inclusive) and the ids already stored at that second are skipped (estuary/connectors#5205 lost records
with a strict ``>``). The settle delay leaves room for records that become visible a little after
their timestamp (Airbyte uses 30 s, Estuary 5 min).

Checkpoint: ``{"since": "<created_at of the last stored second>", "seen_ids": [ids at that second]}``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from zdlogs.errors import ZendeskError
from zdlogs.streams.base import Checkpoint, Page, StreamContext, compact, iso_z, parse_z
from zdlogs.zendesk.client import ZendeskClient
from zdlogs.zendesk.pagination import cursor_next, records_of

PATH = "/api/v2/audit_logs"
_ZENDESK_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
PAGE_SIZE = 100  # Zendesk's maximum; page[size]=101 is rejected with 400, not clamped


class AuditLogs:
    name = "audit_logs"

    def pages(self, client: ZendeskClient, checkpoint: Checkpoint, ctx: StreamContext) -> Iterator[Page]:
        since, seen = resume_point(checkpoint, ctx)
        until = window_end(ctx)
        if until < since:
            return
        yield from self.window_pages(client, {"since": iso_z(since), "seen_ids": seen}, iso_z(until))

    def oldest(self, client: ZendeskClient, since: str, until: str) -> datetime | None:
        """The time of the oldest record in ``[since, until]`` (one request of one record), None if empty.

        A backfill starts its windows there: ``--since 2020-01-01`` on an account with a year of audit
        log would otherwise give most windows nothing to do and one worker all the work.
        """
        params = {"page[size]": 1, "sort": "created_at", "filter[created_at][]": [since, until]}
        records = records_of(client.get_json(PATH, params), "audit_logs")
        return parse_z(_key(records[0])[0]) if records else None

    def window_pages(self, client: ZendeskClient, checkpoint: Checkpoint, until: str) -> Iterator[Page]:
        """Pages of ``[checkpoint since, until]`` (both inclusive, whole seconds), oldest first.

        Also what each window of a parallel backfill runs (``zdlogs.backfill``), with its own checkpoint.
        """
        since = checkpoint["since"]
        params: dict[str, Any] | None = {
            "page[size]": PAGE_SIZE,
            "sort": "created_at",
            "filter[created_at][]": [since, until],
        }
        url: str | None = PATH
        boundary = Boundary(since, set(checkpoint.get("seen_ids", [])))
        while url:
            body = client.get_json(url, params)
            fresh = boundary.admit(records_of(body, "audit_logs"))
            url, params = cursor_next(body, client.base_url), None
            if url is None:
                boundary.close_window(until)
            yield _page(fresh, boundary.checkpoint(), final=url is None)


class Boundary:
    """The last stored second and the ids stored at it: the dedupe state across pages and runs."""

    def __init__(self, since: str, seen: set[int]):
        self.since = since
        self.seen = seen

    def admit(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Drop ids already stored at the boundary second; check order; move the boundary forward."""
        fresh = []
        for record in records:
            created, record_id = _key(record)
            if created < self.since:
                raise ZendeskError(
                    f"audit log {record_id} ({created}) is older than the requested window start "
                    f"{self.since}: Zendesk ignored sort=created_at; report this response"
                )
            if created == self.since and record_id in self.seen:
                continue
            if created > self.since:
                self.since, self.seen = created, set()
            self.seen.add(record_id)
            fresh.append(record)
        return fresh

    def close_window(self, until: str) -> None:
        """Everything up to ``until`` was read: a quiet stretch must not leave a gap for the next run."""
        if until > self.since:
            self.since, self.seen = until, set()

    def checkpoint(self) -> Checkpoint:
        return {"since": self.since, "seen_ids": sorted(self.seen)}


def _key(record: dict[str, Any]) -> tuple[str, int]:
    created, record_id = record.get("created_at"), record.get("id")
    if not isinstance(created, str) or not isinstance(record_id, int) or isinstance(record_id, bool):
        raise ZendeskError("Zendesk sent an audit log without an integer id and a created_at: report it")
    try:
        return _canonical(created), record_id
    except ValueError:
        raise ZendeskError(f"audit log {record_id} has an unreadable created_at {created[:40]!r}") from None


def _canonical(created: str) -> str:
    """``created_at`` in Zendesk's own form (``2026-11-25T10:15:00Z``), comparable as a string.

    Zendesk always sends that form, so it is checked (a real date, not only the right shape) and kept
    as is; re-formatting every record through strftime cost more CPU than parsing the page. Any other
    ISO-8601 form is converted.
    """
    if _ZENDESK_TIME.fullmatch(created):
        datetime.fromisoformat(created[:19])  # ValueError on an impossible date such as month 13
        return created
    return iso_z(parse_z(created))


def window_end(ctx: StreamContext) -> datetime:
    """The newest second a run collects: now minus the settle delay."""
    return ctx.now - timedelta(seconds=ctx.settle_seconds)


def resume_point(checkpoint: Checkpoint, ctx: StreamContext) -> tuple[datetime, list[int]]:
    if checkpoint.get("since"):
        return parse_z(checkpoint["since"]), list(checkpoint.get("seen_ids", []))
    start = ctx.since or ctx.now - timedelta(seconds=ctx.lookback_seconds)
    return start, []


def _page(records: list[dict[str, Any]], checkpoint: Checkpoint, final: bool) -> Page:
    if not records:
        return Page([], checkpoint, final=final)
    first = parse_z(records[0]["created_at"])
    return Page(records, checkpoint, f"{compact(first)}-{records[0]['id']}", first.strftime("%Y/%m/%d"), final)
