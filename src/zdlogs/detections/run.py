"""``zdlogs detect`` end to end: the rules chosen, the data opened once, every rule evaluated, the findings
printed (table, json, csv) and, with --fail-on, the exit code a cron job or a CI step alerts on."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from zdlogs.analysis.cli import AuditOptions, FilterOptions
from zdlogs.analysis.engine import AuditData
from zdlogs.detections.evaluate import Finding, evaluate
from zdlogs.detections.loader import SEVERITIES, Rule, load_rules
from zdlogs.detections.records import access_files, access_records, audit_records, require_access
from zdlogs.detections.tuning import Tuning, load_tuning
from zdlogs.errors import ConfigError, FindingsAtSeverity

FORMATS = ("table", "json", "csv")
CSV_COLUMNS = ("rule", "severity", "time", "actor_id", "actor_name", "ip_address", "record_ids", "summary")


@dataclass(frozen=True)
class DetectRequest:
    """The options of ``zdlogs detect`` as given."""

    input_: str
    prefix: str
    tenant: str | None = None
    config: str | None = None
    since: str | None = None
    until: str | None = None
    rules: tuple[str, ...] = ()
    fmt: str = "table"
    fail_on: str | None = None

    def audit(self) -> AuditOptions:
        tenant = [self.tenant] if self.tenant else None
        return AuditOptions(
            self.input_, self.prefix, False, tenant, False, self.config, FilterOptions(self.since, self.until)
        )


@dataclass(frozen=True)
class Outcome:
    findings: list[Finding]
    rules_run: list[str]
    skipped: list[str]  # rules not run, each with why (no access log collected)

    def to_json(self) -> dict[str, Any]:
        return {"findings": [finding.to_json() for finding in self.findings], "rules_run": self.rules_run}


def run_detect(request: DetectRequest, echo: Callable[..., Any]) -> Outcome:
    """Check every option, evaluate, print; raise FindingsAtSeverity after printing when --fail-on is met."""
    fmt, threshold = _format(request.fmt), _severity(request.fail_on)
    rules = load_rules().select(request.rules)
    outcome = detect(request, rules, load_tuning(request.config))
    for note in outcome.skipped:
        echo(note, err=True)
    echo(render(outcome, fmt))
    _fail_on(outcome.findings, threshold)
    return outcome


def detect(request: DetectRequest, rules: Sequence[Rule], tuning: Tuning) -> Outcome:
    """The findings of ``rules`` over the request's input, oldest first."""
    options = request.audit()
    with options.open() as data:
        return evaluate_on(data, options.location(), rules, tuning, named=bool(request.rules))


def evaluate_on(
    data: AuditData, location: tuple[str, str], rules: Sequence[Rule], tuning: Tuning, *, named: bool = False
) -> Outcome:
    """The findings of ``rules`` over open audit data and the access log beside it (``location``: the input's
    directory and prefix); the access rule is skipped, with a note, when no access log was collected, unless
    ``named`` (asked for by --rule): then that is the error."""
    findings: list[Finding] = []
    run, skipped = [], []
    sources = {"audit": audit_records(data)}
    access = access_files(*location)
    if any(rule.service == "access" for rule in rules) and (access or named):
        sources["access"] = access_records(data, require_access(access, location[0]))
    for rule in rules:
        if rule.service not in sources:
            skipped.append(f"{rule.name}: not run, no access log collected under {location[0]}")
            continue
        findings += evaluate(rule, sources[rule.service], tuning)
        run.append(rule.name)
    _name_access_actors(findings, data)
    findings.sort(key=lambda finding: (finding.time, finding.rule))
    return Outcome(findings, run, skipped)


def _name_access_actors(findings: list[Finding], data: AuditData) -> None:
    """The access log has user ids only: name them from the audit log, where the same ids act."""
    ids = sorted({finding.actor_id for finding in findings if finding.actor_name is None and finding.actor_id})
    if not ids:
        return
    names = dict(
        data.rows(
            "SELECT actor_id, arg_max(actor_name, created_at) FROM {audit} "
            "WHERE list_contains($named_ids, actor_id) GROUP BY actor_id",
            {"named_ids": ids},
        )
    )
    for i, finding in enumerate(findings):
        if finding.actor_name is None and finding.actor_id in names:
            findings[i] = _with_name(finding, names[finding.actor_id])


def _with_name(finding: Finding, name: str) -> Finding:
    from dataclasses import replace

    return replace(finding, actor_name=name)


def _format(fmt: str) -> str:
    if fmt.strip().lower() not in FORMATS:
        raise ConfigError(f"--format {fmt!r}: use table, json or csv")
    return fmt.strip().lower()


def _severity(value: str | None) -> int | None:
    """--fail-on's rank among Sigma's levels, or None."""
    if value is None:
        return None
    if value.strip().lower() not in SEVERITIES:
        raise ConfigError(f"--fail-on {value!r}: use one of {', '.join(SEVERITIES)}")
    return SEVERITIES.index(value.strip().lower())


def _fail_on(findings: list[Finding], threshold: int | None) -> None:
    if threshold is None:
        return
    hits = [finding for finding in findings if SEVERITIES.index(finding.severity) >= threshold]
    if hits:
        rules = ", ".join(sorted({finding.rule for finding in hits}))
        raise FindingsAtSeverity(
            f"{len(hits)} findings at or above {SEVERITIES[threshold]} ({rules}): look at them, then tune the "
            "allow-lists in the config file if they were expected"
        )


# ------------------------------------------------------------------ output


def render(outcome: Outcome, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(outcome.to_json(), indent=2, ensure_ascii=False)
    if fmt == "csv":
        return _csv(outcome.findings)
    return _table(outcome)


def _csv(findings: list[Finding]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for finding in findings:
        row = finding.to_json()
        row["record_ids"] = " ".join(str(record) for record in finding.record_ids)
        writer.writerow([row[column] for column in CSV_COLUMNS])
    return out.getvalue().rstrip("\n")


def _table(outcome: Outcome) -> str:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(outcome.findings)} findings ({len(outcome.rules_run)} rules run)", title_justify="left")
    for column in ("time", "severity", "rule", "actor", "ip_address", "summary"):
        table.add_column(column, overflow="fold")
    for finding in outcome.findings:
        actor = finding.actor_name or (str(finding.actor_id) if finding.actor_id is not None else "-")
        row = finding.to_json()
        table.add_row(row["time"], finding.severity, finding.rule, actor, finding.ip_address or "-", finding.summary)
    console = Console(file=io.StringIO(), width=160)
    console.print(table if outcome.findings else "No findings.")
    return console.file.getvalue().rstrip("\n")  # type: ignore[attr-defined]
