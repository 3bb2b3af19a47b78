"""What every report produces: rows for a table, a summary for charts and JSON, and how to show them.

Reports are plain data (strings, numbers, lists) once built, so the terminal, JSON and HTML
renderers need no knowledge of DuckDB, and tests compare them to hand-computed values directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from zdlogs.analysis.engine import AuditData
from zdlogs.analysis.filters import Filters
from zdlogs.analysis.schema import CSV_COLUMNS
from zdlogs.times import iso_z

DEFAULT_LIMIT = 100
# The columns a report lists for each record (ids are in the JSON rows, not in the table).
TABLE_COLUMNS = [name for name in CSV_COLUMNS if name != "actor_id"]
RECORD_FIELDS = [*CSV_COLUMNS, "id"]  # a report's record is the analyst's CSV row, and its id
RECORD_SELECT = ", ".join(RECORD_FIELDS)
TENANT = "tenant"  # the first column of every report over several tenants of a fleet


@dataclass
class Report:
    """One report: ``rows`` (at most ``limit``) of ``columns``, ``total_rows`` before the limit."""

    name: str
    title: str
    description: str
    columns: list[str]
    rows: list[dict[str, Any]]
    total_rows: int
    summary: dict[str, Any] = field(default_factory=dict)
    highlight: str | None = None  # a row key: rows where it is true are highlighted (rule changes)
    notes: list[str] = field(default_factory=list)  # the findings in a sentence each, under the table
    fields: list[str] = field(default_factory=list)  # every key of a row, in order: the CSV's columns
    empty: str = "Nothing matched"  # what a report without rows found, in its own words ("No rule changes")
    coverage: dict[str, Any] | None = None  # set on a report without rows: what the data covers instead
    tenants: list[str] = field(default_factory=list)  # the fleet's tenants read, when several (else empty)

    def to_json(self) -> dict[str, Any]:
        return (
            {
                "report": self.name,
                "title": self.title,
                "description": self.description,
                "summary": self.summary,
                "total_rows": self.total_rows,
                "rows": self.rows,
            }
            | ({"tenants": self.tenants} if self.tenants else {})
            | ({"coverage": self.coverage} if self.coverage else {})
        )


def explain_empty(report: Report, data: AuditData, source: str) -> None:
    """A report that found nothing says so and what the data covers (record count, first and last time) in
    place of an empty table: a name that matches no actor or a time outside the collected range then reads
    differently from a quiet account. Sets ``coverage`` and adds its sentence to the notes."""
    if not report.total_rows:
        report.coverage = coverage(data, report.empty, source)
        report.notes.append(report.coverage["message"])


def coverage(data: AuditData, empty: str, source: str) -> dict[str, Any]:
    """What the data covers, for a result without rows: the records matching the filters if any (the report's
    own criteria left them out: ``empty`` says how), else every record of ``source``; and a sentence saying it."""
    filtered = data.filters != Filters()
    count, first, last = data.extent()
    matching = count > 0
    if not matching:
        count, first, last = data.unfiltered().extent()
    span = {"records": count, "first": iso_z(first) if first else None, "last": iso_z(last) if last else None}
    message = _empty_sentence(empty, data.filters if filtered else None, source, matching, span)
    return {"message": message, **span, "matching_filters": filtered and matching}


def _empty_sentence(empty: str, filters: Filters | None, source: str, matching: bool, span: dict[str, Any]) -> str:
    covers = f"{span['records']} records from {span['first']} to {span['last']}"
    if matching:
        scope = f"matching the filters ({filters.describe()})" if filters else f"in {source}"
        return f"{empty}; the {span['records']} records {scope} run from {span['first']} to {span['last']}."
    if not filters:
        return f"{source} holds no audit records."
    if not span["records"]:
        return f"No audit records match the filters ({filters.describe()}) in {source}."
    return f"No records match the filters ({filters.describe()}); {source} holds {covers}."


def record_row(values: tuple, columns: tuple[str, ...] = (*CSV_COLUMNS, "id")) -> dict[str, Any]:
    """A query row as a JSON-ready dict; timestamps become Zendesk's ``...Z`` form."""
    return {
        name: iso_z(value) if isinstance(value, datetime) else value
        for name, value in zip(columns, values, strict=True)
    }


def limit_sql(limit: int) -> str:
    """``LIMIT n`` (0 means every row)."""
    return f"LIMIT {int(limit)}" if limit > 0 else ""


def with_tenant(data: AuditData, names: Sequence[str]) -> list[str]:
    """``names`` led by ``tenant`` when several tenants are read, so each row says whose record or actor it is;
    one input's reports stay as they were."""
    return [TENANT, *names] if data.tenants else list(names)


def tenant_row(data: AuditData, tenant: str | None, row: dict[str, Any]) -> dict[str, Any]:
    """``row`` led by its tenant when several tenants are read."""
    return {TENANT: tenant, **row} if data.tenants else row


def by_tenant(data: AuditData, query: str, params: dict[str, Any] | None = None) -> dict[str, int]:
    """The rows of ``query`` (a query over ``{audit}`` keeping its ``tenant`` column) per tenant read, zeros
    included: a report's breakdown across a fleet. Empty for one input."""
    if not data.tenants:
        return {}
    counts = dict(data.rows(f"SELECT tenant, count(*) FROM ({query}) GROUP BY 1", params))
    return {name: int(counts.get(name, 0)) for name in data.tenants}


def tenant_summary(data: AuditData, query: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """``{"by_tenant": ...}`` (see :func:`by_tenant`) to add to a report's summary; nothing for one input."""
    breakdown = by_tenant(data, query, params)
    return {"by_tenant": breakdown} if breakdown else {}


def tenant_notes(summary: dict[str, Any]) -> list[str]:
    """``Per tenant: acme 120, globex 0.`` from a summary's ``by_tenant``, or nothing for one input."""
    breakdown = summary.get("by_tenant") or {}
    return [f"Per tenant: {', '.join(f'{name} {n}' for name, n in breakdown.items())}."] if breakdown else []


def tenant_prefix(item: dict[str, Any]) -> str:
    """``acme: `` before an actor or record of tenant acme across a fleet; nothing for one input."""
    return f"{item[TENANT]}: " if item.get(TENANT) else ""


def actor_label(item: dict[str, Any]) -> str:
    """An actor as charts name it: its name (else its id), after its tenant across a fleet."""
    return tenant_prefix(item) + (item.get("actor_name") or str(item.get("actor_id")))
