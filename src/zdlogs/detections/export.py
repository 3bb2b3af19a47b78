"""``zdlogs detect export``: the shipped Sigma rules converted for a SIEM by its pySigma backend, one file a rule.

Each target is a row of ``TARGETS``: the backend's module, the package and zdlogs extra that install it, and the
file it writes. The field names come from ``pipelines`` (one data table per target); SecOps' YARA-L from
``yaral``. What a target cannot express (zdlogs' off-hours and new-address evaluations, a correlation the
backend lacks, a regex dialect) is said in the rule's file where its format allows comments, in the README
written beside the rules, and in the command's output: no rule is exported weaker without a note. A rule the
backend cannot convert at all is not written, and said so.
"""

from __future__ import annotations

import copy
import importlib.util
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from zdlogs.detections.pipelines import ELASTIC_INDEXES, SECOPS_LOG_TYPE, SENTINEL_TABLES, SPLUNK_SOURCES
from zdlogs.errors import ConfigError, StorageError

if TYPE_CHECKING:
    from zdlogs.detections.loader import Rule


@dataclass(frozen=True)
class Target:
    """One SIEM: the pySigma backend module it needs, how to install it, the file each rule becomes."""

    name: str
    module: str
    package: str
    suffix: str
    form: str

    @property
    def extra(self) -> str:
        return f"detect-{self.name}"


TARGETS = {
    target.name: target
    for target in (
        Target("secops", "sigma.backends.secops", "pySigma-backend-secops", ".yaral", "Google SecOps YARA-L 2.0 rules"),
        Target("splunk", "sigma.backends.splunk", "pySigma-backend-splunk", ".spl", "Splunk SPL + savedsearches.conf"),
        Target(
            "elasticsearch",
            "sigma.backends.elasticsearch",
            "pySigma-backend-elasticsearch",
            ".ndjson",
            "Elastic Security ES|QL rules (NDJSON import)",
        ),
        Target("kusto", "sigma.backends.kusto", "pySigma-backend-kusto", ".kql", "Microsoft Sentinel KQL queries"),
    )
}


@dataclass(frozen=True)
class Converted:
    """One rule for one target: its file's text (None: not exported), and what it does not carry over."""

    rule: Rule
    text: str | None
    notes: tuple[str, ...] = ()
    native: dict[str, Any] = field(default_factory=dict)  # the backend's structured output, where it has one


def targets_help() -> str:
    """The ``--target`` help: every target, with "(not installed)" where its backend is missing."""
    return ", ".join(f"{name}{'' if installed(target) else ' (not installed)'}" for name, target in TARGETS.items())


def installed(target: Target) -> bool:
    try:
        return importlib.util.find_spec(target.module) is not None
    except ModuleNotFoundError:
        return False


def require(name: str) -> Target:
    """The target named, its backend importable; or the one line naming the package and the extra (exit 2)."""
    target = TARGETS.get(name)
    if target is None:
        raise ConfigError(f"--target {name}: no such target; use one of {', '.join(TARGETS)}")
    if not installed(target):
        raise ConfigError(
            f"zdlogs detect export --target {name} needs {target.package}: pip install 'zdlogs[{target.extra}]'"
        )
    return target


def convert(target: Target, rule: Rule) -> Converted:
    """One rule for ``target`` (a deep copy: pySigma's pipelines rewrite the rule objects they convert)."""
    rule = copy.deepcopy(rule)
    notes = not_carried_over(target.name, rule)
    try:
        return _CONVERTERS[target.name](rule, notes)
    except NotImplementedError as exc:
        return Converted(rule, None, (*notes, f"not exported: {exc}"))


def not_carried_over(target: str, rule: Rule) -> tuple[str, ...]:
    """What the target's rule does not do that ``zdlogs detect`` does, in one sentence each."""
    notes = [EVALUATION_NOTES[rule.evaluation]] if rule.evaluation in EVALUATION_NOTES else []
    if rule.evaluation == "correlation" and target in WINDOW_NOTES:
        notes.append(WINDOW_NOTES[target].format(timespan=rule.sigma.timespan.spec))
    if _uses_regex(rule.base) and target in REGEX_NOTES:
        notes.append(REGEX_NOTES[target])
    return tuple(notes)


EVALUATION_NOTES = {
    "offhours": "zdlogs keeps only the changes outside business hours (business_hours, timezone, workdays, as "
    "`zdlogs report offhours`); the exported rule selects every change: add the SIEM's own time-of-day "
    "condition before enabling it, or it fires on every change",
    "new_ip": "zdlogs keeps only changes from an address new for the actor over the baseline window; the "
    "exported rule selects every change that has an address: compare with the actor's past addresses in the "
    "SIEM (a first-seen lookup) before enabling it, or it fires on every change",
}
WINDOW_NOTES = {
    "splunk": "counts in fixed {timespan} buckets (bin _time): a burst across a bucket boundary can stay under "
    "the threshold; zdlogs counts any {timespan} window",
    "elasticsearch": "counts in fixed {timespan} buckets (date_trunc of @timestamp): a burst across a bucket "
    "boundary can stay under the threshold; zdlogs counts any {timespan} window",
    "secops": "counts in YARA-L hop windows of {timespan}: one burst can give more than one detection, which "
    "zdlogs merges into one finding",
}
REGEX_NOTES = {
    "elasticsearch": "its regular expression runs as ES|QL RLIKE, Lucene's syntax: the whole value must match and "
    "the (?i)/(?m) flags are not understood; rewrite it before enabling the rule",
    "secops": "YARA-L matches a regular expression against the first line of a multi-line field unless it "
    "starts with (?s) (Google's re.regex notes); a wording on a later line of change_description is missed",
}


def _uses_regex(rule: Any) -> bool:
    """Whether any detection item of the rule uses the ``re`` modifier."""
    from sigma.rule import SigmaDetection
    from sigma.types import SigmaRegularExpression

    def items(detection: Any) -> Any:
        for item in detection.detection_items:
            yield from items(item) if isinstance(item, SigmaDetection) else (item,)

    values = [value for d in rule.detection.detections.values() for item in items(d) for value in item.value]
    return any(isinstance(value, SigmaRegularExpression) for value in values)


def _members(rule: Rule) -> Any:
    """A collection of the rule and, for a correlation, the rule it counts (pySigma converts them together)."""
    from sigma.collection import SigmaCollection

    return SigmaCollection([rule.base, rule.sigma] if rule.sigma is not rule.base else [rule.sigma])


def _secops(rule: Rule, notes: tuple[str, ...]) -> Converted:
    from zdlogs.detections import yaral
    from zdlogs.detections.pipelines import field_mapping, pipeline_for

    backend = yaral.ZdlogsSecOpsBackend(pipeline_for("secops") + yaral.event_variable_pipeline())
    events = yaral.events_section(rule.base, backend)
    correlation = rule.sigma if rule.evaluation == "correlation" else None
    mapping = field_mapping("secops", rule.service)
    group_by = tuple((raw, mapping[raw]) for raw in getattr(correlation, "group_by", None) or ())
    text = yaral.yaral_rule(rule.name, _meta(rule, notes), events, correlation, group_by, notes)
    return Converted(rule, text, notes)


def _meta(rule: Rule, notes: tuple[str, ...]) -> dict[str, str]:
    return {
        "author": "zdlogs",
        "description": rule.description,
        "severity": rule.level.upper(),
        "sigma_id": str(rule.sigma.id or ""),
        "zdlogs_rule": rule.name,
        "false_positives": "; ".join(rule.sigma.falsepositives or ()),
        "reference": ", ".join(rule.sigma.references or ()),
        "not_carried_over": " | ".join(notes),
    }


def _splunk(rule: Rule, notes: tuple[str, ...]) -> Converted:
    from sigma.backends.splunk import SplunkBackend

    from zdlogs.detections.pipelines import pipeline_for

    [query] = SplunkBackend(pipeline_for("splunk")).convert(_members(rule))
    return Converted(rule, str(query).strip() + "\n", notes)


def _elasticsearch(rule: Rule, notes: tuple[str, ...]) -> Converted:
    from sigma.backends.elasticsearch import ESQLBackend

    from zdlogs.detections.pipelines import pipeline_for

    class OfflineESQLBackend(ESQLBackend):
        """ES|QL without the rule's ATT&CK ``threat`` block: pySigma downloads MITRE's catalogue for it, and the
        export runs offline (the tags stay in ``tags``)."""

        def finalize_output_threat_model(self, tags: Any) -> list[Any]:
            return []

    [siem_rule] = OfflineESQLBackend(pipeline_for("elasticsearch")).convert(_members(rule), "siem_rule_ndjson")
    siem_rule = {**siem_rule, "name": f"zdlogs - {rule.title}", "note": "\n".join(f"* {n}" for n in notes)}
    return Converted(rule, json.dumps(siem_rule, ensure_ascii=False) + "\n", notes, siem_rule)


def _kusto(rule: Rule, notes: tuple[str, ...]) -> Converted:
    from sigma.backends.kusto import KustoBackend

    from zdlogs.detections.pipelines import pipeline_for

    [query] = KustoBackend(pipeline_for("kusto")).convert(_members(rule))
    header = [f"// {rule.name}: {rule.title} ({rule.level})", *[f"// not carried over: {n}" for n in notes]]
    return Converted(rule, "\n".join([*header, str(query).strip(), ""]), notes)


_CONVERTERS: dict[str, Callable[[Rule, tuple[str, ...]], Converted]] = {
    "secops": _secops,
    "splunk": _splunk,
    "elasticsearch": _elasticsearch,
    "kusto": _kusto,
}


@dataclass(frozen=True)
class ExportRequest:
    target: str
    output: Path
    rules: tuple[str, ...] = ()


