"""The incident report against numbers worked out by hand from tests/analysis/fixtures.py."""

from __future__ import annotations

from datetime import timedelta

from tests.analysis.fixtures import MALLORY
from zdlogs.analysis.engine import AuditData
from zdlogs.analysis.reports import (
    IncidentOptions,
    incident_report,
)
from zdlogs.analysis.times import parse_moment


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


def test_across_tenants_an_address_is_new_to_each_tenant(fleet_audit: AuditData) -> None:
    options = IncidentOptions(parse_moment("2026-03-02T09:30Z", "--around"), timedelta(hours=1))
    report = incident_report(fleet_audit, options)
    assert [(ip["tenant"], ip["ip_address"]) for ip in report.summary["new_ips"]] == [
        ("acme", "203.0.113.1"),
        ("globex", "203.0.113.1"),
    ]
    assert [row["tenant"] for row in report.rows].count("globex") == 3 and report.columns[0] == "tenant"
    assert "Actors: acme: Alice Admin (2), globex: Gina Globex (2)," in report.notes[0]
    assert report.summary["by_tenant"] == {"acme": 3, "globex": 3}
