"""The rule-changes report against numbers worked out by hand from tests/analysis/fixtures.py."""

from __future__ import annotations

from pathlib import Path

from tests.analysis.conftest import filtered
from zdlogs.analysis.engine import AuditData
from zdlogs.analysis.reports import (
    RulesOptions,
    rules_report,
)


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


def test_across_tenants_the_same_rule_id_is_two_rules(fleet_audit: AuditData) -> None:
    most = rules_report(fleet_audit, RulesOptions()).summary["most_changed"]
    trigger = [(rule["tenant"], rule["changes"]) for rule in most if rule["source_id"] == 5001]
    assert sorted(trigger) == [("acme", 2), ("globex", 2)]
