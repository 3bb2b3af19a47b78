"""What every report produces: rows for a table, a summary for charts and JSON, and how to show them.

Reports are plain data (strings, numbers, lists) once built, so the terminal, JSON and HTML
renderers need no knowledge of DuckDB, and tests compare them to hand-computed values directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

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

    def to_json(self) -> dict[str, Any]:
        return {
            "report": self.name,
            "title": self.title,
            "description": self.description,
            "summary": self.summary,
            "total_rows": self.total_rows,
            "rows": self.rows,
        }


def record_row(values: tuple, columns: tuple[str, ...] = (*CSV_COLUMNS, "id")) -> dict[str, Any]:
    """A query row as a JSON-ready dict; timestamps become Zendesk's ``...Z`` form."""
    return {
        name: iso_z(value) if isinstance(value, datetime) else value
        for name, value in zip(columns, values, strict=True)
    }


def limit_sql(limit: int) -> str:
    """``LIMIT n`` (0 means every row)."""
    return f"LIMIT {int(limit)}" if limit > 0 else ""
