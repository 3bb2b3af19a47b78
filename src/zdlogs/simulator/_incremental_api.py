"""GET /api/v2/incremental/tickets/cursor — the cursor-based incremental ticket export.

The quirks that make collectors loop or lose data are reproduced on purpose:
`after_cursor`/`after_url` are present on every page (even the last and even an empty
one), only `end_of_stream` says stop; the most recent minute is never returned and a
`start_time` inside it is refused with StartTimeTooRecent; an updated ticket moves to
the end of the stream and is exported again.
"""

from __future__ import annotations

import math

from zdlogs.simulator._cursors import decode_ticket_cursor, encode_ticket_cursor
from zdlogs.simulator._data import Account
from zdlogs.simulator._http import ApiError, Request, Response, bad_request, json_response

MAX_PER_PAGE = 1000
POSITION_PARAMS = ("start_time", "cursor")


def incremental_tickets(req: Request, account: Account, exclusion_seconds: int) -> Response:
    try:
        per_page = _per_page(req)
        start_key, before_cursor = _start(req, exclusion_seconds)
    except ApiError as exc:
        return exc.response()
    exclude_deleted = (req.first("exclude_deleted") or "").lower() in ("true", "1")
    visible_until = math.floor(req.now - exclusion_seconds)
    items, end_of_stream = account.ticket_page(start_key, per_page, visible_until, exclude_deleted)
    after_cursor = encode_ticket_cursor(items[-1][0] if items else start_key)
    return json_response(
        200,
        {
            "tickets": [ticket for _, ticket in items],
            "after_url": req.link(POSITION_PARAMS, [("cursor", after_cursor)]),
            "after_cursor": after_cursor,
            "before_url": req.link(POSITION_PARAMS, [("cursor", before_cursor)]) if before_cursor else None,
            "before_cursor": before_cursor,
            "end_of_stream": end_of_stream,
        },
    )


def _per_page(req: Request) -> int:
    raw = req.first("per_page")
    if not raw:
        return MAX_PER_PAGE
    try:
        value = int(raw)
    except ValueError:
        raise bad_request("InvalidPaginationParameter", "per_page must be an integer") from None
    if not 1 <= value <= MAX_PER_PAGE:
        raise bad_request("InvalidPaginationParameter", f"per_page must be between 1 and {MAX_PER_PAGE}")
    return value


def _start(req: Request, exclusion_seconds: int) -> tuple[tuple[int, int], str | None]:
    """Stream position to read after, and the before_cursor (null on the first page)."""
    cursor = req.first("cursor")
    if cursor:
        return decode_ticket_cursor(cursor), cursor
    raw = req.first("start_time")
    if not raw:
        raise bad_request("InvalidValue", "start_time or cursor is required")
    try:
        start_time = int(raw)
    except ValueError:
        raise bad_request("InvalidValue", "start_time must be an integer (epoch seconds)") from None
    if start_time > req.now:
        raise bad_request("InvalidValue", "start_time cannot be in the future")
    if start_time > req.now - exclusion_seconds:
        raise bad_request("StartTimeTooRecent", "Too recent start_time. Use a start_time older than 1 minute")
    return (start_time, 0), None  # (S, 0) precedes every ticket id at second S: start_time is inclusive
