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


def test_across_tenants_the_same_actor_id_is_two_actors_each_under_its_own_name(fleet_audit: AuditData) -> None:
    report = activity_report(fleet_audit, ActivityOptions("day", 10))
    assert [(r["tenant"], r["actor_id"], r["actor_name"], r["total"]) for r in report.rows] == [
        ("acme", ALICE, "Alice Admin", 5), ("acme", MALLORY, "Mallory", 3), ("acme", BOB, "Bob Builder", 2),
        ("globex", ALICE, "Gina Globex", 2), ("globex", BOB, "Hank Globex", 2), ("acme", SYSTEM, "Zendesk", 1),
        ("acme", CAROL, "Carol Agent", 1), ("globex", CAROL, "Iris Globex", 1),
    ]  # fmt: skip
    assert sum(report.rows[3]["series"]) == 2  # globex's 101, not acme's 5 added in
    assert report.columns[0] == "tenant" and report.fields[0] == "tenant" and report.tenants == ["acme", "globex"]
    assert (report.summary["records"], report.summary["actors"], report.total_rows) == (17, 8, 8)
    assert report.summary["by_tenant"] == {"acme": 12, "globex": 5}
    assert "Per tenant: acme 12, globex 5." in report.notes
    assert report.to_json()["tenants"] == ["acme", "globex"]


def test_one_input_has_no_tenant_anywhere(audit: AuditData) -> None:
    report = activity_report(audit, ActivityOptions("day", 10))
    assert "tenant" not in report.rows[0] and "tenant" not in report.columns + report.fields
    assert "by_tenant" not in report.summary and "tenants" not in report.to_json()
