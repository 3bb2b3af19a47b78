"""The four reports as one self-contained HTML file: inline CSS, inline SVG, no script, no network.

A Content-Security-Policy of ``default-src 'none'`` makes the promise checkable: the browser refuses
any request the page might try, so the file shows the same on an air-gapped laptop, and a hostile
rule title cannot load or run anything (every text is escaped as well).
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from zdlogs._version import __version__
from zdlogs.analysis import svg
from zdlogs.analysis.reports.base import Report, actor_label, tenant_prefix
from zdlogs.analysis.terminal import HEADERS
from zdlogs.analysis.times import BusinessHours
from zdlogs.errors import StorageError
from zdlogs.times import readable_utc, utc_now

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
TABLE_ROWS = 100
HTML_HEADERS = {**HEADERS, "first_seen": "first (UTC)", "last_seen": "last (UTC)"}
TIME_COLUMNS = {"created_at", "local_time", "first_seen", "last_seen", "offset"}
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
h1{font-size:22px;margin-bottom:4px}h2{font-size:18px;margin-top:36px;border-bottom:1px solid #ddd}
.meta{color:#666}.notes li{margin:2px 0}.chart{display:block;margin:12px 0;max-width:100%;height:auto}
table{border-collapse:collapse;width:100%;font-size:12px}th,td{border-bottom:1px solid #eee;padding:3px 6px;
text-align:left;vertical-align:top}th{background:#f6f6f6}tr.hl td{background:#fff1e6;font-weight:600}
td.t{white-space:nowrap}.more{color:#666;font-style:italic}nav a{margin-right:14px}
"""


def write_html(path: Path, reports: list[Report], context: dict[str, Any]) -> None:
    """Write the page atomically (temp file, then rename), so a viewer never opens half a report."""
    page = render_html(reports, context)
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_text(page, encoding="utf-8")
        partial.replace(path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise StorageError(f"cannot write {path} ({exc.strerror}): choose another -o/--output") from None


def render_html(reports: list[Report], context: dict[str, Any]) -> str:
    nav = " ".join(f'<a href="#{r.name}">{escape(r.title)}</a>' for r in reports)
    sections = "\n".join(_section(report, context) for report in reports)
    generated = readable_utc(utc_now())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Zendesk audit log report</title><style>{STYLE}</style></head>
<body><h1>Zendesk audit log report</h1>
<p class="meta">Source: {escape(str(context.get("source", "")))} · Filters: {escape(str(context.get("filters", "")))}
 · Generated {generated} by zdlogs {__version__}</p>
<nav>{nav}</nav>
{sections}
</body></html>
"""


def _section(report: Report, context: dict[str, Any]) -> str:
    notes = "".join(f"<li>{escape(note)}</li>" for note in report.notes)
    return (
        f'<section id="{report.name}"><h2>{escape(report.title)}</h2>'
        f'<p class="meta">{escape(report.description)}</p><ul class="notes">{notes}</ul>'
        f"{_charts(report, context)}{_table(report)}</section>"
    )


def _charts(report: Report, context: dict[str, Any]) -> str:
    draw = {"activity": _activity_charts, "offhours": _offhours_charts, "rules": _rules_charts}
    if report.name == "incident":
        return _incident_chart(report)
    return draw[report.name](report, context) if report.name in draw else ""


def _activity_charts(report: Report, _context: dict[str, Any]) -> str:
    summary = report.summary
    series = [(actor_label(row), row["series"]) for row in report.rows[:7]]
    shown = [sum(values[i] for _, values in series) for i in range(len(summary["periods"]))]
    others = [total - part for total, part in zip(summary["records_per_period"], shown, strict=True)]
    if any(others):
        series.append(("others", others))
    per_actor = [(actor_label(row), row["changes"]) for row in report.rows]
    return svg.stacked_bars(f"Records per {summary['period']} by actor", summary["periods"], series) + svg.hbars(
        "Changes per actor (sign-ins excluded)", per_actor
    )


def _offhours_charts(report: Report, context: dict[str, Any]) -> str:
    hours: BusinessHours | None = context.get("business_hours")
    heat = svg.heatmap(
        f"Changes by local weekday and hour ({hours.zone.key if hours else 'UTC'}); orange border = outside hours",
        report.summary["heatmap"],
        WEEKDAY_NAMES,
        lambda day, hour: hours is not None and not _in_hours(hours, day + 1, hour),
    )
    flagged = [(actor_label(item), item["flagged"]) for item in report.summary["by_actor"]]
    return heat + svg.hbars("Flagged changes per actor", flagged, svg.HIGHLIGHT)


def _in_hours(hours: BusinessHours, weekday: int, hour: int) -> bool:
    """Whether the whole clock hour starting at ``hour`` is business time (for the heatmap border)."""
    if weekday not in hours.workdays:
        return False
    start, end = hours.start.hour + hours.start.minute / 60, (hours.end.hour + hours.end.minute / 60) or 24
    return start <= hour and hour + 1 <= end if start < end else hour >= start or hour + 1 <= end


def _rules_charts(report: Report, _context: dict[str, Any]) -> str:
    per_day = report.summary["per_day"]
    days = [item["day"] for item in per_day]
    counts = [item["changes"] for item in per_day]
    most = [
        (tenant_prefix(item) + (item["source_label"] or str(item["source_id"])), item["changes"])
        for item in report.summary["most_changed"]
    ]
    return svg.stacked_bars("Rule changes per day", days, [("rule changes", counts)]) + svg.hbars(
        "Most changed rules", most
    )


def _incident_chart(report: Report) -> str:
    if not report.summary["window_seconds"]:
        return ""
    points = [(row["offset_seconds"], actor_label(row), row["is_rule"], _tip(row)) for row in report.rows]
    span = report.summary["window_seconds"]
    return svg.timeline("Records around the incident time (orange diamonds: rule changes)", points, span)


def _tip(row: dict[str, Any]) -> str:
    what = f"{row['action']} {row['source_label']}: {row['change_description']}"
    return f"{row['offset']} {tenant_prefix(row)}{row['created_at']} {what}"


def _table(report: Report) -> str:
    head = "".join(f"<th>{escape(HTML_HEADERS.get(column, column))}</th>" for column in report.columns)
    body = "".join(_tr(report, row) for row in report.rows[:TABLE_ROWS])
    shown = min(len(report.rows), TABLE_ROWS)
    more = f'<p class="more">{shown} of {report.total_rows} rows shown.</p>' if report.total_rows > shown else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


def _tr(report: Report, row: dict[str, Any]) -> str:
    css = ' class="hl"' if report.highlight and row.get(report.highlight) else ""
    cells = "".join(f"<td{_td_class(column)}>{escape(_cell(row.get(column)))}</td>" for column in report.columns)
    return f"<tr{css}>{cells}</tr>"


def _td_class(column: str) -> str:
    return ' class="t"' if column in TIME_COLUMNS else ""


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def missing_incident_section() -> Report:
    """Shown when no ``--around`` was given: how to get the incident section."""
    return Report(
        name="incident",
        title="Changes around an incident",
        description="Pass --around TIME (and --window, default 2h) to list the changes before and after it.",
        columns=[],
        rows=[],
        total_rows=0,
        summary={"window_seconds": 0},
    )
