"""Query parameters shared by every incremental export, cursor- or time-based.

`per_page` is rejected above 1000 rather than clamped, and `start_time` must be an integer
epoch that is neither in the future nor inside the most recent minute (StartTimeTooRecent):
the rules collectors trip over, kept in one place so every export enforces them alike.
"""

from __future__ import annotations

from zdlogs.simulator._http import Request, bad_request

MAX_PER_PAGE = 1000


def per_page(req: Request) -> int:
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


def start_time(req: Request, exclusion_seconds: int, *, required_hint: str = "start_time is required") -> int:
    """The `start_time` parameter, validated against the request's clock."""
    raw = req.first("start_time")
    if not raw:
        raise bad_request("InvalidValue", required_hint)
    try:
        value = int(raw)
    except ValueError:
        raise bad_request("InvalidValue", "start_time must be an integer (epoch seconds)") from None
    if value > req.now:
        raise bad_request("InvalidValue", "start_time cannot be in the future")
    if value > req.now - exclusion_seconds:
        raise bad_request("StartTimeTooRecent", "Too recent start_time. Use a start_time older than 1 minute")
    return value
