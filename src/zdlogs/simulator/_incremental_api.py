"""Cursor-based incremental exports: GET /api/v2/incremental/tickets/cursor and /users/cursor.

The quirks that make collectors loop or lose data are reproduced on purpose:
`after_cursor`/`after_url` are present on every page (even the last and even an empty
one), only `end_of_stream` says stop; the most recent minute is never returned and a
`start_time` inside it is refused with StartTimeTooRecent; an updated record moves to
the end of the stream and is exported again. Both exports share one envelope and one cursor
form (base64 of `"<epoch>.0||<id>|"`); tickets order by `generated_timestamp`, users by
`updated_at` (unverified for users: Zendesk documents the envelope, not the order).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from zdlogs.simulator._cursors import decode_export_cursor, encode_export_cursor
from zdlogs.simulator._data import Account, Item, Key
from zdlogs.simulator._export_params import per_page, start_time
from zdlogs.simulator._http import ApiError, Request, Response, json_response

POSITION_PARAMS = ("start_time", "cursor")
PageReader = Callable[[Key, int, int], tuple[list[Item], bool]]  # (after, per_page, visible_until)


def incremental_tickets(req: Request, account: Account, exclusion_seconds: int) -> Response:
    exclude_deleted = (req.first("exclude_deleted") or "").lower() in ("true", "1")

    def read(after: Key, size: int, visible_until: int) -> tuple[list[Item], bool]:
        return account.ticket_page(after, size, visible_until, exclude_deleted)

    return cursor_export(req, "tickets", read, exclusion_seconds)


def incremental_users(req: Request, account: Account, exclusion_seconds: int) -> Response:
    return cursor_export(req, "users", account.user_page, exclusion_seconds)


def cursor_export(req: Request, name: str, read: PageReader, exclusion_seconds: int) -> Response:
    """One page of a cursor export whose records are under `name` in the body."""
    try:
        size = per_page(req)
        start_key, before_cursor = _start(req, exclusion_seconds)
    except ApiError as exc:
        return exc.response()
    visible_until = math.floor(req.now - exclusion_seconds)
    items, end_of_stream = read(start_key, size, visible_until)
    after_cursor = encode_export_cursor(items[-1][0] if items else start_key)
    return json_response(
        200,
        {
            name: [record for _, record in items],
            "after_url": req.link(POSITION_PARAMS, [("cursor", after_cursor)]),
            "after_cursor": after_cursor,
            "before_url": req.link(POSITION_PARAMS, [("cursor", before_cursor)]) if before_cursor else None,
            "before_cursor": before_cursor,
            "end_of_stream": end_of_stream,
        },
    )


def _start(req: Request, exclusion_seconds: int) -> tuple[Key, str | None]:
    """Stream position to read after, and the before_cursor (null on the first page)."""
    cursor = req.first("cursor")
    if cursor:
        return decode_export_cursor(cursor), cursor
    first = start_time(req, exclusion_seconds, required_hint="start_time or cursor is required")
    return (first, 0), None  # (S, 0) precedes every id at second S: start_time is inclusive
