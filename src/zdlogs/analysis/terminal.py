"""Reports on a terminal (rich tables, or one block per record where no table fits), as JSON and as CSV.

A report must never show a wrong figure, whatever the width of the terminal or of the pipe it goes to:
numbers, ids, times and addresses ("fixed" columns) are never cut or wrapped; text columns wrap, down to a
readable minimum width each. The table is laid out here, not by rich, so those rules hold: the widest style
whose columns all fit at their minimum is chosen (boxed, else two spaces between columns), the width
left over goes to the text columns, and when not even the tightest table fits, each record becomes a block
(a heading, the fixed fields in ``label value`` pairs, then one wrapped line per text field).

Activity adds a sparkline of each actor's timeline, squeezed to the width it gets (neighbours summed, so a
narrower timeline is coarser, never cut), and the incident report highlights rule changes, as the seed
guide's analysts look for both.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, Any

from rich import box
from rich.cells import cell_len
from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from zdlogs.analysis.reports.base import Report

SPARKS = "▁▂▃▄▅▆▇█"
SPARK_WIDTH = 24
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
FIXED = {*TIMES, *NUMERIC, "offset", "ip_address", "action", "tenant"}  # never cut nor wrapped
MIN_TEXT = 12  # a text column narrower than this is a column of word fragments: a block reads better
MIN_WIDTH = {"kind": 10, "reasons": 10, "source_label": 20, "change_description": 24, "timeline": 8}
FLEX = {"source_label": 2, "change_description": 3}  # the long texts take most of the width left over
MARKER, TIMELINE = "rule", "timeline"


@dataclass(frozen=True)
class Style:
    """A table style and its width beyond the columns' own: ``per_column * n + extra``."""

    name: str
    per_column: int
    extra: int
    options: dict[str, Any] = field(default_factory=dict)

    def room(self, width: int, columns: int) -> int:
        return width - self.per_column * columns - self.extra


STYLES = (  # one space between columns reads as one column: below two, blocks read better
    Style("boxed", 3, 1, {"box": box.HEAVY_HEAD}),
    Style("compact", 2, -2, {"box": box.SIMPLE_HEAD, "show_edge": False, "pad_edge": False, "collapse_padding": True}),
)


@dataclass(frozen=True)
class Column:
    """One column of a report as shown: its cells as text (the timeline's from each row's series)."""

    key: str
    header: str
    cells: list[str]
    series: list[list[int]] = field(default_factory=list)

    @property
    def fixed(self) -> bool:
        return self.key in FIXED or self.key == MARKER

    @property
    def natural(self) -> int:
        lines = [self.header, *(line for cell in self.cells for line in cell.splitlines())]
        return max(cell_len(line) for line in lines)

    @property
    def minimum(self) -> int:
        if self.fixed:
            return self.natural
        longest_word = max(cell_len(word) for word in self.header.split())
        return max(longest_word, min(self.natural, MIN_WIDTH.get(self.key, MIN_TEXT)))

    def cell(self, row: int, width: int) -> str:
        return sparkline(self.series[row], width) if self.key == TIMELINE else self.cells[row]


def render_json(reports: list[Report]) -> str:
    """One JSON object for one report, a list for several: stable keys, UTF-8 kept readable."""
    payload: Any = reports[0].to_json() if len(reports) == 1 else [report.to_json() for report in reports]
    return json.dumps(payload, ensure_ascii=False, indent=2)


def write_csv(report: Report, stream: IO[str]) -> None:
    """The report's rows as CSV: every field of the JSON rows, times as ``...Z``, lists joined with ``; ``;
    activity's timeline as one column per day or week (named by its first day)."""
    periods = report.summary.get("periods", []) if report.name == "activity" else []
    writer = csv.writer(stream, lineterminator="\n")
    fields = report.fields or report.columns
    writer.writerow([*fields, *periods])
    for row in report.rows:
        writer.writerow([_csv_value(row.get(name)) for name in fields] + row.get("series", [])[: len(periods)])


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "; ".join(map(str, value))
    return str(value)


def print_report(report: Report, console: Console | None = None) -> None:
    console = console or Console()
    if report.tenants:
        console.print(f"Tenants read: {', '.join(report.tenants)}", highlight=False, style="dim")
    renderables = render(report, console.width) if report.rows else [Text(report.title, style="italic")]
    for renderable in renderables:
        console.print(renderable, crop=False)
    for note in report.notes:
        console.print(note, highlight=False)
    if report.total_rows > len(report.rows):
        more = "--top N shows more" if report.name == "activity" else "--limit 0 shows all"
        console.print(f"Showing {len(report.rows)} of {report.total_rows} rows ({more}).", style="dim")


def render(report: Report, width: int) -> list[RenderableType]:
    """The report's rows at ``width`` columns: the widest table style that fits, else one block per row."""
    columns = report_columns(report)
    for style in STYLES:
        widths = fit(columns, style.room(width, len(columns)))
        if widths is not None:
            return [build_table(report, columns, widths, style)]
    return build_blocks(report, [column for column in columns if column.key != MARKER], width)


