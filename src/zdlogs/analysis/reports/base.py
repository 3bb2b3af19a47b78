"""What every report produces: rows for a table, a summary for charts and JSON, and how to show them.

Reports are plain data (strings, numbers, lists) once built, so the terminal, JSON and HTML
renderers need no knowledge of DuckDB, and tests compare them to hand-computed values directly.
"""

from __future__ import annotations

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

    def to_json(self) -> dict[str, Any]:
        return {
            "report": self.name,
            "title": self.title,
            "description": self.description,
            "summary": self.summary,
            "total_rows": self.total_rows,
            "rows": self.rows,
        } | ({"coverage": self.coverage} if self.coverage else {})


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
