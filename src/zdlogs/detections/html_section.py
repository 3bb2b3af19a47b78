"""The findings of the detection rules as a section of ``zdlogs report html``: a Report like the others, so the
page renders it with no knowledge of detections; high and critical findings highlighted.

The section never stops the report: without pySigma (the ``detect`` extra), across several tenants (rules
judge one account's actors), or with a bad detect setting, it says why instead of listing findings.
"""

from __future__ import annotations

from typing import Any

from zdlogs.analysis.engine import AuditData
from zdlogs.analysis.reports.base import Report
from zdlogs.errors import ConfigError

COLUMNS = ["created_at", "severity", "rule", "actor_name", "ip_address", "summary"]
HIGHLIGHTED = ("high", "critical")


def findings_section(data: AuditData, location: tuple[str, str] | None, config: str | None, limit: int) -> Report:
    """The findings of every rule over ``data`` (and the access log beside ``location``), newest first."""
    if location is None or data.tenants:
        return _without("Detections run on one account's data: give one --input or one --tenant.")
    try:
        from zdlogs.detections.loader import load_rules
        from zdlogs.detections.run import evaluate_on
        from zdlogs.detections.tuning import load_tuning

        outcome = evaluate_on(data, location, load_rules().runnable, load_tuning(config))
    except ConfigError as exc:
        return _without(f"Detections not run: {exc}")
    rows = [_row(finding.to_json()) for finding in reversed(outcome.findings)]
    return Report(
        name="detections",
        title="Detection findings",
        description=f"{len(outcome.rules_run)} Sigma rules run (docs/DETECTIONS.md); high and critical highlighted.",
        columns=COLUMNS,
        fields=[*COLUMNS, "record_ids"],
        rows=rows[:limit] if limit else rows,
        total_rows=len(rows),
        highlight="high",
        empty="No finding",
        notes=[*_counts(rows), *outcome.skipped],
        summary={"rules_run": outcome.rules_run},
    )


def _row(finding: dict[str, Any]) -> dict[str, Any]:
    return {
        "created_at": finding["time"],
        "severity": finding["severity"],
        "rule": finding["rule"],
        "actor_name": finding["actor_name"] or finding["actor_id"],
        "ip_address": finding["ip_address"],
        "summary": finding["summary"],
        "record_ids": finding["record_ids"],
        "high": finding["severity"] in HIGHLIGHTED,
    }


def _counts(rows: list[dict[str, Any]]) -> list[str]:
    by_severity: dict[str, int] = {}
    for row in rows:
        by_severity[row["severity"]] = by_severity.get(row["severity"], 0) + 1
    shown = ", ".join(f"{count} {severity}" for severity, count in sorted(by_severity.items()))
    return [f"{len(rows)} findings: {shown}."] if rows else []


def _without(reason: str) -> Report:
    return Report(
        name="detections",
        title="Detection findings",
        description=reason,
        columns=COLUMNS,
        rows=[],
        total_rows=0,
        empty=reason,
        notes=[reason],
    )
