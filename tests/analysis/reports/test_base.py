"""What every report shares: its record columns (the CSV's, once), JSON-ready rows, the LIMIT clause."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from zdlogs.analysis.reports.base import RECORD_SELECT, TABLE_COLUMNS, Report, limit_sql, record_row
from zdlogs.analysis.schema import CSV_COLUMNS


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
