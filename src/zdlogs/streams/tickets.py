"""The cursor-based incremental ticket export (``GET /api/v2/incremental/tickets/cursor.json``).

Resumes from the saved ``after_cursor``; the first request uses ``start_time``, which Zendesk wants at
least a minute in the past and never in the future (400 ``StartTimeTooRecent`` otherwise). The export
stops on ``end_of_stream``: ``after_cursor`` is present even on the last page, and the original
function spent up to MAX_PAGES requests of a 10-per-minute budget on empty pages because it looked
at the cursor instead. A cursor that does not advance, or a page that repeats, stops the stream with
an error instead of looping (zendesk_api_client_rb#168, zenpy#451, PostHog#59215 had that loop).

A ticket reappears after each update: that is a new version, not a duplicate. Checkpoint:
``{"cursor": "<after_cursor>"}`` (or ``{"start_time": epoch}`` before the first page).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from zdlogs.errors import StuckCursorError, ZendeskError
from zdlogs.streams.base import Checkpoint, Page, StreamContext, compact, parse_z
from zdlogs.zendesk.client import ZendeskClient
from zdlogs.zendesk.pagination import checked_link, records_of

PATH = "/api/v2/incremental/tickets/cursor.json"
PAGE_SIZE = 1000  # the largest page Zendesk allows; fewer requests of a 10/minute budget
MIN_AGE_SECONDS = 61  # "must be more than one minute in the past" (incremental exports reference)


class IncrementalTickets:
    name = "incremental_tickets"

    def pages(self, client: ZendeskClient, checkpoint: Checkpoint, ctx: StreamContext) -> Iterator[Page]:
        cursor = checkpoint.get("cursor")
        params: dict[str, Any] = (
            {"cursor": cursor, "per_page": PAGE_SIZE}
            if cursor
            else {"start_time": first_start_time(ctx), "per_page": PAGE_SIZE}
        )
        url, previous_digest = PATH, b""
        while True:
            body = client.get_json(url, params, family="incremental")
            tickets = records_of(body, "tickets")
            after, done = _after_cursor(body), body.get("end_of_stream") is True
            digest = _digest(tickets)
            _refuse_loops(cursor, after, done, tickets, digest == previous_digest)
            yield _page(tickets, {"cursor": after})
            if done:
                return
            url = checked_link(body.get("after_url") or f"{client.base_url}{PATH}?cursor={after}", client.base_url)
            params, cursor, previous_digest = (
                {"per_page": PAGE_SIZE} if "per_page" not in url else {},
                after,
                digest,
            )


def first_start_time(ctx: StreamContext) -> int:
    """``--since`` or LOOKBACK_SECONDS back, clamped to Zendesk's rule: at least a minute old."""
    start = ctx.since or ctx.now - timedelta(seconds=ctx.lookback_seconds)
    latest = ctx.now - timedelta(seconds=MIN_AGE_SECONDS)
    return int(min(start, latest).timestamp())


def _after_cursor(body: dict[str, Any]) -> str:
    after = body.get("after_cursor")
    if not isinstance(after, str) or not after:
        raise ZendeskError("the ticket export answered without an after_cursor: report this response")
    return after


def _refuse_loops(cursor: str | None, after: str, done: bool, tickets: list, repeated: bool) -> None:
    if not done and after == cursor:
        raise StuckCursorError(
            "the ticket export returned the cursor it was given without end_of_stream: stopped instead of "
            "looping; the checkpoint is kept, the next run retries from it"
        )
    if tickets and repeated:
        raise StuckCursorError("the ticket export returned the same page twice: stopped instead of looping")


def _digest(tickets: list[dict[str, Any]]) -> bytes:
    keys = [(ticket.get("id"), ticket.get("updated_at")) for ticket in tickets]
    return hashlib.sha256(orjson.dumps(keys)).digest()


def _page(tickets: list[dict[str, Any]], checkpoint: Checkpoint) -> Page:
    if not tickets:
        return Page([], checkpoint)
    first = _ticket_time(tickets[0])
    return Page(tickets, checkpoint, f"{compact(first)}-{tickets[0].get('id')}", first.strftime("%Y/%m/%d"))


def _ticket_time(ticket: dict[str, Any]) -> datetime:
    """When this ticket version was exported: ``generated_timestamp``, else ``updated_at``."""
    stamp = ticket.get("generated_timestamp")
    if isinstance(stamp, int | float) and not isinstance(stamp, bool):
        return datetime.fromtimestamp(stamp, UTC)
    updated = ticket.get("updated_at")
    if isinstance(updated, str):
        try:
            return parse_z(updated)
        except ValueError:
            pass
    raise ZendeskError(f"ticket {ticket.get('id')!r} has neither generated_timestamp nor updated_at: report it")