def run_export(request: ExportRequest, echo: Callable[[str], None]) -> list[Converted]:
    """Convert the chosen rules, write one file a rule plus the target's bundle and README; a line a file."""
    from zdlogs.detections.loader import load_rules

    target = require(request.target)
    rule_set = load_rules()
    converted = [convert(target, rule) for rule in rule_set.select(request.rules)]
    for path in write_all(target, converted, request.output):
        echo(f"wrote {path}")
    for item in converted:
        if item.text is None:
            echo(f"skipped {item.rule.name}: {item.notes[-1]}")
    echo(summary(target, converted, request.output))
    return converted


def summary(target: Target, converted: Sequence[Converted], output: Path) -> str:
    written = sum(1 for item in converted if item.text is not None)
    noted = sum(1 for item in converted if item.text is not None and item.notes)
    skipped = len(converted) - written
    return (
        f"{written} {target.name} rules written to {output} ({noted} with what they do not carry over, "
        f"{skipped} not exported): see {output / 'README.md'}"
    )


def write_all(target: Target, converted: Sequence[Converted], output: Path) -> list[Path]:
    """Each converted rule's file, the target's bundle (Splunk's savedsearches.conf) and the README."""
    files = {item.rule.name + target.suffix: item.text for item in converted if item.text is not None}
    if target.name == "splunk":
        files["savedsearches.conf"] = savedsearches(converted)
    files["README.md"] = readme(target, converted)
    return [_write(output, name, text) for name, text in files.items()]


def _write(output: Path, name: str, text: str) -> Path:
    """One file, or the one line that says the directory cannot be written (exit 5)."""
    path = output / name
    try:
        output.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise StorageError(f"cannot write {path}: {exc.strerror or exc}; choose a writable directory with -o") from None
    return path


_SPLUNK_SEVERITY = {"informational": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}


def savedsearches(converted: Sequence[Converted]) -> str:
    """A savedsearches.conf stanza a rule: hourly over the hour that zdlogs' hourly run has had time to index."""
    stanzas = [_stanza(item) for item in converted if item.text is not None]
    return "# zdlogs detection rules (zdlogs detect export --target splunk); see README.md\n\n" + "\n".join(stanzas)


def _stanza(item: Converted) -> str:
    notes = "".join(f" NOT CARRIED OVER: {note}." for note in item.notes)
    search = " \\\n".join(line for line in (item.text or "").strip().splitlines() if line.strip())
    settings = {
        "description": " ".join(f"{item.rule.description}{notes}".split()),
        "search": search,
        "enableSched": "1",
        "cron_schedule": "30 * * * *",
        "dispatch.earliest_time": "-90m@m",
        "dispatch.latest_time": "-30m@m",
        "counttype": "number of events",
        "relation": "greater than",
        "quantity": "0",
        "alert.severity": str(_SPLUNK_SEVERITY[item.rule.level]),
    }
    return f"[{item.rule.name}]\n" + "".join(f"{key} = {value}\n" for key, value in settings.items())


def readme(target: Target, converted: Sequence[Converted]) -> str:
    """The index of what was written: each rule, its file, and what it does not carry over."""
    rows = [
        f"| `{item.rule.name}` | {item.rule.level} | "
        f"{'`' + item.rule.name + target.suffix + '`' if item.text else 'not exported'} | "
        f"{'<br>'.join(item.notes) or '—'} |"
        for item in converted
    ]
    return "\n".join(
        [
            f"# zdlogs detection rules for {target.name}: {target.form}",
            "",
            "Written by `zdlogs detect export`. Where the rules expect the records:",
            "",
            f"* {PLACES[target.name]}",
            "",
            'docs/DETECTIONS.md, "Exporting the rules", has the field mapping and how to deploy them.',
            "",
            "| rule | severity | file | what it does not carry over |",
            "|---|---|---|---|",
            *rows,
            "",
        ]
    )


PLACES = {
    "secops": f"UDM events of log type {SECOPS_LOG_TYPE} (Google's Zendesk parser), under the UDM fields of the "
    "mapping table zdlogs assumes: check it on your instance first",
    "splunk": "; ".join(f"{svc}: index={v['index']} sourcetype={v['sourcetype']}" for svc, v in SPLUNK_SOURCES.items())
    + " (raw JSON field names, KV_MODE = json, _time from created_at / timestamp)",
    "elasticsearch": "; ".join(f"{svc}: {index}" for svc, index in ELASTIC_INDEXES.items())
    + " (raw JSON field names at the top level, @timestamp from created_at / timestamp)",
    "kusto": "; ".join(f"{svc}: {table}" for svc, table in SENTINEL_TABLES.items())
    + " (custom tables whose columns are the raw field names)",
}


TargetOpt = Annotated[str, typer.Option("--target", "-t", help=f"The SIEM: {targets_help()}")]
OutputOpt = Annotated[Path, typer.Option("--output", "-o", help="Directory the rule files are written to")]
RuleOpt = Annotated[list[str] | None, typer.Option("--rule", "-r", help="Export only this rule id (repeatable)")]


def export_command(target: TargetOpt, output: OutputOpt, rule: RuleOpt = None) -> None:
    """Convert the detection rules for a SIEM (pySigma backends): one file a rule, and a README of what each
    rule does not carry over."""
    run_export(ExportRequest(target, output, tuple(rule or ())), typer.echo)
