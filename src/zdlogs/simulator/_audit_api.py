"""GET /api/v2/audit_logs (cursor and offset pagination), show, and the CSV export trigger.

Behaviour follows the Zendesk reference and live captures, including the parts that break
collectors: newest-first by default, `after_cursor` still set on the last page,
`page[size]` above 100 rejected (not clamped), and `filter[created_at]` needing exactly
two values that are both inclusive.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from typing import Any

from zdlogs.simulator._cursors import ASCENDING, DESCENDING, decode_audit_cursor, encode_audit_cursor
from zdlogs.simulator._data import Account, Predicate
from zdlogs.simulator._http import (
    ApiError,
    Request,
    Response,
    bad_request,
    error_response,
    json_response,
    text_response,
)
from zdlogs.simulator._plans import has_audit_log
from zdlogs.simulator._ratelimit import EXPORT_MESSAGE, ExportThrottle

FORBIDDEN = "You do not have access to this page. Please contact the account owner of this help desk for further help."
CURSOR_PARAMS = ("page[size]", "page[after]", "page[before]")
MAX_PAGE = 100
Window = tuple[int | None, int | None]


def forbidden() -> Response:
    return error_response(403, "Forbidden", FORBIDDEN)


# ------------------------------------------------------------------ filters


def _parse_time(value: str) -> float:
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise bad_request("InvalidValue", f"filter[created_at] value {value!r} is not a valid ISO-8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _window(req: Request) -> Window:
    """Both bounds inclusive, at Zendesk's one-second resolution."""
    values = req.values("filter[created_at][]", "filter[created_at]")
    if not values:
        return None, None
    if len(values) != 2:
        raise bad_request(
            "InvalidValue", "filter[created_at] must be specified twice: first the start time, then the end time"
        )
    start, end = (_parse_time(v) for v in values)
    return math.ceil(start), math.floor(end)


def _int_values(req: Request, field: str) -> set[int]:
    out = set()
    for value in req.values(f"filter[{field}]", f"filter[{field}][]"):
        try:
            out.add(int(value))
        except ValueError:
            raise bad_request("InvalidValue", f"filter[{field}] must be an integer") from None
    return out


def _predicate(req: Request) -> Predicate:
    """Non-time filters as one record predicate; repeated values mean "any of"."""
    checks: list[tuple[str, set]] = []
    for field in ("action", "source_type", "ip_address"):
        values = set(req.values(f"filter[{field}]", f"filter[{field}][]"))
        if values:
            checks.append((field, values))
    for field in ("actor_id", "source_id"):
        ints = _int_values(req, field)
        if ints:
            checks.append((field, ints))
    if req.has("filter[source_id]", "filter[source_id][]") and not req.has(
        "filter[source_type]", "filter[source_type][]"
    ):
        raise bad_request("InvalidValue", "filter[source_id] requires filter[source_type]")
    if not checks:
        return None
    matchers = [_field_in(field, values) for field, values in checks]
    return lambda rec: all(m(rec) for m in matchers)


def _field_in(field: str, values: Collection[Any]) -> Callable[[dict], bool]:
    return lambda rec: rec[field] in values


# ------------------------------------------------------------------ list


def list_audit_logs(req: Request, account: Account, plan: str) -> Response:
    if not has_audit_log(plan):
        return forbidden()
    try:
        window, predicate = _window(req), _predicate(req)
        if req.has(*CURSOR_PARAMS):
            return _cursor_page(req, account, window, predicate)
        return _offset_page(req, account, window, predicate)
    except ApiError as exc:
        return exc.response()


