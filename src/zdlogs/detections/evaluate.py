"""One rule evaluated over one stream's records, in DuckDB: the findings it gives.

Four ways, by what the rule needs (``Rule.evaluation``):

* ``match``: the Sigma detection as a WHERE clause; every matching record is a finding;
* ``correlation`` (Sigma ``event_count``): the base rule's records counted per group-by value over a sliding
  window (a DuckDB window function); where the count reaches the condition, the windows that overlap are one
  burst and one finding, listing every record in it;
* ``offhours``: the detection, then ``zdlogs report offhours``'s own query (same hours, zone, workdays);
* ``new_ip``: the detection gives the changes; an address counts as new for an actor when no record of theirs
  came from it in the baseline window before while others did; one finding per actor and new address.

Allow-listed actors and addresses (zdlogs.detections.tuning) give no finding in any of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from zdlogs.analysis.reports.offhours import flagged_query, reasons
from zdlogs.detections.loader import Rule
from zdlogs.detections.records import Records, audit_records
from zdlogs.detections.sql import Where, detection_sql
from zdlogs.detections.tuning import Threshold, Tuning
from zdlogs.errors import ConfigError
from zdlogs.times import iso_z

DAY = timedelta(days=1)


@dataclass(frozen=True)
class Finding:
    """What ``zdlogs detect --format json`` prints for each finding."""

    rule: str
    severity: str
    time: datetime
    actor_id: int | None
    actor_name: str | None
    ip_address: str | None
    record_ids: list[Any]
    summary: str

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "time": iso_z(self.time),
            "actor_id": self.actor_id,
            "actor_name": self.actor_name,
            "ip_address": self.ip_address,
            "record_ids": self.record_ids,
            "summary": self.summary,
        }


def evaluate(rule: Rule, records: Records, tuning: Tuning) -> list[Finding]:
    """The findings of ``rule`` over ``records``, oldest first."""
    return _EVALUATIONS[rule.evaluation](rule, records, tuning)


# ------------------------------------------------------------------ match


def _matches(rule: Rule, records: Records, tuning: Tuning) -> list[Finding]:
    where, params = _selection(rule, records, tuning)
    rows = records.rows(f"SELECT * FROM {{records}} WHERE {where} ORDER BY created_at, id", params)
    return [_finding(rule, row, [row["id"]]) for row in rows]


def _selection(rule: Rule, records: Records, tuning: Tuning) -> tuple[str, dict[str, Any]]:
    """The rule's detection and the allow-lists, as one WHERE body with its parameters."""
    detection, params = detection_sql(rule.base, records.fields)
    allowed, allow_params = _allowed(records, tuning)
    return f"({detection}) AND {allowed}", {**params, **allow_params}


def _allowed(records: Records, tuning: Tuning) -> tuple[str, dict[str, Any]]:
    """Not by an allow-listed actor, not from an allow-listed address (networks resolved against the
    addresses present, so the SQL compares plain strings)."""
    present = records.rows("SELECT DISTINCT ip_address FROM {records} WHERE ip_address IS NOT NULL")
    clauses = [
        "NOT coalesce(list_contains($detect_allow_ids, actor_id), FALSE)",
        "NOT coalesce(list_contains($detect_allow_ips, ip_address), FALSE)",
    ]
    if "actor_name" in records.fields:
        clauses.append("NOT coalesce(list_contains($detect_allow_names, lower(actor_name)), FALSE)")
    params = {
        "detect_allow_ids": list(tuning.allow_ids),
        "detect_allow_ips": tuning.allowed_ips(row["ip_address"] for row in present),
        "detect_allow_names": list(tuning.allow_names),
    }
    return "(" + " AND ".join(clauses) + ")", params


def _finding(rule: Rule, row: dict[str, Any], record_ids: list[Any], **values: Any) -> Finding:
    return Finding(
        rule=rule.name,
        severity=rule.level,
        time=row["created_at"],
        actor_id=row.get("actor_id"),
        actor_name=row.get("actor_name"),
        ip_address=row.get("ip_address"),
        record_ids=record_ids,
        summary=summary(rule, {**row, **values}),
    )


