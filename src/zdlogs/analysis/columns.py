"""Which fields a CSV gets, and the SQL that renders each as text.

The default is the eight columns analysts expect. ``--all-columns`` adds every field found in the
records, nested objects flattened to dotted names (``via.source.rel``) and lists kept as JSON text,
like ``pandas.json_normalize`` in the seed guide's script but without loading the data in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zdlogs.analysis.schema import ALL_KNOWN_COLUMNS, AUDIT_FIELDS, CSV_COLUMNS


@dataclass(frozen=True)
class Column:
    """A CSV header and the SQL expression (over ``{audit}``) giving its text."""

    name: str
    sql: str
    numeric: bool = False


def _quoted(path: tuple[str, ...]) -> str:
    return ".".join('"' + part.replace('"', '""') + '"' for part in path)


def known_column(name: str) -> Column:
    if name == "created_at":
        return Column(name, "strftime(created_at, '%Y-%m-%dT%H:%M:%SZ')")
    return Column(name, _quoted((name,)), numeric=AUDIT_FIELDS[name] == "BIGINT")


def default_columns() -> list[Column]:
    return [known_column(name) for name in CSV_COLUMNS]


def all_columns(inferred: list[tuple[str, Any]]) -> list[Column]:
    """The documented fields in a fixed order, then every other field found, flattened, in name order."""
    extra = sorted((column for name, kind in inferred for column in _flatten((name,), kind)), key=lambda c: c.name)
    return [known_column(name) for name in ALL_KNOWN_COLUMNS] + extra


def _flatten(path: tuple[str, ...], kind: Any) -> list[Column]:
    """A struct becomes one column per leaf; lists, maps and JSON stay one column of JSON text."""
    type_id = getattr(kind, "id", "")
    if path[0] in AUDIT_FIELDS:
        return []
    if type_id == "struct":
        return [column for child, child_kind in kind.children for column in _flatten((*path, child), child_kind)]
    name = ".".join(path)
    if type_id in ("list", "map", "array", "json", "union"):
        return [Column(name, f"CAST(to_json({_quoted(path)}) AS VARCHAR)")]
    numeric = type_id in ("bigint", "integer", "double", "hugeint", "ubigint", "smallint", "tinyint", "decimal")
    return [Column(name, f"CAST({_quoted(path)} AS VARCHAR)", numeric=numeric)]


def read_types(inferred: list[tuple[str, Any]]) -> dict[str, str]:
    """The explicit reader schema for --all-columns: our types for known fields, DuckDB's guess for others."""
    types = {name: _type_text(kind) for name, kind in inferred if name not in AUDIT_FIELDS}
    return {**AUDIT_FIELDS, **types}


def _type_text(kind: Any) -> str:
    """DuckDB calls a field that was null everywhere "NULL"; read it as text."""
    text = str(kind).replace('"NULL"', "VARCHAR")
    return "VARCHAR" if text.upper() == "NULL" else text