def _positive_int(req: Request, name: str, default: int, error: str) -> int:
    raw = req.first(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(error, f"{name} must be an integer") from None
    if value < 1:
        raise bad_request(error, f"{name} must be greater than 0")
    return value


def _cursor_page(req: Request, account: Account, window: Window, predicate: Predicate) -> Response:
    size = _positive_int(req, "page[size]", MAX_PAGE, "InvalidPaginationParameter")
    if size > MAX_PAGE:
        raise bad_request("InvalidPaginationParameter", f"page[size] cannot be greater than {MAX_PAGE}")
    sort = req.first("sort") or "-created_at"
    if sort not in ("created_at", "-created_at"):
        raise bad_request("InvalidValue", "sort must be created_at or -created_at")
    order = ASCENDING if sort == "created_at" else DESCENDING
    after, before = _cursor_key(req, "page[after]", order), _cursor_key(req, "page[before]", order)
    if after is not None and before is not None:
        raise bad_request("InvalidPaginationParameter", "page[after] and page[before] cannot be used together")
    items, has_more = account.audit_cursor_page(
        window, predicate, ascending=order == ASCENDING, after=after, before=before, size=size
    )
    after_cursor = encode_audit_cursor(order, items[-1][0]) if items else None
    before_cursor = encode_audit_cursor(order, items[0][0]) if items else None
    moved = ("page[after]", "page[before]")
    return json_response(
        200,
        {
            "audit_logs": [record for _, record in items],
            "meta": {"has_more": has_more, "after_cursor": after_cursor, "before_cursor": before_cursor},
            "links": {
                "next": req.link(moved, [("page[after]", after_cursor)]) if after_cursor else None,
                "prev": req.link(moved, [("page[before]", before_cursor)]) if before_cursor else None,
            },
        },
    )


def _cursor_key(req: Request, name: str, order: str) -> tuple[int, int] | None:
    raw = req.first(name)
    if not raw:
        return None
    cursor_order, key = decode_audit_cursor(raw, name)
    if cursor_order != order:
        raise bad_request("InvalidPaginationParameter", f"{name} was issued for a different sort order")
    return key


def _offset_page(req: Request, account: Account, window: Window, predicate: Predicate) -> Response:
    page = _positive_int(req, "page", 1, "InvalidPaginationParameter")
    per_page = min(MAX_PAGE, _positive_int(req, "per_page", MAX_PAGE, "InvalidPaginationParameter"))
    if (req.first("sort_by") or "created_at") != "created_at":
        raise bad_request("InvalidValue", "sort_by must be created_at")
    sort_order = (req.first("sort_order") or "desc").lower()
    if sort_order not in ("asc", "desc"):
        raise bad_request("InvalidValue", "sort_order must be asc or desc")
    records, total = account.audit_offset_page(
        window, predicate, ascending=sort_order == "asc", page=page, per_page=per_page
    )
    return json_response(
        200,
        {
            "audit_logs": records,
            "next_page": req.link(["page"], [("page", str(page + 1))]) if page * per_page < total else None,
            "previous_page": req.link(["page"], [("page", str(page - 1))]) if page > 1 else None,
            "count": total,
        },
    )


# ------------------------------------------------------------------ show and export


def show_audit_log(record_id: int, account: Account, plan: str) -> Response:
    if not has_audit_log(plan):
        return forbidden()
    record = account.audit_by_id(record_id)
    if record is None:
        return error_response(404, "RecordNotFound", "Not found")
    return json_response(200, {"audit_log": record})


def export_audit_logs(req: Request, plan: str, throttle: ExportThrottle, retry_after: Callable[[int], str]) -> Response:
    """Accepts the filters, queues nothing (Zendesk emails a CSV), allows one per minute."""
    if not has_audit_log(plan):
        return forbidden()
    try:
        _window(req)
        _predicate(req)
    except ApiError as exc:
        return exc.response()
    accepted, resets = throttle.admit(req.now)
    header = ("Zendesk-RateLimit-audit-logs-export", f"total=1; remaining=0; resets={resets}")
    if not accepted:
        return text_response(429, EXPORT_MESSAGE, [("Retry-After", retry_after(resets)), header])
    return Response(202, b"", None, [header])
