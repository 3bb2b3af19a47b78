"""GET /api/v2/access_logs — the access log (ADPP add-on), which follows none of the other APIs' conventions.

From Zendesk's reference (research §5), reproduced because each one breaks a collector
written for the audit log:

* Errors are JSON:API bodies, `{"errors": [{"title": ..., "detail": ...}]}`, not
  `{"error": ..., "description": ...}`. Without the add-on: 403 "Authorization failed"
  (exact detail unverified).
* Its own limit of 50 requests per minute, outside the account's budget; successful answers
  carry no `x-rate-limit`/`ratelimit-*` headers at all; a 429 has no Retry-After but a
  `ratelimit-reset` that is a *date-time* (RFC 3339 UTC, the moment the window ends), where
  every other endpoint sends seconds.
* Only the last 90 days exist (retention); ids are ULID strings; the time field is `timestamp`.
* `page[size]` defaults to 1000, max 2500 (above: 400 "max allowed page size is 2500").
  Ascending by (timestamp, id) unless `sort=-created_at`.
* The reference names the cursor parameter `filter[after]` but its example `links.next` uses
  `page[after]`: both are accepted (and `filter[before]`/`page[before]`), links use `page[...]`.
* `meta.after_cursor` is still set on the last page (`has_more` false): stop on `has_more`.
  An empty page has null cursors and links (unverified, as for audit logs).
* `filter[start]`/`filter[end]` are `YYYY-MM-DDTHH:MM:SSZ`, both inclusive, to the second;
  `filter[user_id]` and `filter[path]` (the URL's path, without its query) narrow the records.
"""

from __future__ import annotations

import calendar
import math
import re
import time

from zdlogs.simulator._cursors import ASCENDING, DESCENDING, decode_access_cursor, encode_access_cursor
from zdlogs.simulator._data import Account, Predicate, Window
from zdlogs.simulator._generate import iso
from zdlogs.simulator._http import JsonApiError, Request, Response, json_response, jsonapi_error

DEFAULT_PAGE = 1000
MAX_PAGE = 2500
MALFORMED = "Malformed query params"
ADDON_REQUIRED = "Access logs require the Advanced Data Privacy and Protection add-on"
AFTER_PARAMS = ("page[after]", "filter[after]")
BEFORE_PARAMS = ("page[before]", "filter[before]")
_UTC_SECOND = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def _malformed(detail: str) -> JsonApiError:
    return JsonApiError(400, MALFORMED, detail)


def unauthorized() -> Response:
    return jsonapi_error(401, "Authentication failed", "Please use valid credentials")


def not_found() -> Response:
    return jsonapi_error(404, "Not found", "The requested resource could not be found")


def rate_limited(reset_at: float) -> Response:
    """The 429: no Retry-After, `ratelimit-reset` as the RFC 3339 moment the window ends."""
    header = ("ratelimit-reset", iso(math.ceil(reset_at)))
    return jsonapi_error(429, "Too many requests", "Use RateLimit-Reset header to backoff on retries", [header])


# ------------------------------------------------------------------ parameters


def _page_size(req: Request) -> int:
    raw = req.first("page[size]")
    if raw is None or raw == "":
        return DEFAULT_PAGE
    try:
        size = int(raw)
    except ValueError:
        raise _malformed("page[size] must be an integer") from None
    if size < 1:
        raise _malformed("page[size] must be greater than 0")
    if size > MAX_PAGE:
        raise _malformed(f"max allowed page size is {MAX_PAGE}")
    return size


def _moment(req: Request, name: str) -> int | None:
    raw = req.first(name)
    if raw is None:
        return None
    if not _UTC_SECOND.match(raw):
        raise _malformed(f"{name} must be a UTC time formatted as YYYY-MM-DDTHH:MM:SSZ")
    try:
        return calendar.timegm(time.strptime(raw, "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        raise _malformed(f"{name} is not a valid time") from None


def _predicate(req: Request) -> Predicate:
    checks = []
    raw_user = req.first("filter[user_id]")
    if raw_user:
        try:
            user_id = int(raw_user)
        except ValueError:
            raise _malformed("filter[user_id] must be an integer") from None
        checks.append(lambda record: record["user_id"] == user_id)
    path = req.first("filter[path]")
    if path:
        checks.append(lambda record: record["url"].partition("?")[0] == path)
    if not checks:
        return None
    return lambda record: all(check(record) for check in checks)


def _order(req: Request) -> str:
    sort = req.first("sort") or "created_at"
    if sort not in ("created_at", "-created_at"):
        raise _malformed("sort must be created_at or -created_at")
    return ASCENDING if sort == "created_at" else DESCENDING


def _cursor(req: Request, names: tuple[str, ...], order: str) -> tuple[int, str] | None:
    raw = req.first(*names)
    if not raw:
        return None
    try:
        cursor_order, key = decode_access_cursor(raw)
    except ValueError:
        raise _malformed(f"{names[0]} is not a valid cursor") from None
    if cursor_order != order:
        raise _malformed(f"{names[0]} was issued for a different sort order")
    return key


# ------------------------------------------------------------------ list


def list_access_logs(req: Request, account: Account, addon: bool) -> Response:
    if not addon:
        return jsonapi_error(403, "Authorization failed", ADDON_REQUIRED)
    try:
        size, order = _page_size(req), _order(req)
        window: Window = (_moment(req, "filter[start]"), _moment(req, "filter[end]"))
        predicate = _predicate(req)
        after, before = _cursor(req, AFTER_PARAMS, order), _cursor(req, BEFORE_PARAMS, order)
        if after is not None and before is not None:
            raise _malformed("page[after] and page[before] cannot be used together")
    except JsonApiError as exc:
        return exc.response()
    items, has_more, has_before = account.access_cursor_page(
        window, predicate, now=req.now, ascending=order == ASCENDING, after=after, before=before, size=size
    )
    after_cursor = encode_access_cursor(order, items[-1][0]) if items else None
    before_cursor = encode_access_cursor(order, items[0][0]) if items else None
    moved = AFTER_PARAMS + BEFORE_PARAMS
    return json_response(
        200,
        {
            "access_logs": [record for _, record in items],
            "links": {
                "next": req.link(moved, [("page[after]", after_cursor)]) if after_cursor else None,
                "prev": req.link(moved, [("page[before]", before_cursor)]) if before_cursor and has_before else None,
            },
            "meta": {
                "after_cursor": after_cursor,
                "before_cursor": before_cursor,
                "has_before": has_before,
                "has_more": has_more,
            },
        },
    )
