"""What every report shares: its record columns (the CSV's, once), JSON-ready rows, the LIMIT clause, and what an
empty report says the data covers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from tests.analysis.conftest import filtered
from zdlogs.analysis.engine import AuditData
from zdlogs.analysis.reports.base import (
    RECORD_SELECT,
    TABLE_COLUMNS,
    Report,
    coverage,
    explain_empty,
    limit_sql,
    record_row,
)
from zdlogs.analysis.schema import CSV_COLUMNS

ALL = "12 records from 2026-03-02T09:00:00Z to 2026-03-30T06:30:00Z"


def test_a_record_is_the_csv_row_and_its_id_and_the_table_leaves_out_the_actor_id() -> None:
    assert ", ".join(CSV_COLUMNS) + ", id" == RECORD_SELECT
    assert [name for name in CSV_COLUMNS if name != "actor_id"] == TABLE_COLUMNS


def test_record_row_names_the_values_and_writes_times_in_zendesks_form() -> None:
    values = (datetime(2026, 3, 10, 3, 20, tzinfo=timezone(timedelta(hours=1))), "Mallory", 42, "update", "rule",
              "View", "changed", "192.0.2.66", 9)  # fmt: skip
    row = record_row(values)
    assert row["created_at"] == "2026-03-10T02:20:00Z"
    assert (row["actor_name"], row["actor_id"], row["id"]) == ("Mallory", 42, 9)
    assert list(row) == [*CSV_COLUMNS, "id"]
    assert record_row((datetime(2026, 1, 1, tzinfo=UTC), 3), ("first", "n")) == {
        "first": "2026-01-01T00:00:00Z",
        "n": 3,
    }


def test_limit_zero_means_every_row() -> None:
    assert limit_sql(100) == "LIMIT 100" and limit_sql(0) == "" and limit_sql(-1) == ""


def test_to_json_keeps_the_data_and_leaves_out_the_presentation() -> None:
    report = Report("rules", "Rule changes", "desc", ["created_at"], [{"id": 1}], 5, {"changes": 5}, "is_rule", ["n"])
    assert report.to_json() == {
        "report": "rules", "title": "Rule changes", "description": "desc", "summary": {"changes": 5},
        "total_rows": 5, "rows": [{"id": 1}],
    }  # fmt: skip


def empty_report(**changes: object) -> Report:
    values: dict = {"name": "rules", "title": "t", "description": "d", "columns": [], "rows": [], "total_rows": 0}
    return Report(**{**values, **changes}, empty="No rule changes")


def test_a_report_without_rows_says_what_the_data_covers(audit: AuditData) -> None:
    report = empty_report(notes=["0 considered."])
    explain_empty(report, audit, "./logs")
    sentence = f"No rule changes; the {ALL.replace(' records from', ' records in ./logs run from')}."
    assert report.notes == ["0 considered.", sentence]
    assert report.coverage == {
        "message": sentence, "records": 12, "first": "2026-03-02T09:00:00Z", "last": "2026-03-30T06:30:00Z",
        "matching_filters": False,
    }  # fmt: skip
    assert report.to_json()["coverage"] == report.coverage


def test_with_filters_it_says_what_matched_them_or_what_the_input_holds(collected: Path) -> None:
    with filtered(collected, actors=["mallory"]) as data:
        found = coverage(data, "No rule changes", "./logs")
        assert found["message"] == (
            "No rule changes; the 3 records matching the filters (actor mallory) run from 2026-03-10T02:10:00Z "
            "to 2026-03-10T02:40:00Z."
        )
        assert found["matching_filters"] is True
    with filtered(collected, actors=["Nobody Here"]) as data:
        assert coverage(data, "No rule changes", "./logs")["message"] == (
            f"No records match the filters (actor nobody here); ./logs holds {ALL}."
        )


def test_a_report_with_rows_is_left_alone(audit: AuditData) -> None:
    report = empty_report(total_rows=3, notes=["n"])
    explain_empty(report, audit, "./logs")
    assert report.notes == ["n"] and report.coverage is None and "coverage" not in report.to_json()
