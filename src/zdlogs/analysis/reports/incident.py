"""Changes around an incident: everything within ``--window`` before and after ``--around``, closest first.

When tickets start behaving oddly, the first question is "what changed just before?". Rows are ordered
by distance from the incident time (ties: earlier first), rule changes are flagged for highlighting,
and the summary names the IP addresses first seen inside the window — a new address next to a burst
of changes is what a compromised admin account looks like. Across several tenants of a fleet, an address is new
to its tenant (seen before only elsewhere still counts), and actors are counted per tenant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from zdlogs.analysis.engine import AuditData
from zdlogs.analysis.reports.base import (
    RECORD_FIELDS,
    RECORD_SELECT,
    TABLE_COLUMNS,
    Report,
    limit_sql,
    record_row,
    tenant_notes,
    tenant_prefix,
    tenant_row,
    tenant_summary,
    with_tenant,
)
from zdlogs.analysis.schema import RULE_SOURCE_TYPES
from zdlogs.analysis.times import signed_offset
from zdlogs.times import iso_z

_WINDOW = """
SELECT *, epoch(created_at) - epoch($around) AS offset_seconds,
       list_contains($rule_types, source_type) AS is_rule
FROM {audit} WHERE created_at BETWEEN $start AND $stop
"""
_NEW_IPS = """
SELECT tenant, ip_address, min(created_at), count(*) FROM ({window}) w
WHERE ip_address IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM {audit} a WHERE a.ip_address = w.ip_address AND a.created_at < $start
                  AND a.tenant IS NOT DISTINCT FROM w.tenant)
GROUP BY 1, 2 ORDER BY 3, 1, 2
"""


@dataclass(frozen=True)
class IncidentOptions:
    around: datetime
    window: timedelta
    limit: int = 100


def incident_report(data: AuditData, options: IncidentOptions) -> Report:
    params = _params(options)
    found = data.rows(
        f"SELECT tenant, {RECORD_SELECT}, offset_seconds, is_rule FROM ({_WINDOW}) "
        f"ORDER BY abs(offset_seconds), created_at, tenant, id {limit_sql(options.limit)}",
        params,
    )
    summary = _summary(data, params, options)
    return Report(
        name="incident",
        title=f"Changes around {iso_z(options.around)}",
        description=f"Everything within {_span(options.window)} before and after {iso_z(options.around)}, "
        "closest first; rule changes highlighted.",
        columns=with_tenant(data, ["offset", *TABLE_COLUMNS]),
        fields=with_tenant(data, ["offset", "offset_seconds", *RECORD_FIELDS, "is_rule"]),
        empty=f"No records within {_span(options.window)} of {iso_z(options.around)}",
        rows=[_row(data, values) for values in found],
        total_rows=int(data.scalar(f"SELECT count(*) FROM ({_WINDOW})", params)),
        summary=summary,
        highlight="is_rule",
        notes=_notes(summary) + tenant_notes(summary),
        tenants=data.tenants,
    )


def _params(options: IncidentOptions) -> dict[str, Any]:
    return {
        "around": options.around,
        "start": options.around - options.window,
        "stop": options.around + options.window,
        "rule_types": list(RULE_SOURCE_TYPES),
    }


def _row(data: AuditData, values: tuple) -> dict[str, Any]:
    tenant, *record, offset, is_rule = values
    row = record_row(tuple(record))
    shown = {"offset": signed_offset(offset), "offset_seconds": int(offset), **row, "is_rule": bool(is_rule)}
    return tenant_row(data, tenant, shown)


def _summary(data: AuditData, params: dict[str, Any], options: IncidentOptions) -> dict[str, Any]:
    before, after, rules = data.rows(
        "SELECT count(*) FILTER (WHERE offset_seconds < 0), count(*) FILTER (WHERE offset_seconds >= 0), "
        f"count(*) FILTER (WHERE is_rule) FROM ({_WINDOW})",
        params,
    )[0]
    actors = data.rows(
        f"SELECT tenant, arg_max(actor_name, created_at), actor_id, count(*) FROM ({_WINDOW}) "
        "GROUP BY tenant, actor_id ORDER BY 4 DESC, 3, 1",
        params,
    )
    new_ips = data.rows(_NEW_IPS.replace("{window}", _WINDOW), params)
    return {
        "around": iso_z(options.around),
        "window_seconds": int(options.window.total_seconds()),
        "before": before,
        "after": after,
        "rule_changes": rules,
        "actors": [
            tenant_row(data, tenant, {"actor_name": name, "actor_id": actor, "records": n})
            for tenant, name, actor, n in actors
        ],
        "new_ips": [
            tenant_row(data, tenant, {"ip_address": ip, "first_seen": iso_z(first), "records": n})
            for tenant, ip, first, n in new_ips
        ],
    } | tenant_summary(data, _WINDOW, params)


def _notes(summary: dict[str, Any]) -> list[str]:
    if not summary["before"] + summary["after"]:
        return []  # explain_empty says what the data covers
    actors = ", ".join(
        f"{tenant_prefix(actor)}{actor['actor_name']} ({actor['records']})" for actor in summary["actors"][:5]
    )
    notes = [
        f"{summary['before']} records before, {summary['after']} at or after; {summary['rule_changes']} rule changes."
        + (f" Actors: {actors}." if actors else "")
    ]
    for ip in summary["new_ips"][:5]:
        notes.append(
            f"New IP {ip['ip_address']}: first seen {ip['first_seen']}, {ip['records']} records in the window."
        )
    return notes


def _span(window: timedelta) -> str:
    """``2h``, ``1h30m``, ``45s``: the window as the user would type it."""
    rest, parts = int(window.total_seconds()), []
    for unit, seconds in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, rest = divmod(rest, seconds)
        parts += [f"{count}{unit}"] if count else []
    return "".join(parts) or "0s"
