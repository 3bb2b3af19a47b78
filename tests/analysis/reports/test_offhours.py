"""The off-hours report against numbers worked out by hand from tests/analysis/fixtures.py."""

from __future__ import annotations

from pathlib import Path

from tests.analysis.fixtures import ALICE
from zdlogs.analysis.engine import AuditData
from zdlogs.analysis.reports import (
    offhours_report,
)
from zdlogs.analysis.reports.offhours import check_options


def offhours(data: AuditData, **kwargs: object):
    hours = {"business_hours": "08:00-18:00", "timezone": "UTC", "workdays": "mon-fri", **kwargs}
    return offhours_report(data, check_options(**hours))  # type: ignore[arg-type]


def test_offhours_utc_defaults(audit: AuditData) -> None:
    report = offhours(audit)
    assert [row["id"] for row in report.rows] == [12, 11, 10, 9, 8, 5, 4]  # newest first
    summary = report.summary
    assert (summary["changes_considered"], summary["off_hours"], summary["non_workday"]) == (10, 6, 1)
    assert summary["not_allow_listed"] == 0 and report.total_rows == 7
    reasons = {row["id"]: row["reasons"] for row in report.rows}
    assert reasons[5] == ["non-workday"] and reasons[4] == ["off-hours"]
    assert sum(map(sum, summary["heatmap"])) == 10
    assert summary["heatmap"][1][2] == 3  # Tuesday 02:xx: Mallory's three changes


def test_offhours_in_paris_follows_daylight_saving(audit: AuditData) -> None:
    """06:30Z is 07:30 in Paris on Friday 27 March (CET) but 08:30 on Monday 30 March (CEST)."""
    report = offhours(audit, timezone="Europe/Paris")
    assert [row["id"] for row in report.rows] == [11, 10, 9, 8, 5, 4]
    local = {row["id"]: row["local_time"] for row in report.rows}
    assert local[11] == "2026-03-27 07:30" and local[4] == "2026-03-04 00:30"


def test_offhours_allow_list_by_id_name_and_file(audit: AuditData, tmp_path: Path) -> None:
    allow_file = tmp_path / "admins.txt"
    allow_file.write_text("# expected admins\nbob builder   # by name\n\n")
    report = offhours(audit, allow=[str(ALICE)], allow_file=allow_file)
    assert report.summary["not_allow_listed"] == 3 and report.summary["allow_list"] == 2
    reasons = {row["id"]: row["reasons"] for row in report.rows}
    assert reasons[8] == ["off-hours", "not-allow-listed"] and reasons[4] == ["off-hours"]
    in_hours_unlisted = offhours(audit, allow=["Bob Builder"], business_hours="00:00-24:00", workdays="mon-sun")
    assert [row["id"] for row in in_hours_unlisted.rows] == [12, 11, 10, 9, 8, 6, 2, 1]


def test_offhours_can_include_logins_and_system(audit: AuditData) -> None:
    report = offhours(audit, include_logins=True, include_system=True)
    assert report.summary["changes_considered"] == 12
    assert [row["id"] for row in report.rows] == [12, 11, 10, 9, 8, 7, 5, 4]  # Carol's 10:15 sign-in is in hours


def test_offhours_night_shift(audit: AuditData) -> None:
    """Hours across midnight: 22:00-06:00 on every day."""
    report = offhours(audit, business_hours="22:00-06:00", workdays="mon-sun")
    assert [row["id"] for row in report.rows] == [12, 11, 6, 5, 2, 1]


def test_across_tenants_flagged_actors_are_counted_per_tenant(fleet_audit: AuditData) -> None:
    report = offhours_report(fleet_audit, check_options("08:00-18:00", "UTC", "mon-fri"))
    by_actor = [(item["tenant"], item["actor_name"], item["flagged"]) for item in report.summary["by_actor"]]
    assert ("acme", "Bob Builder", 2) in by_actor and ("globex", "Hank Globex", 2) in by_actor
    assert {row["tenant"] for row in report.rows} == {"acme", "globex"} and report.columns[0] == "tenant"
    assert report.summary["by_tenant"]["globex"] == 2