def summary(rule: Rule, values: dict[str, Any]) -> str:
    """The rule's ``zdlogs.summary`` template filled from the record (a missing value shows as ``-``)."""
    return rule.summary.format_map(_Shown(values))


class _Shown(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "-"

    def __getitem__(self, key: str) -> Any:
        value = super().get(key)
        return "-" if value is None else value


# ------------------------------------------------------------------ correlation (event_count)


def _bursts(rule: Rule, records: Records, tuning: Tuning) -> list[Finding]:
    count, window = _threshold(rule, tuning.thresholds.get(rule.name, Threshold()))
    groups = [Where(records.fields, rule.name).column(name) for name in rule.sigma.group_by or ()]
    where, params = _selection(rule, records, tuning)
    partition = f"PARTITION BY {', '.join(groups)} " if groups else ""
    present = "".join(f" AND {column} IS NOT NULL" for column in groups)
    rows = records.rows(
        f"SELECT *, count(*) OVER ({partition}ORDER BY created_at RANGE BETWEEN "
        f"INTERVAL {int(window.total_seconds())} SECOND PRECEDING AND CURRENT ROW) AS zdlogs_count "
        f"FROM {{records}} WHERE {where}{present} ORDER BY {', '.join([*groups, 'created_at', 'id'])}",
        params,
    )
    keys = [name for name in rule.sigma.group_by or ()]
    by_group: dict[tuple, list[dict[str, Any]]] = {}
    for row in rows:
        by_group.setdefault(tuple(row[key] for key in keys), []).append(row)
    found = [
        _burst_finding(rule, members, count, window)
        for members_of_group in by_group.values()
        for members in _merged(members_of_group, count, window)
    ]
    return sorted(found, key=lambda finding: finding.time)


def _threshold(rule: Rule, override: Threshold) -> tuple[int, timedelta]:
    """(at least this many, within this window): the rule's condition and timespan, or the settings'."""
    condition = rule.sigma.condition
    if condition.op.name not in ("GTE", "GT") or condition.fieldref:
        raise ConfigError(f"detection rule {rule.name}: only gte/gt event counts are supported; fix the rule file")
    count = override.count or int(condition.count) + (1 if condition.op.name == "GT" else 0)
    return count, override.window or timedelta(seconds=rule.sigma.timespan.seconds)


def _merged(rows: list[dict[str, Any]], count: int, window: timedelta) -> list[list[dict[str, Any]]]:
    """The bursts of one group: each row where the window's count reaches ``count`` closes a window of
    ``window`` before it; overlapping windows are one burst, its records every row within them."""
    spans: list[list[datetime]] = []
    for row in rows:
        if row["zdlogs_count"] < count:
            continue
        start, end = row["created_at"] - window, row["created_at"]
        if spans and start <= spans[-1][1]:
            spans[-1][1] = end
        else:
            spans.append([start, end])
    return [[row for row in rows if start <= row["created_at"] <= end] for start, end in spans]


def _burst_finding(rule: Rule, members: list[dict[str, Any]], count: int, window: timedelta) -> Finding:
    """One burst: at its first record's time, by its last record's actor and address, every record listed."""
    first, last = members[0], members[-1]
    row = {**last, "created_at": first["created_at"]}
    span = _shown(last["created_at"] - first["created_at"], exact=False)
    values = {"count": len(members), "span": span, "threshold": count, "window": _shown(window)}
    return _finding(rule, row, [member["id"] for member in members], **values)


def _shown(window: timedelta, *, exact: bool = True) -> str:
    """10m, 2h, 14d: a window as the settings write it; ``exact=False``: in its largest unit, rounded down."""
    seconds = int(window.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and (seconds % size == 0 or not exact):
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


# ------------------------------------------------------------------ zdlogs evaluations: offhours, new_ip


def _offhours(rule: Rule, records: Records, tuning: Tuning) -> list[Finding]:
    """``report offhours``'s query (no allow-list inside: detect's own applies), narrowed by the detection."""
    flagged, hour_params = flagged_query(tuning.hours)
    where, params = _selection(rule, records, tuning)
    rows = records.rows(
        f"SELECT *, strftime(local_time, '%Y-%m-%d %H:%M') AS local_clock FROM ({flagged}) "
        f"WHERE {where} ORDER BY created_at, id",
        {**hour_params, **params},
    )
    return [
        _finding(rule, row, [row["id"]], local_time=row["local_clock"], reasons=", ".join(_reasons(row)))
        for row in rows
    ]


def _reasons(row: dict[str, Any]) -> list[str]:
    return reasons(non_workday=row["non_workday"], in_hours=row["in_hours"], unexpected=row["unexpected"])


_NEW_IP = """
WITH seen AS (
  SELECT actor_id, ip_address, created_at,
         lag(created_at) OVER (PARTITION BY actor_id, ip_address ORDER BY created_at, id) AS last_same
  FROM {records} WHERE actor_id IS NOT NULL AND ip_address IS NOT NULL),
firsts AS (
  SELECT s.actor_id, s.ip_address, s.created_at AS first_seen FROM seen s
  WHERE (s.last_same IS NULL OR s.last_same < s.created_at - $new_ip_baseline)
    AND EXISTS (SELECT 1 FROM seen b WHERE b.actor_id = s.actor_id AND b.created_at < s.created_at
                AND b.created_at >= s.created_at - $new_ip_baseline)),
changes AS (SELECT * FROM {records} WHERE {where})
SELECT f.actor_id, f.ip_address, min(c.created_at) AS created_at, arg_max(c.actor_name, c.created_at) AS actor_name,
       list(c.id ORDER BY c.created_at, c.id) AS record_ids, count(*) AS changes
FROM firsts f JOIN changes c ON c.actor_id = f.actor_id AND c.ip_address = f.ip_address
  AND c.created_at >= f.first_seen AND c.created_at < f.first_seen + $new_ip_follow
GROUP BY f.actor_id, f.ip_address, f.first_seen
HAVING ($new_ip_since IS NULL OR min(c.created_at) >= CAST($new_ip_since AS TIMESTAMPTZ))
   AND ($new_ip_until IS NULL OR min(c.created_at) < CAST($new_ip_until AS TIMESTAMPTZ))
ORDER BY created_at, f.actor_id
"""


def _new_ip(rule: Rule, records: Records, tuning: Tuning) -> list[Finding]:
    """Read over every record of the input (the baseline reaches before --since); findings within the range."""
    baseline = tuning.baseline or _duration(rule.options.get("baseline"), rule.name)
    history = audit_records(records.data.unfiltered().materialize())
    where, params = _selection(rule, history, tuning)
    rows = history.rows(
        _NEW_IP.replace("{where}", where),
        {
            **params,
            "new_ip_baseline": baseline,
            "new_ip_follow": DAY,
            "new_ip_since": records.data.filters.since,
            "new_ip_until": records.data.filters.until,
        },
    )
    return [_finding(rule, row, list(row["record_ids"]), count=row["changes"], window=_shown(baseline)) for row in rows]


def _duration(value: Any, rule: str) -> timedelta:
    from zdlogs.analysis.times import parse_duration

    if not value:
        raise ConfigError(f"detection rule {rule}: no zdlogs.baseline; fix the rule file")
    return parse_duration(str(value), f"detection rule {rule}: zdlogs.baseline")


_EVALUATIONS: dict[str, Callable[[Rule, Records, Tuning], list[Finding]]] = {
    "match": _matches,
    "correlation": _bursts,
    "offhours": _offhours,
    "new_ip": _new_ip,
}
