"""Time-based incremental exports: GET /api/v2/incremental/ticket_events and /incremental/organizations.

Zendesk's older export style, with the quirks that make collectors duplicate, lose or loop:

* `start_time` is inclusive and `next_page` restarts at `end_time`, the timestamp of the
  page's last item, so the items of that second come again on the next page: a collector
  must dedupe by id (Zendesk: time-based exports "may contain duplicate items").
* A page holds up to `per_page` items but runs to the end of the last second it reaches
  ("may exceed the 1000-item default return limit if items share the same timestamp").
  When more than `per_page` items share the page's first second, the page is exactly that
  second and `end_time` equals `start_time`: the next page is the same one, and only a
  collector that notices (it already has the whole second) and moves on avoids the loop.
* `next_page` is never null, not even on the last page; `end_of_stream` (a page shorter than
  `per_page`) is the only stop signal. An empty page has `end_time` = `start_time`.
* The most recent minute is never returned, and a `start_time` inside it is refused with
  StartTimeTooRecent (documented for ticket events; applied to organizations too, unverified).

Ticket events order by (timestamp, id); organizations by (updated_at, id), an edited one
moving to the end of the stream.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from zdlogs.simulator._data import Account
from zdlogs.simulator._export_params import per_page, start_time
from zdlogs.simulator._generate import parse_iso
from zdlogs.simulator._http import ApiError, Request, Response, json_response

PageReader = Callable[[int, int, int], list[dict]]  # (start_time, per_page, visible_until) -> items


def incremental_ticket_events(req: Request, account: Account, exclusion_seconds: int) -> Response:
    """`include=comment_events` (comma-separated sideloads) puts the comments' text in child_events."""
    comments = "comment_events" in ",".join(req.values("include")).split(",")

    def read(start: int, size: int, visible_until: int) -> list[dict]:
        return account.ticket_event_page(start, size, visible_until, comments)

    return time_export(req, "ticket_events", "timestamp", read, exclusion_seconds)


def incremental_organizations(req: Request, account: Account, exclusion_seconds: int) -> Response:
    return time_export(req, "organizations", "updated_at", account.organization_page, exclusion_seconds)


def _epoch(value: int | str) -> int:
    """An item's position as epoch seconds: an integer field, or an ISO `...Z` timestamp."""
    return value if isinstance(value, int) else parse_iso(value)


def time_export(req: Request, name: str, stamp: str, read: PageReader, exclusion_seconds: int) -> Response:
    """One page of a time-based export whose items are under `name` and ordered by their `stamp` field."""
    try:
        size = per_page(req)
        start = start_time(req, exclusion_seconds)
    except ApiError as exc:
        return exc.response()
    items = read(start, size, math.floor(req.now - exclusion_seconds))
    end_time = _epoch(items[-1][stamp]) if items else start
    return json_response(
        200,
        {
            name: items,
            "next_page": req.link(("start_time",), [("start_time", str(end_time))]),
            "count": len(items),
            "end_time": end_time,
            "end_of_stream": len(items) < size,
        },
    )
