"""Reading the times analysts type: moments, day bounds, durations, business hours and workdays.

Audit timestamps are UTC at one-second resolution, so every moment is parsed to an aware UTC
``datetime``; a value without a zone is UTC (as Zendesk's own CSV export is): that reading is
:func:`zdlogs.times.parse_utc`, the collector's own. Each parser here raises a one-line ``ConfigError``
naming the option and an example of what it accepts.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from zdlogs.errors import ConfigError
from zdlogs.times import parse_utc

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([dhms])")
_DURATION_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_moment(value: str, option: str) -> datetime:
    """A date or date-time, UTC unless it carries a zone (``Z``, ``+02:00``)."""
    try:
        return parse_utc(value)
    except ValueError:
        raise ConfigError(
            f"{option} {value!r} is not a date or time: use 2026-01-31, 2026-01-31T14:00 (UTC) "
            "or 2026-01-31T14:00+01:00"
        ) from None


def parse_since(value: str) -> datetime:
    """Inclusive start: a bare date means that day's first second (UTC)."""
    return parse_moment(value, "--since")


def parse_until(value: str) -> datetime:
    """Exclusive end: a bare date includes the whole of that day, as an analyst means "until the 31st"."""
    moment = parse_moment(value, "--until")
    return moment + timedelta(days=1) if _DATE_ONLY.match(value.strip()) else moment


def parse_duration(value: str, option: str = "--window") -> timedelta:
    """``2h``, ``90m``, ``1h30m``, ``45s``, ``1d``; must be positive. A bare number is refused: "30" next to
    an incident time reads as minutes to most people and as seconds to a program, so the unit is required."""
    text = value.strip().lower().replace(" ", "")
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        raise ConfigError(
            f"{option} {value!r} has no unit: write {text}m for minutes (units: s, m, h, d; e.g. 2h, 90m, 1h30m)"
        )
    if not text or _DURATION_PART.sub("", text) != "":
        raise ConfigError(f"{option} {value!r} is not a duration: use a number and a unit (s, m, h, d): 2h, 90m, 1h30m")
    seconds = sum(float(n) * _DURATION_UNITS[unit] for n, unit in _DURATION_PART.findall(text))
    if seconds <= 0:
        raise ConfigError(f"{option} {value!r} must be longer than zero: use e.g. 2h")
    return timedelta(seconds=seconds)


@functools.cache
def _zones_by_lower_name() -> dict[str, str]:
    """``europe/paris`` -> ``Europe/Paris`` for every zone this system knows (read once: about 0.1 s)."""
    return {zone.lower(): zone for zone in available_timezones()}


def parse_zone(value: str) -> ZoneInfo:
    """An IANA time zone name (Europe/Paris, America/New_York, UTC) in any case, as every other choice of
    zdlogs: ``europe/paris`` is Europe/Paris (zone names are file names, case-sensitive on most systems)."""
    name = value.strip()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        pass
    try:
        return ZoneInfo(_zones_by_lower_name()[name.lower()])
    except KeyError:
        raise ConfigError(
            f"--timezone {value!r} is not a time zone: use an IANA name like Europe/Paris or UTC"
        ) from None


@dataclass(frozen=True)
class BusinessHours:
    """Office hours in a zone; ``start > end`` means hours that cross midnight (a night shift)."""

    start: time
    end: time
    zone: ZoneInfo
    workdays: frozenset[int]  # ISO weekday numbers, Monday = 1

    def describe(self) -> str:
        days = ",".join(WEEKDAYS[day - 1] for day in sorted(self.workdays))
        return f"{self.start:%H:%M}-{self.end:%H:%M} {self.zone.key}, {days}"


def parse_hours(value: str) -> tuple[time, time]:
    """``08:00-18:00`` (or ``8-18``): start inclusive, end exclusive, local time."""
    match = re.fullmatch(r"\s*(\d{1,2})(?::(\d{2}))?\s*-\s*(\d{1,2})(?::(\d{2}))?\s*", value)
    if not match or int(match[1]) > 23 or int(match[3]) > 24 or int(match[2] or 0) > 59 or int(match[4] or 0) > 59:
        raise ConfigError(f"--business-hours {value!r} is not a range of hours: use 08:00-18:00")
    start = time(int(match[1]), int(match[2] or 0))
    end = time(0, 0) if int(match[3]) == 24 else time(int(match[3]), int(match[4] or 0))
    if start == end and int(match[3]) != 24:
        raise ConfigError(f"--business-hours {value!r} is empty: use a range like 08:00-18:00")
    return start, end


def parse_workdays(value: str) -> frozenset[int]:
    """``mon-fri``, ``sun-thu`` or a list ``mon,tue,thu``; ranges may wrap around the week."""
    days: set[int] = set()
    for part in (item.strip().lower() for item in value.split(",") if item.strip()):
        days.update(_day_range(part, value))
    if not days:
        raise ConfigError(f"--workdays {value!r} names no day: use mon-fri or mon,tue,wed")
    return frozenset(days)


def _day_range(part: str, value: str) -> list[int]:
    first, _, last = (piece.strip()[:3] for piece in part.partition("-"))
    if first not in WEEKDAYS or (last and last not in WEEKDAYS):
        raise ConfigError(f"--workdays {value!r}: days are mon tue wed thu fri sat sun, e.g. mon-fri")
    start, stop = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
    return [(start + step) % 7 + 1 for step in range((stop - start) % 7 + 1)]


def signed_offset(seconds: float) -> str:
    """``-1h02m03s`` / ``+45s``: how far a change is from the incident time."""
    sign = "-" if seconds < 0 else "+"
    rest = int(abs(seconds))
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{sign}{hours}h{minutes:02d}m{secs:02d}s"
    return f"{sign}{minutes}m{secs:02d}s" if minutes else f"{sign}{secs}s"
