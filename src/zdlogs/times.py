"""Every time zdlogs reads or writes, parsed and formatted in one place: UTC-aware ``datetime`` inside.

Formats out, one function each, because each has a reader that depends on it:

* :func:`iso_z` - Zendesk's own timestamp form, ``2026-11-25T10:15:00Z`` (second precision): what its
  APIs send and accept as ``start_time``/``filter[created_at]``, and what checkpoints keep;
* :func:`rfc3339` - ``2026-11-25T10:15:00.123456Z``: the ``logEntryTime``/``collectionTime`` of a
  Google SecOps ``Log`` (REST resource ``Log``: RFC 3339, "Z"-normalized);
* :func:`compact` - ``20261125T101500Z``: safe in object names, and sorted by name is sorted by time;
* :func:`day_path` - ``2026/11/25``: the day folder of a stored page;
* :func:`iso_offset` - ``2026-11-25T10:15:00.123+00:00``: a lease's ``since``/``expires``;
* :func:`readable_utc` - ``2026-11-25 10:15 UTC``: a human line in a report.

Parsing is lenient in one way only: :func:`parse_utc` takes an ISO-8601 date or date-time with ``Z``
(either case) or an offset, and a value without a zone is UTC (Zendesk's CSV export is UTC, and so are
the analysts' and the settings' examples). Epoch seconds (Zendesk's ``generated_timestamp``, an export's
``start_time``) go through :func:`from_epoch`/:func:`epoch_seconds`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any

EPOCH_SECONDS_BELOW = 1e11  # larger numbers are milliseconds (or garbage), not seconds: the year 5138


def utc_now() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive one is taken to be UTC already (never the machine's local zone)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# -- formats ---------------------------------------------------------------------------------------------


def iso_z(moment: datetime) -> str:
    """Zendesk's timestamp form: second precision, UTC, ``Z`` suffix."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339(moment: datetime) -> str:
    """RFC 3339 with microseconds and ``Z``, as a SecOps ``Log`` carries its times."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def compact(moment: datetime) -> str:
    """A timestamp safe in object names and sortable: ``20261125T101500Z``."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def day_path(moment: datetime) -> str:
    """The ``yyyy/mm/dd`` folder a page of that moment is stored under (UTC day)."""
    return moment.astimezone(UTC).strftime("%Y/%m/%d")


def iso_offset(moment: datetime, timespec: str = "milliseconds") -> str:
    """ISO-8601 with a ``+00:00`` offset: a lease's times (milliseconds on object stores, seconds on the
    local lock file), read back by :func:`parse_utc`."""
    return moment.astimezone(UTC).isoformat(timespec=timespec)


def readable_utc(moment: datetime) -> str:
    """``2026-11-25 10:15 UTC``, for a line a person reads."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def epoch_seconds(moment: datetime) -> int:
    """Whole seconds since the epoch, as Zendesk's time-based exports take ``start_time``."""
    return int(moment.timestamp())


# -- parsing ---------------------------------------------------------------------------------------------


def parse_utc(value: str | date | datetime) -> datetime:
    """An ISO-8601 date or date-time (``Z``, ``z`` or an offset; none means UTC) as an aware UTC datetime.

    A date is that day's first second. Raises ValueError naming the forms it accepts.
    """
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    try:
        return as_utc(datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00")))
    except ValueError:
        raise ValueError(f"{value!r} is not a date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ") from None


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def moment_of(value: Any) -> datetime | None:
    """A record field as a moment: epoch seconds (Zendesk's event timestamps) or ISO-8601 text; None when
    it is neither (absent, a boolean, an empty or malformed string, a number too large to be seconds)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and 0 < value < EPOCH_SECONDS_BELOW:
        return from_epoch(value)
    if isinstance(value, str) and value:
        try:
            return parse_utc(value)
        except ValueError:
            return None
    return None


def parse_http_date(value: str) -> datetime | None:
    """An HTTP-date (RFC 9110 §5.6.7, ``Wed, 25 Nov 2026 12:00:30 GMT``) in UTC; None if it is not one."""
    try:
        return as_utc(parsedate_to_datetime(value))
    except (TypeError, ValueError, IndexError):
        return None


def seconds_until(when: datetime, now: Callable[[], datetime] = utc_now) -> float:
    """How long until ``when``, never negative (a moment already past means now)."""
    return max(0.0, (when - now()).total_seconds())