def report_columns(report: Report) -> list[Column]:
    rows = report.rows
    columns = [Column(key, HEADERS.get(key, key), [_text(row.get(key), key) for row in rows]) for key in report.columns]
    if report.highlight:
        columns.insert(0, Column(MARKER, MARKER, ["◆" if row.get(report.highlight) else "" for row in rows]))
    if report.name == "activity":
        series = [list(row.get("series", [])) for row in rows]
        columns.append(Column(TIMELINE, TIMELINE, [sparkline(values, SPARK_WIDTH) for values in series], series))
    return columns


def fit(columns: list[Column], room: int) -> list[int] | None:
    """Column widths within ``room`` (every column at least its minimum, the rest shared by the text columns
    in proportion to FLEX, none beyond what its longest cell needs), or None when the minimums do not fit."""
    widths = [column.minimum for column in columns]
    spare = room - sum(widths)
    if spare < 0:
        return None
    while spare > 0:
        growing = [i for i, column in enumerate(columns) if widths[i] < column.natural]
        if not growing:
            break
        weights = {i: FLEX.get(columns[i].key, 1) for i in growing}
        budget = spare
        for i in sorted(growing, key=lambda i: -weights[i]):
            share = max(1, budget * weights[i] // sum(weights.values()))
            grant = min(share, columns[i].natural - widths[i], spare)
            widths[i] += grant
            spare -= grant
    return widths


def build_table(report: Report, columns: list[Column], widths: list[int], style: Style = STYLES[0]) -> Table:
    table = Table(title=report.title, caption=report.description, **style.options)
    for column, width in zip(columns, widths, strict=True):
        table.add_column(
            column.header,
            justify="right" if column.key in NUMERIC else "center" if column.key == MARKER else "left",
            width=width,
            no_wrap=column.fixed,
            overflow="fold",
        )
    for index, row in enumerate(report.rows):
        cells = [column.cell(index, width) for column, width in zip(columns, widths, strict=True)]
        table.add_row(*cells, style=_style(report, row))
    return table


def build_blocks(report: Report, columns: list[Column], width: int) -> list[RenderableType]:
    """One block per row for terminals too narrow for any table: nothing is cut, text wraps under its label."""
    lead = 1  # the heading: the first column, and the fixed ones after it when it is fixed (offset, time)
    while columns[0].fixed and lead < len(columns) and columns[lead].fixed:
        lead += 1
    out: list[RenderableType] = [Text(report.title, style="italic"), Text(report.description, style="dim")]
    for index, row in enumerate(report.rows):
        marker = ["◆ rule change"] if report.highlight and row.get(report.highlight) else []
        heading = _packed([*marker, *(column.cells[index] for column in columns[:lead])], width)
        out += [Text("")] + [_unbroken(line, _style(report, row) or "bold") for line in heading]
        fixed = [column for column in columns[lead:] if column.fixed and column.cells[index]]
        pairs = [f"{column.header} {column.cells[index]}" for column in fixed]
        out += [_unbroken("  " + line) for line in _packed(pairs, width - 2)]
        out.append(Padding(_fields_grid(columns[lead:], index, width), (0, 0, 0, 2), expand=False))
    return [Group(*out, Text(""))] if report.rows else out[:2]


def _fields_grid(columns: list[Column], index: int, width: int) -> Table:
    texts = [column for column in columns if not column.fixed and (column.cells[index] or column.series)]
    label_width = max((cell_len(column.header) for column in texts), default=0)
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True, style="dim")
    grid.add_column(overflow="fold")
    for column in texts:
        grid.add_row(column.header, column.cell(index, max(4, min(SPARK_WIDTH, width - label_width - 4))))
    return grid


def _unbroken(line: str, style: str = "") -> Text:
    """A line of fixed values: never wrapped inside a value (``_packed`` kept it within the width)."""
    return Text(line, style=style, no_wrap=True, overflow="ignore")


def _packed(pairs: Iterable[str], width: int) -> list[str]:
    """``label value`` pairs joined by two spaces into lines of at most ``width`` (a longer pair alone)."""
    lines: list[str] = []
    for pair in pairs:
        if lines and cell_len(lines[-1]) + 2 + cell_len(pair) <= width:
            lines[-1] += "  " + pair
        else:
            lines.append(pair)
    return lines


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


def sparkline(values: list[int], width: int = SPARK_WIDTH) -> str:
    """Counts as block characters, squeezed to at most ``width`` by summing neighbours."""
    if not values:
        return ""
    step = max(1, -(-len(values) // max(1, width)))
    buckets = [sum(values[i : i + step]) for i in range(0, len(values), step)]
    top = max(buckets) or 1
    return "".join(" " if n == 0 else SPARKS[min(len(SPARKS) - 1, n * len(SPARKS) // (top + 1))] for n in buckets)


class ReportConsole(Console):
    """rich's console, except that a closed pipe (``| head``) is raised as BrokenPipeError rather than rich's own
    exit 1, so the command can end quietly with 0 like any filter that lost its reader."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError
