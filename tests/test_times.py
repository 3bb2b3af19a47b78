"""Every time format zdlogs writes, pinned, and the lenient parser every reader shares."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from zdlogs.times import (
    as_utc,
    compact,
    day_path,
    epoch_seconds,
    from_epoch,
    iso_offset,
    iso_z,
    moment_of,
    parse_http_date,
    parse_utc,
    readable_utc,
    rfc3339,
    seconds_until,
)

MOMENT = datetime(2026, 11, 25, 10, 15, 0, 123456, tzinfo=UTC)
PARIS = timezone(timedelta(hours=1))


def test_the_formats_zdlogs_writes() -> None:
    assert iso_z(MOMENT) == "2026-11-25T10:15:00Z"
    assert rfc3339(MOMENT) == "2026-11-25T10:15:00.123456Z"
    assert compact(MOMENT) == "20261125T101500Z"
    assert day_path(MOMENT) == "2026/11/25"
    assert iso_offset(MOMENT) == "2026-11-25T10:15:00.123+00:00"
    assert iso_offset(MOMENT, "seconds") == "2026-11-25T10:15:00+00:00"
    assert readable_utc(MOMENT) == "2026-11-25 10:15 UTC"
    assert epoch_seconds(MOMENT) == 1795601700


def test_formats_convert_another_zone_to_utc_first() -> None:
    late_in_paris = datetime(2026, 11, 26, 0, 30, tzinfo=PARIS)  # still the 25th in UTC
    assert iso_z(late_in_paris) == "2026-11-25T23:30:00Z"
    assert day_path(late_in_paris) == "2026/11/25"
    assert compact(late_in_paris) == "20261125T233000Z"
    assert rfc3339(late_in_paris) == "2026-11-25T23:30:00.000000Z"
    assert iso_offset(late_in_paris) == "2026-11-25T23:30:00.000+00:00"


def test_second_precision_truncates_and_never_rounds_up() -> None:
    nearly_the_next_second = datetime(2026, 11, 25, 11, 15, 0, 999_000, tzinfo=PARIS)
    assert iso_z(nearly_the_next_second) == "2026-11-25T10:15:00Z"
    assert compact(nearly_the_next_second) == "20261125T101500Z"


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-25T10:15:00Z",
        "2026-11-25T10:15:00z",
        "2026-11-25T10:15:00+00:00",
        "2026-11-25T11:15:00+01:00",
        "2026-11-25T10:15:00",
        "2026-11-25T10:15",
        " 2026-11-25T10:15:00Z ",
    ],
)
def test_iso_8601_with_z_an_offset_or_no_zone_is_the_same_utc_moment(text: str) -> None:
    parsed = parse_utc(text)
    assert parsed == datetime(2026, 11, 25, 10, 15, tzinfo=UTC)
    assert parsed.tzinfo is UTC


def test_a_date_is_its_first_second_utc() -> None:
    assert parse_utc("2026-11-25") == datetime(2026, 11, 25, tzinfo=UTC)
    assert parse_utc(date(2026, 11, 25)) == datetime(2026, 11, 25, tzinfo=UTC)


def test_a_datetime_is_taken_as_utc_when_naive_and_converted_otherwise() -> None:
    assert parse_utc(datetime(2026, 11, 25, 10, 15)) == datetime(2026, 11, 25, 10, 15, tzinfo=UTC)
    assert parse_utc(datetime(2026, 11, 25, 11, 15, tzinfo=PARIS)).hour == 10
    assert as_utc(datetime(2026, 11, 25, 11, 15, tzinfo=PARIS)).tzinfo is UTC


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13-01", "25/11/2026"])
def test_what_is_not_a_date_names_the_forms_accepted(text: str) -> None:
    with pytest.raises(ValueError, match="is not a date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ"):
        parse_utc(text)


def test_the_written_forms_read_back() -> None:
    for write in (iso_z, rfc3339, iso_offset):
        assert abs(parse_utc(write(MOMENT)) - MOMENT) < timedelta(seconds=1)


def test_epoch_seconds_both_ways() -> None:
    assert from_epoch(1795601700) == datetime(2026, 11, 25, 10, 15, tzinfo=UTC)
    assert epoch_seconds(from_epoch(1795601700.9)) == 1795601700


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1795601700, datetime(2026, 11, 25, 10, 15, tzinfo=UTC)),
        ("2026-11-25T10:15:00Z", datetime(2026, 11, 25, 10, 15, tzinfo=UTC)),
        ("2026-11-25T11:15:00+01:00", datetime(2026, 11, 25, 10, 15, tzinfo=UTC)),
        (1795601700000, None),  # milliseconds: not taken for a year in the far future
        (0, None),
        (True, None),
        ("", None),
        ("not a time", None),
        (None, None),
        ([1795601700], None),
    ],
)
def test_a_record_field_as_a_moment(value: object, expected: datetime | None) -> None:
    assert moment_of(value) == expected


def test_http_dates() -> None:
    assert parse_http_date("Wed, 25 Nov 2026 12:00:30 GMT") == datetime(2026, 11, 25, 12, 0, 30, tzinfo=UTC)
    assert parse_http_date("Wed, 25 Nov 2026 13:00:30 +0100") == datetime(2026, 11, 25, 12, 0, 30, tzinfo=UTC)
    assert parse_http_date("Wed, 25 Nov 2026 12:00:30 -0000").tzinfo is UTC  # type: ignore[union-attr]
    assert parse_http_date("soon") is None


def test_seconds_until_is_never_negative() -> None:
    def now() -> datetime:
        return MOMENT

    assert seconds_until(MOMENT + timedelta(seconds=30), now) == 30.0
    assert seconds_until(MOMENT - timedelta(seconds=30), now) == 0.0
