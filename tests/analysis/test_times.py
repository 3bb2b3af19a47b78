"""Times analysts type: bounds, durations, office hours and workdays."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from zdlogs.analysis.times import (
    parse_duration,
    parse_hours,
    parse_moment,
    parse_until,
    parse_workdays,
    parse_zone,
    signed_offset,
)
from zdlogs.errors import ConfigError


def test_moments_are_utc_unless_zoned() -> None:
    assert parse_moment("2026-03-10", "--since") == datetime(2026, 3, 10, tzinfo=UTC)
    assert parse_moment("2026-03-10T02:15", "--since") == datetime(2026, 3, 10, 2, 15, tzinfo=UTC)
    assert parse_moment("2026-03-10T03:15+01:00", "--since") == datetime(2026, 3, 10, 2, 15, tzinfo=UTC)
    assert parse_until("2026-03-10") == datetime(2026, 3, 11, tzinfo=UTC)
    assert parse_until("2026-03-10T05:00Z") == datetime(2026, 3, 10, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "seconds"), [("2h", 7200), ("90m", 5400), ("1h30m", 5400), ("45s", 45), ("1d", 86400), ("10m30s", 630)]
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "2 hours", "0m", "-2h", "h", "30min"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ConfigError, match="--window"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["30", "0", "1.5", " 600 "])
def test_a_bare_number_is_refused_and_the_units_are_named(text: str) -> None:
    with pytest.raises(ConfigError, match=r"has no unit: write .*m for minutes \(units: s, m, h, d"):
        parse_duration(text)


def test_hours_and_workdays() -> None:
    assert parse_hours("08:00-18:00") == (time(8), time(18))
    assert parse_hours("8-18") == (time(8), time(18))
    assert parse_hours("22:00-06:00") == (time(22), time(6))
    assert parse_hours("09:30-24") == (time(9, 30), time(0))
    assert parse_workdays("mon-fri") == frozenset({1, 2, 3, 4, 5})
    assert parse_workdays("sun-thu") == frozenset({7, 1, 2, 3, 4})
    assert parse_workdays("Monday, wed,fri") == frozenset({1, 3, 5})
    for bad, option in (("8h-18h", "--business-hours"), ("09:00-09:00", "--business-hours"), ("mon-fry", "--workdays")):
        with pytest.raises(ConfigError, match=option):
            parse_hours(bad) if option == "--business-hours" else parse_workdays(bad)
    with pytest.raises(ConfigError, match="--timezone 'Mars/Olympus'"):
        parse_zone("Mars/Olympus")


def test_signed_offsets() -> None:
    assert [signed_offset(s) for s in (-3723, 45, 0, 600)] == ["-1h02m03s", "+45s", "+0s", "+10m00s"]


ZONES = [("europe/paris", "Europe/Paris"), ("UTC", "UTC"), ("utc", "UTC"), (" America/New_York ", "America/New_York")]


@pytest.mark.parametrize(("typed", "zone"), [*ZONES, ("ASIA/TOKYO", "Asia/Tokyo")])
def test_a_zone_is_read_in_any_case(typed: str, zone: str) -> None:
    assert parse_zone(typed).key == zone
