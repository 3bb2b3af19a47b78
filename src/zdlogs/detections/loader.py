"""The shipped rules: every ``rules/*.yml`` parsed and validated by pySigma, then checked for what zdlogs needs.

pySigma reads the YAML into rule objects (detections, modifiers, the condition's parse tree, correlations with
their referenced rules resolved) and its validators report what a Sigma linter would. On top, each rule must
say what zdlogs shows: a ``level`` (the finding's severity), a ``logsource`` of ``product: zendesk`` with
``service: audit`` or ``access``, and a custom ``zdlogs:`` block with the ``summary`` template of its findings
and, for the rules Sigma cannot express alone, the ``evaluation`` zdlogs adds (``offhours``, ``new_ip``).
A rule that fails any of this is a bug of the package, reported with the file's name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any

import yaml

from zdlogs.analysis.schema import AUDIT_FIELDS
from zdlogs.errors import ConfigError

if TYPE_CHECKING:
    from sigma.rule import SigmaRule

SEVERITIES = ("informational", "low", "medium", "high", "critical")  # Sigma's levels, lowest first
SERVICES = ("audit", "access")
EVALUATIONS = ("match", "correlation", "offhours", "new_ip")
_ZDLOGS_ONLY = ("offhours", "new_ip")


def sigma_modules() -> Any:
    """pySigma, or the one line that says how to install it (the optional ``detect`` extra)."""
    try:
        import sigma.collection
        import sigma.validation
        import sigma.validators.core
    except ImportError:
        raise ConfigError("zdlogs detect needs pySigma and DuckDB: pip install 'zdlogs[detect]'") from None
    return sigma


@dataclass(frozen=True)
class Rule:
    """One shipped rule as zdlogs runs it. ``sigma``: the pySigma object; ``base``: the rule whose detection
    selects the records (itself, or the one a correlation counts)."""

    name: str
    title: str
    level: str
    description: str
    service: str
    evaluation: str
    sigma: Any  # SigmaRule | SigmaCorrelationRule (typed loosely: pySigma's unions need a cast at each use)
    base: SigmaRule
    summary: str
    wording: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)  # the rest of the zdlogs block (baseline: 14d)

    @property
    def severity_rank(self) -> int:
        return SEVERITIES.index(self.level)


@dataclass(frozen=True)
class RuleSet:
    """Every shipped rule; ``runnable``: those that give findings (a correlation's base rule gives none)."""

    rules: tuple[Rule, ...]
    bases: frozenset[str]

    @property
    def runnable(self) -> list[Rule]:
        return [rule for rule in self.rules if rule.name not in self.bases]

    def select(self, names: Sequence[str]) -> list[Rule]:
        """The rules named (all runnable ones when none is), or a ConfigError naming the unknown ids."""
        known = {rule.name: rule for rule in self.runnable}
        unknown = [name for name in names if name not in known]
        if unknown:
            raise ConfigError(
                f"--rule {', '.join(unknown)}: no such rule; use one of {', '.join(sorted(known))} "
                "(`zdlogs detect --help`, docs/DETECTIONS.md)"
            )
        return [known[name] for name in dict.fromkeys(names)] if names else self.runnable


def rule_texts() -> dict[str, str]:
    """The YAML of every shipped rule by file name, read from the installed package."""
    folder = resources.files("zdlogs.detections") / "rules"
    return {item.name: item.read_text(encoding="utf-8") for item in folder.iterdir() if item.name.endswith(".yml")}


def load_rules(texts: dict[str, str] | None = None) -> RuleSet:
    """The rules of ``texts`` (file name -> YAML; the shipped ones by default), parsed, validated, checked."""
    sigma = sigma_modules()
    texts = rule_texts() if texts is None else texts
    documents = [_document(name, text) for name, text in sorted(texts.items())]
    try:
        collection = sigma.collection.SigmaCollection.from_dicts(documents)
    except sigma.exceptions.SigmaError as exc:
        raise ConfigError(f"detection rules: {exc}; fix the rule file") from None
    _validate(sigma, collection.rules)
    bases = frozenset(ref.rule.name for item in collection.rules if _is_correlation(item) for ref in item.rules)
    return RuleSet(tuple(_rule(item) for item in collection.rules), bases)


def _document(name: str, text: str) -> dict[str, Any]:
    """One rule file's YAML (one rule a file), marked with its file name for the messages."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"detection rule {name} is not YAML ({exc}); fix the rule file") from None
    if not isinstance(document, dict):
        raise ConfigError(f"detection rule {name} holds no rule; fix the rule file")
    return {**document, "zdlogs_file": name}


def _validate(sigma: Any, rules: Iterable[Any]) -> None:
    """pySigma's own validators (those that apply to a private rule set: not the SigmaHQ tag conventions)."""
    checks = [check for key, check in sigma.validators.core.validators.items() if key not in _SKIPPED_VALIDATORS]
    issues = sigma.validation.SigmaValidator(checks).validate_rules(rules)
    if issues:
        first = issues[0]
        names = ", ".join(sorted({str(getattr(rule, "name", rule)) for rule in first.rules}))
        raise ConfigError(f"detection rule {names}: {first.description}; fix the rule file")


# SigmaHQ's filename conventions; the check that flags our own zdlogs: block; and the ATT&CK and D3FEND tag
# checks, which download MITRE's catalogues from the network on first use (pySigma 2): detect runs offline.
_SKIPPED_VALIDATORS = frozenset(
    {"filename_length", "custom_attributes", "duplicate_filename", "attacktag", "d3_fendtag"}
)


def _is_correlation(item: Any) -> bool:
    return type(item).__name__ == "SigmaCorrelationRule"


def _rule(item: Any) -> Rule:
    """A pySigma rule as zdlogs runs it, or a ConfigError naming what its file lacks."""
    extra = dict(item.custom_attributes.get("zdlogs") or {})
    where = item.custom_attributes.get("zdlogs_file", item.name)
    base = _base(item, where)
    evaluation = str(extra.pop("evaluation", "correlation" if _is_correlation(item) else "match"))
    problems = [
        "no name" if not item.name else "",
        "no level" if item.level is None else "",
        "logsource is not product: zendesk, service: audit or access"
        if base.logsource.product != "zendesk" or base.logsource.service not in SERVICES
        else "",
        "no zdlogs.summary" if not extra.get("summary") else "",
        f"zdlogs.evaluation {evaluation!r} is not one of {', '.join(_ZDLOGS_ONLY)}"
        if evaluation not in EVALUATIONS or (evaluation == "correlation") != _is_correlation(item)
        else "",
    ]
    if any(problems):
        raise ConfigError(f"detection rule {where}: {'; '.join(p for p in problems if p)}; fix the rule file")
    _check_condition(base, where)
    return Rule(
        name=item.name,
        title=item.title,
        level=item.level.name.lower(),
        description=" ".join(str(item.description or "").split()),
        service=base.logsource.service,
        evaluation=evaluation,
        sigma=item,
        base=base,
        summary=str(extra.pop("summary")),
        wording=tuple(str(text) for text in extra.pop("wording", ()) or ()),
        options=extra,
    )


def _check_condition(base: Any, where: str) -> None:
    """The condition parsed and written as SQL now (pySigma parses it lazily): an undefined identifier or a field
    the stream does not have fails at load, naming the file, not in the middle of a run."""
    from sigma.exceptions import SigmaError

    from zdlogs.detections.records import ACCESS_FIELDS
    from zdlogs.detections.sql import detection_sql

    fields = ACCESS_FIELDS if base.logsource.service == "access" else AUDIT_FIELDS
    try:
        detection_sql(base, fields)
    except SigmaError as exc:
        raise ConfigError(f"detection rule {where}: {exc}; fix the rule file") from None
    except ConfigError as exc:
        raise ConfigError(f"{exc}".replace(f"detection rule {base.name}", f"detection rule {where}", 1)) from None


def _base(item: Any, where: str) -> Any:
    """The rule whose detection selects the records: a correlation's one referenced rule, or the rule itself."""
    if not _is_correlation(item):
        return item
    if len(item.rules) != 1:
        raise ConfigError(f"detection rule {where}: a correlation here counts exactly one rule; fix the rule file")
    return item.rules[0].rule
