"""Reports as rich tables on a terminal (and as JSON for scripts and SIEM enrichment).

One generic table per report, driven by ``Report.columns``; activity adds a sparkline of each actor's
timeline and the incident report highlights rule changes, as the seed guide's analysts look for both.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from zdlogs.analysis.reports.base import Report

SPARKS = "▁▂▃▄▅▆▇█"
HEADERS = {
    "actor_name": "actor",
    "actor_id": "actor id",
    "sign_ins": "sign-ins",
    "active_periods": "active",
    "source_type": "type",
    "source_label": "item",
    "change_description": "change",
    "ip_address": "ip",
    "created_at": "time (UTC)",
    "first_seen": "first day",
    "last_seen": "last day",
    "local_time": "local time",
}
NUMERIC = {"total", "changes", "sign_ins", "active_periods", "actor_id"}
TIMES = {"created_at", "first_seen", "last_seen", "local_time"}
MIN_WIDTH = {"actor_name": 10, "reasons": 10}
FLEX = {"source_label": 2, "change_description": 3}  # the long texts take the width left by the short columns
NO_WRAP = {*TIMES, *NUMERIC, "offset", "ip_address", "action"}


class ReportConsole(Console):
    """rich's console, except that a closed pipe (``| head``) is raised as BrokenPipeError rather than rich's own
    exit 1, so the command can end quietly with 0 like any filter that lost its reader."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError


def render_json(reports: list[Report]) -> str:
    """One JSON object for one report, a list for several: stable keys, UTF-8 kept readable."""
    payload: Any = reports[0].to_json() if len(reports) == 1 else [report.to_json() for report in reports]
    return json.dumps(payload, ensure_ascii=False, indent=2)


def print_report(report: Report, console: Console | None = None) -> None:
    console = console or Console()
    console.print(build_table(report))
    for note in report.notes:
        console.print(note, highlight=False)
    if report.total_rows > len(report.rows):
        more = "--top N shows more" if report.name == "activity" else "--limit 0 shows all"
        console.print(f"Showing {len(report.rows)} of {report.total_rows} rows ({more}).", style="dim")


def build_table(report: Report) -> Table:
    flexible = any(column in FLEX for column in report.columns)
    table = Table(title=report.title, caption=report.description, expand=flexible)
    if report.highlight:
        table.add_column("rule", justify="center", no_wrap=True)
    for column in report.columns:
        table.add_column(
            HEADERS.get(column, column),
            justify="right" if column in NUMERIC else "left",
            no_wrap=column in NO_WRAP,
            min_width=MIN_WIDTH.get(column),
            ratio=FLEX.get(column),
            overflow="fold",
        )
    if report.name == "activity":
        table.add_column("timeline", no_wrap=True)
    for row in report.rows:
        table.add_row(*_cells(report, row), style=_style(report, row))
    return table


def _cells(report: Report, row: dict[str, Any]) -> list[str | Text]:
    cells: list[str | Text] = [_text(row.get(column), column) for column in report.columns]
    if report.highlight:
        cells.insert(0, "◆" if row.get(report.highlight) else "")
    if report.name == "activity":
        cells.append(sparkline(row.get("series", [])))
    return cells


def _style(report: Report, row: dict[str, Any]) -> str | None:
    return "bold yellow" if report.highlight and row.get(report.highlight) else None


def _text(value: Any, column: str = "") -> str:
    """Timestamps without ``T``/``Z`` (the header says UTC or local), first/last as days: narrower tables."""
    if value is None:
        return ""
    if column in ("first_seen", "last_seen") and isinstance(value, str):
        return value[:10]
    if column in TIMES and isinstance(value, str):
        return value.replace("T", " ").removesuffix("Z")
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def sparkline(values: list[int], width: int = 24) -> str:
    """Counts as block characters, squeezed to ``width`` by summing neighbours."""
    if not values:
        return ""
    step = max(1, -(-len(values) // width))
    buckets = [sum(values[i : i + step]) for i in range(0, len(values), step)]
    top = max(buckets) or 1
    return "".join(" " if n == 0 else SPARKS[min(len(SPARKS) - 1, n * len(SPARKS) // (top + 1))] for n in buckets)
