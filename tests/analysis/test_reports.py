"""Each report against numbers worked out by hand from tests/analysis/fixtures.py."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.analysis.conftest import filtered
from tests.analysis.fixtures import ALICE, BOB, CAROL, MALLORY, SYSTEM
from zdlogs.analysis.engine import AuditData
from zdlogs.analysis.reports import (
    ActivityOptions,
    IncidentOptions,
    RulesOptions,
    activity_report,
    incident_report,
    offhours_report,
    rules_report,
)
from zdlogs.analysis.reports.offhours import check_options
from zdlogs.analysis.times import parse_moment


def offhours(data: AuditData, **kwargs: object):
    hours = {"business_hours": "08:00-18:00", "timezone": "UTC", "workdays": "mon-fri", **kwargs}
    return offhours_report(data, check_options(**hours))  # type: ignore[arg-type]


# ------------------------------------------------------------------ activity


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
    assert report.rows == [] and report.summary["periods"] == [] and report.notes == ["No audit records match."]


# ------------------------------------------------------------------ off-hours


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


# ------------------------------------------------------------------ rules


def test_rule_changes(audit: AuditData) -> None:
    report = rules_report(audit, RulesOptions())
    assert [row["created_at"][:10] for row in report.rows] == [
        "2026-03-27", "2026-03-10", "2026-03-10", "2026-03-07", "2026-03-02", "2026-03-02",
    ]  # fmt: skip
    assert [row["kind"] for row in report.rows] == ["sla_policy", "View", "Automation", "Macro", "Trigger", "Trigger"]
    summary = report.summary
    assert summary["by_kind"] == {"Trigger": 2, "Automation": 1, "Macro": 1, "View": 1, "sla_policy": 1}
    assert summary["by_action"] == {"update": 5, "destroy": 1}
    top = summary["most_changed"][0]
    assert (top["source_label"], top["changes"], top["actors"], top["deleted"]) == (
        "Trigger: Notify requester", 2, ["Alice Admin"], False,
    )  # fmt: skip
    assert next(rule for rule in summary["most_changed"] if rule["source_id"] == 5002)["deleted"] is True
    assert [day["changes"] for day in summary["per_day"]] == [2, 1, 2, 1]


def test_rule_changes_with_other_source_types(collected: Path) -> None:
    with filtered(collected, source_types=["ticket_field", "account_setting"]) as data:
        report = rules_report(data, RulesOptions())
    assert [(row["kind"], row["action"]) for row in report.rows] == [
        ("ticket_field", "update"), ("account_setting", "update"),
    ]  # fmt: skip


# ------------------------------------------------------------------ incident


def test_incident_closest_first_with_rules_highlighted(audit: AuditData) -> None:
    around = parse_moment("2026-03-10T02:15Z", "--around")
    report = incident_report(audit, IncidentOptions(around, timedelta(minutes=30)))
    assert [(row["id"], row["offset"], row["is_rule"]) for row in report.rows] == [
        (8, "-5m00s", False), (9, "+5m00s", True), (7, "-15m00s", True), (10, "+25m00s", False),
    ]  # fmt: skip
    summary = report.summary
    assert (summary["before"], summary["after"], summary["rule_changes"]) == (2, 2, 2)
    assert summary["new_ips"] == [{"ip_address": "192.0.2.66", "first_seen": "2026-03-10T02:10:00Z", "records": 3}]
    assert summary["actors"][0] == {"actor_name": "Mallory", "actor_id": MALLORY, "records": 3}
    assert report.highlight == "is_rule"


def test_incident_window_bounds_are_inclusive(audit: AuditData) -> None:
    around = parse_moment("2026-03-10T02:15Z", "--around")
    report = incident_report(audit, IncidentOptions(around, timedelta(minutes=5), limit=1))
    assert report.total_rows == 2 and [row["id"] for row in report.rows] == [8]


def test_incident_known_ip_is_not_new(audit: AuditData) -> None:
    around = parse_moment("2026-03-30T06:30Z", "--around")
    report = incident_report(audit, IncidentOptions(around, timedelta(hours=1)))
    assert [row["id"] for row in report.rows] == [12] and report.summary["new_ips"] == []
