"""Off-hours and unexpected changes: outside business hours or workdays, or by someone not allow-listed.

Times are judged in the business's zone (``--timezone``), daylight saving included, through DuckDB's
ICU time zones. Sign-ins are left out by default (agents sign in at all hours; a sign-in changes
nothing) and so is Zendesk's own system actor (scheduled deletions run at night by design); both can
be brought back. A change can have several reasons: ``off-hours``, ``non-workday``, ``not-allow-listed``. Across
several tenants of a fleet, the hours and the allow-list apply to each, and actors are counted per tenant.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any

from zdlogs.analysis.engine import AuditData
from zdlogs.analysis.filters import split_actors
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
from zdlogs.analysis.schema import SYSTEM_ACTOR_IDS
from zdlogs.analysis.times import BusinessHours, parse_hours, parse_workdays, parse_zone
from zdlogs.errors import ConfigError

_JUDGED = """
SELECT *, CAST(local_time AS TIME) AS clock, isodow(local_time) AS weekday FROM (
  SELECT *, timezone($zone, created_at) AS local_time FROM {audit}
  WHERE created_at IS NOT NULL
    AND ($include_logins OR action IS DISTINCT FROM 'login')
    AND ($include_system OR actor_id IS NULL OR NOT list_contains($system_ids, actor_id)))
"""
_FLAGS = """
SELECT *,
  list_contains($workdays, weekday) AND
    CASE WHEN $start < $end THEN clock >= $start AND clock < $end ELSE clock >= $start OR clock < $end END AS in_hours,
  NOT list_contains($workdays, weekday) AS non_workday,
  $check_actors AND NOT (coalesce(list_contains($allow_ids, actor_id), FALSE)
                         OR coalesce(list_contains($allow_names, lower(actor_name)), FALSE)) AS unexpected
FROM ({judged})
"""


@dataclass(frozen=True)
class OffHoursOptions:
    hours: BusinessHours
    allow_ids: tuple[int, ...] = ()
    allow_names: tuple[str, ...] = ()
    include_logins: bool = False
    include_system: bool = False
    limit: int = 100

    @property
    def has_allow_list(self) -> bool:
        return bool(self.allow_ids or self.allow_names)


def check_options(
    business_hours: str,
    timezone: str,
    workdays: str,
    allow: Iterable[str] = (),
    allow_file: Path | None = None,
    **flags: Any,
) -> OffHoursOptions:
    """Validate the business-hours options; the allow-list mixes ids and names, from flags and a file."""
    start, end = parse_hours(business_hours)
    hours = BusinessHours(start, end, parse_zone(timezone), parse_workdays(workdays))
    ids, names = split_actors([*allow, *read_allow_file(allow_file)])
    return OffHoursOptions(hours, ids, names, **flags)


def read_allow_file(path: Path | None) -> list[str]:
    """One actor id or name per line; blank lines and ``#`` comments ignored."""
    if path is None:
        return []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(
            f"--allow-file {path}: {exc.strerror}; give a text file with one actor id or name per line"
        ) from None
    return [line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()]


def offhours_report(data: AuditData, options: OffHoursOptions) -> Report:
    flagged, params = flagged_query(options)
    found = data.rows(
        f"SELECT tenant, {RECORD_SELECT}, strftime(local_time, '%Y-%m-%d %H:%M'), non_workday, in_hours, unexpected "
        f"FROM ({flagged}) ORDER BY created_at DESC, id DESC {limit_sql(options.limit)}",
        params,
    )
    summary = _summary(data, options, flagged, params)
    return Report(
        name="offhours",
        title="Off-hours and unexpected changes",
        description=_description(options),
        columns=with_tenant(data, ["local_time", *TABLE_COLUMNS[1:], "reasons"]),  # created_at (UTC): JSON rows
        fields=with_tenant(data, [*RECORD_FIELDS, "local_time", "reasons"]),
        empty="No change outside business hours"
        + (" or by an actor off the allow-list" if options.has_allow_list else ""),
        rows=[_row(data, values) for values in found],
        total_rows=int(data.scalar(f"SELECT count(*) FROM ({flagged})", params)),
        summary=summary,
        notes=_notes(summary) + tenant_notes(summary),
        tenants=data.tenants,
    )


