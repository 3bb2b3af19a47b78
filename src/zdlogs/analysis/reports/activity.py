"""Activity per admin over time: who makes the changes, how many, and when (per day or per week).

Actors are grouped by ``actor_id`` (a name can change; the latest one is shown), within their tenant when several
tenants of a fleet are read (an id is only unique within one Zendesk account). Sign-ins are counted
apart from changes, because a busy agent signing in daily is not a busy administrator. Periods are
UTC days, or ISO weeks starting on Monday, with empty periods filled so timelines line up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from zdlogs.analysis.engine import AuditData
from zdlogs.analysis.reports.base import Report, limit_sql, tenant_notes, tenant_row, tenant_summary, with_tenant
from zdlogs.errors import ConfigError
from zdlogs.times import iso_z

PERIODS = ("day", "week")
# a row's keys but its series (the CSV gives the series one column per period)
COLUMNS = ["actor_name", "actor_id", "total", "changes", "sign_ins", "active_periods", "first_seen", "last_seen"]
FIELDS = ["actor_id", "actor_name", "total", "changes", "sign_ins", "active_periods", "first_seen", "last_seen"]

_PER_ACTOR = """
SELECT tenant, actor_id, arg_max(actor_name, created_at) AS actor_name, count(*) AS total,
       count(*) FILTER (WHERE action IS DISTINCT FROM 'login') AS changes,
       count(*) FILTER (WHERE action = 'login') AS sign_ins,
       count(DISTINCT date_trunc($period, created_at)) AS active_periods,
       min(created_at) AS first_seen, max(created_at) AS last_seen
FROM {audit} GROUP BY tenant, actor_id ORDER BY total DESC, tenant, actor_id
"""
_TOTALS = "SELECT count(*), count(DISTINCT (tenant, actor_id)) FILTER (WHERE actor_id IS NOT NULL) FROM {audit}"
_PER_PERIOD = """
SELECT CAST(date_trunc($period, created_at) AS DATE) AS period, tenant, actor_id, count(*) AS n
FROM {audit} WHERE created_at IS NOT NULL GROUP BY ALL
"""


@dataclass(frozen=True)
class ActivityOptions:
    period: str = "day"
    top: int = 10


def check_options(period: str, top: int) -> ActivityOptions:
    """``--by`` in any case (``Week``), as every choice of zdlogs; ``--top`` at least 1."""
    if period.strip().lower() not in PERIODS:
        raise ConfigError(f"--by {period!r}: use day or week")
    if top < 1:
        raise ConfigError(f"--top {top}: show at least one actor, e.g. --top 10")
    return ActivityOptions(period.strip().lower(), top)


def activity_report(data: AuditData, options: ActivityOptions) -> Report:
    actors = data.rows(f"{_PER_ACTOR} {limit_sql(options.top)}", {"period": options.period})
    totals = data.rows(_TOTALS)[0]
    counts = data.rows(_PER_PERIOD, {"period": options.period})
    periods = _period_axis([row[0] for row in counts], options.period)
    series = _series(counts, periods, [(row[0], row[1]) for row in actors])
    rows = [_actor_row(data, row, series.get((row[0], row[1]), [0] * len(periods))) for row in actors]
    summary = _summary(options, periods, counts, rows, int(totals[0]), int(totals[1]))
    summary |= tenant_summary(data, "SELECT tenant FROM {audit}")
    return Report(
        name="activity",
        title="Activity per admin",
        description=f"Changes and sign-ins per actor, per {options.period} (UTC); top {options.top} actors.",
        columns=with_tenant(data, COLUMNS),
        fields=with_tenant(data, FIELDS),
        empty="No audit records match",
        rows=rows,
        total_rows=int(totals[1]),
        summary=summary,
        notes=_notes(summary) + tenant_notes(summary),
        tenants=data.tenants,
    )


def _actor_row(data: AuditData, row: tuple, series: list[int]) -> dict[str, Any]:
    tenant, actor_id, name, total, changes, sign_ins, active, first, last = row
    return tenant_row(
        data,
        tenant,
        {
            "actor_id": actor_id,
            "actor_name": name,
            "total": total,
            "changes": changes,
            "sign_ins": sign_ins,
            "active_periods": active,
            "first_seen": iso_z(first) if first else None,
            "last_seen": iso_z(last) if last else None,
            "series": series,
        },
    )


def _period_axis(starts: list[date], period: str) -> list[date]:
    """Every period from the first to the last one seen, including the empty ones."""
    if not starts:
        return []
    step = timedelta(days=7 if period == "week" else 1)
    first, last = min(starts), max(starts)
    return [first + step * i for i in range((last - first) // step + 1)]


def _series(counts: list[tuple], periods: list[date], actors: list[tuple]) -> dict[tuple, list[int]]:
    """Per shown (tenant, actor id), the count in each period (zeros where idle)."""
    index = {period: i for i, period in enumerate(periods)}
    series: dict[tuple, list[int]] = {actor: [0] * len(periods) for actor in actors}
    for period, tenant, actor, n in counts:
        if (tenant, actor) in series:
            series[(tenant, actor)][index[period]] += n
    return series


def _summary(
    options: ActivityOptions, periods: list[date], counts: list[tuple], rows: list[dict], total: int, actors: int
) -> dict[str, Any]:
    per_period = [0] * len(periods)
    index = {period: i for i, period in enumerate(periods)}
    for period, _tenant, _actor, n in counts:
        per_period[index[period]] += n
    shown = sum(row["total"] for row in rows)
    busiest = max(range(len(periods)), key=lambda i: per_period[i]) if periods else None
    return {
        "period": options.period,
        "periods": [period.isoformat() for period in periods],
        "records_per_period": per_period,
        "records": total,
        "actors": actors,
        "others_records": total - shown,
        "busiest_period": periods[busiest].isoformat() if busiest is not None else None,
        "busiest_period_records": per_period[busiest] if busiest is not None else 0,
    }


def _notes(summary: dict[str, Any]) -> list[str]:
    if not summary["records"]:
        return []  # explain_empty says what the data covers
    periods = summary["periods"]
    return [
        f"{summary['records']} records by {summary['actors']} actors, {periods[0]} to {periods[-1]} "
        f"({len(periods)} {summary['period']}s); busiest {summary['period']} {summary['busiest_period']} "
        f"with {summary['busiest_period_records']} records.",
    ]
