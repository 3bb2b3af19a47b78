"""A Sigma rule's detection as a DuckDB ``WHERE`` clause, generated from pySigma's parsed condition.

pySigma has already done the hard part: the condition (``selection and not filter``, ``1 of selection_*``)
is a tree of AND/OR/NOT whose leaves are one field compared with one value, the modifiers applied
(``contains`` and ``startswith`` are wildcards in the value, ``re`` a regular expression with its flags).
This module only writes each leaf as SQL, with Sigma's meaning:

* strings match case-insensitively unless ``|cased``; ``*`` and ``?`` are ILIKE's ``%`` and ``_``;
* a leaf on a missing (NULL) field is false, so ``not filter`` holds for it (SQL's NULL would drop the row);
* every value is a query parameter, never text in the SQL: a rule's value cannot change the query.

Fields must be the stream's known columns, so a misspelt field fails when the rule loads, not silently.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from zdlogs.errors import ConfigError

_LIKE_ESCAPES = str.maketrans({"\\": "\\\\", "%": "\\%", "_": "\\_"})
_REGEX_FLAGS = {"IGNORECASE": "i", "MULTILINE": "m", "DOTALL": "s"}
_COMPARISONS = {"LT": "<", "LTE": "<=", "GT": ">", "GTE": ">="}


@dataclass
class Where:
    """A WHERE body and the parameters it names (``$sigma_1``...), for the columns of ``fields``."""

    fields: Mapping[str, str]
    rule: str
    params: dict[str, Any] = field(default_factory=dict)
    _names: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def param(self, value: Any) -> str:
        name = f"sigma_{next(self._names)}"
        self.params[name] = value
        return f"${name}"

    def column(self, name: str | None) -> str:
        if name is None or name not in self.fields:
            known = ", ".join(self.fields)
            raise ConfigError(f"detection rule {self.rule}: field {name!r} is not one of {known}; fix the rule file")
        return '"' + name.replace('"', '""') + '"'


def detection_sql(rule: Any, fields: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    """``rule``'s condition (a pySigma SigmaRule) as (WHERE body, parameters) over columns named as ``fields``."""
    where = Where(fields, rule.name)
    parts = [_node(condition.parsed, where) for condition in rule.detection.parsed_condition]
    return " OR ".join(f"({part})" for part in parts), where.params


def _node(node: Any, where: Where) -> str:
    kind = type(node).__name__
    if kind in ("ConditionAND", "ConditionOR"):
        joiner = " AND " if kind == "ConditionAND" else " OR "
        return "(" + joiner.join(_node(arg, where) for arg in node.args) + ")"
    if kind == "ConditionNOT":
        return f"(NOT {_node(node.args[0], where)})"
    if kind == "ConditionFieldEqualsValueExpression":
        return _leaf(where.column(node.field), node.value, where)
    raise ConfigError(f"detection rule {where.rule}: {kind} (a value without a field) is not supported; name the field")


def _leaf(column: str, value: Any, where: Where) -> str:
    """One field compared with one value; false, not NULL, when the field is missing."""
    kind = type(value).__name__
    if kind == "SigmaNull":
        return f"({column} IS NULL)"
    if kind == "SigmaExists":
        return f"({column} IS {'NOT ' if value.exists else ''}NULL)"
    return f"coalesce({_compare(column, value, where)}, FALSE)"


def _compare(column: str, value: Any, where: Where) -> str:
    kind = type(value).__name__
    text = f"CAST({column} AS VARCHAR)"
    if kind in ("SigmaString", "SigmaCasedString"):
        return _string(text, value, kind == "SigmaCasedString", where)
    if kind == "SigmaRegularExpression":
        flags = "".join(sorted(_REGEX_FLAGS[flag.name] for flag in value.flags))
        pattern = (f"(?{flags})" if flags else "") + value.regexp.original
        return f"regexp_matches({text}, {where.param(pattern)})"
    if kind == "SigmaNumber":
        return f"{column} = {where.param(value.number)}"
    if kind == "SigmaBool":
        return f"{column} = {where.param(bool(value.boolean))}"
    if kind == "SigmaCompareExpression":
        return f"{column} {_COMPARISONS[value.op.name]} {where.param(value.number.number)}"
    raise ConfigError(f"detection rule {where.rule}: a {kind} value is not supported by zdlogs detect")


def _string(text: str, value: Any, cased: bool, where: Where) -> str:
    """Equality when the value has no wildcard, else (I)LIKE with ``*`` -> ``%`` and ``?`` -> ``_``."""
    if not value.contains_special():
        plain = "".join(part for part in value.s if isinstance(part, str))  # escapes (\\*) resolved
        plain = plain if cased else plain.lower()
        return f"{text if cased else f'lower({text})'} = {where.param(plain)}"
    pattern = "".join(_like_part(part) for part in value.s)
    return f"{text} {'LIKE' if cased else 'ILIKE'} {where.param(pattern)} ESCAPE '\\'"


def _like_part(part: Any) -> str:
    if isinstance(part, str):
        return part.translate(_LIKE_ESCAPES)
    return {"WILDCARD_MULTI": "%", "WILDCARD_SINGLE": "_"}.get(part.name, "")