def flagged_query(options: OffHoursOptions) -> tuple[str, dict[str, Any]]:
    """The records this report lists, as SQL over ``{audit}`` (each with ``local_time``, ``non_workday``,
    ``in_hours``, ``unexpected``) and its parameters: ``zdlogs detect``'s off-hours rule runs the same query."""
    return f"SELECT * FROM ({_FLAGS.replace('{judged}', _JUDGED)}) WHERE NOT in_hours OR unexpected", _params(options)


def _params(options: OffHoursOptions) -> dict[str, Any]:
    hours = options.hours
    return {
        "zone": hours.zone.key,
        "start": hours.start,
        "end": hours.end if hours.end != time(0) else time(23, 59, 59, 999999),
        "workdays": sorted(hours.workdays),
        "include_logins": options.include_logins,
        "include_system": options.include_system,
        "system_ids": list(SYSTEM_ACTOR_IDS),
        "check_actors": options.has_allow_list,
        "allow_ids": list(options.allow_ids),
        "allow_names": list(options.allow_names),
    }


def _row(data: AuditData, values: tuple) -> dict[str, Any]:
    tenant, *record, local_time, non_workday, in_hours, unexpected = values
    row = record_row(tuple(record))
    row["local_time"] = local_time
    row["reasons"] = reasons(non_workday=non_workday, in_hours=in_hours, unexpected=unexpected)
    return tenant_row(data, tenant, row)


def reasons(*, non_workday: bool, in_hours: bool, unexpected: bool) -> list[str]:
    """Why a change is listed, most telling first."""
    out = ["non-workday"] if non_workday else ([] if in_hours else ["off-hours"])
    return [*out, "not-allow-listed"] if unexpected else out


def _summary(data: AuditData, options: OffHoursOptions, flagged: str, params: dict[str, Any]) -> dict[str, Any]:
    counts = data.rows(
        f"SELECT count(*), count(*) FILTER (WHERE NOT in_hours AND NOT non_workday), "
        f"count(*) FILTER (WHERE non_workday), count(*) FILTER (WHERE unexpected) FROM ({_FLAGS})".replace(
            "{judged}", _JUDGED
        ),
        params,
    )[0]
    by_actor = data.rows(
        f"SELECT tenant, arg_max(actor_name, created_at), actor_id, count(*) FROM ({flagged}) "
        "GROUP BY tenant, actor_id ORDER BY 4 DESC, 3, 1 LIMIT 10",
        params,
    )
    return {
        "business_hours": options.hours.describe(),
        "allow_list": len(options.allow_ids) + len(options.allow_names),
        "changes_considered": counts[0],
        "off_hours": counts[1],
        "non_workday": counts[2],
        "not_allow_listed": counts[3],
        "by_actor": [
            tenant_row(data, tenant, {"actor_name": name, "actor_id": actor, "flagged": n})
            for tenant, name, actor, n in by_actor
        ],
        "heatmap": _heatmap(data, params),
    } | tenant_summary(data, flagged, params)


def _heatmap(data: AuditData, params: dict[str, Any]) -> list[list[int]]:
    """Changes considered, by local weekday (Monday first) and hour: the shape of the account's week."""
    grid = [[0] * 24 for _ in range(7)]
    query = f"SELECT weekday, hour(local_time), count(*) FROM ({_JUDGED}) GROUP BY ALL"
    for weekday, hour, n in data.rows(query, params):
        grid[weekday - 1][hour] = n
    return grid


def _notes(summary: dict[str, Any]) -> list[str]:
    notes = [
        f"{summary['changes_considered']} changes considered: {summary['off_hours']} outside business hours, "
        f"{summary['non_workday']} on non-workdays, {summary['not_allow_listed']} by actors not on the allow-list."
    ]
    if summary["by_actor"]:
        top = summary["by_actor"][0]
        notes.append(f"Most flagged: {tenant_prefix(top)}{top['actor_name']} ({top['flagged']}).")
    return notes


def _description(options: OffHoursOptions) -> str:
    size = len(options.allow_ids) + len(options.allow_names)
    who = f"; allow-list of {size} actors" if options.has_allow_list else ""
    kept = (("sign-ins", options.include_logins), ("Zendesk system actor", options.include_system))
    left_out = [name for name, included in kept if not included]
    excluded = f"; not counted: {', '.join(left_out)}" if left_out else ""
    return f"Business hours {options.hours.describe()}{who}{excluded}. Newest first."
