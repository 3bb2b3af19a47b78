"""The activity report against numbers worked out by hand from tests/analysis/fixtures.py."""

from __future__ import annotations

from pathlib import Path

from tests.analysis.conftest import filtered
from tests.analysis.fixtures import ALICE, BOB, CAROL, MALLORY, SYSTEM
from zdlogs.analysis.engine import AuditData
from zdlogs.analysis.reports import (
    ActivityOptions,
    activity_report,
)


def test_activity_per_day(audit: AuditData) -> None:
    report = activity_report(audit, ActivityOptions("day", 10))
    assert [(r["actor_id"], r["total"], r["changes"], r["sign_ins"]) for r in report.rows] == [
        (ALICE, 5, 5, 0), (MALLORY, 3, 3, 0), (BOB, 2, 2, 0), (SYSTEM, 1, 1, 0), (CAROL, 1, 0, 1),
    ]  # fmt: skip
    alice = report.rows[0]
    assert alice["first_seen"] == "2026-03-02T09:00:00Z" and alice["last_seen"] == "2026-03-30T06:30:00Z"
    assert alice["active_periods"] == 4
    summary = report.summary
    assert summary["periods"][0] == "2026-03-02" and summary["periods"][-1] == "2026-03-30"
    assert len(summary["periods"]) == 29  # idle days are filled in
    per_day = dict(zip(summary["periods"], summary["records_per_period"], strict=True))
    assert {day: n for day, n in per_day.items() if n} == {
        "2026-03-02": 3, "2026-03-03": 1, "2026-03-07": 1, "2026-03-09": 1, "2026-03-10": 4, "2026-03-27": 1,
        "2026-03-30": 1,
    }  # fmt: skip
    assert alice["series"][0] == 2 and alice["series"][7] == 1 and sum(alice["series"]) == 5
    assert (summary["records"], summary["actors"], summary["others_records"]) == (12, 5, 0)
    assert (summary["busiest_period"], summary["busiest_period_records"]) == ("2026-03-10", 4)


def test_activity_per_week_top_two(audit: AuditData) -> None:
    report = activity_report(audit, ActivityOptions("week", 2))
    assert [r["actor_name"] for r in report.rows] == ["Alice Admin", "Mallory"]
    assert report.total_rows == 5
    assert report.summary["periods"] == ["2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23", "2026-03-30"]
    assert report.summary["records_per_period"] == [5, 5, 0, 1, 1]
    assert report.rows[0]["series"] == [2, 1, 0, 1, 1]
    assert report.summary["others_records"] == 4


def test_activity_empty(collected: Path) -> None:
    with filtered(collected, since="2030-01-01") as data:
        report = activity_report(data, ActivityOptions())
    assert report.rows == [] and report.summary["periods"] == [] and report.notes == []  # explain_empty's job
    assert report.empty == "No audit records match"
