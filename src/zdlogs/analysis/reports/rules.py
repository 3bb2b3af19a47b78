"""Business-rule changes: triggers, automations, macros, views (and SLA policies, webhooks), with what changed.

Zendesk records all of these under ``source_type`` "rule"; the kind is read from the label when it
carries one ("Trigger: Notify requester...") and falls back to the source type. ``--source-type``
replaces the default set, e.g. to add ``ticket_field`` or ``account_setting``. Across several tenants of a fleet a
rule is (tenant, source type, source id): rule ids, like actor ids, are only unique within one account.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zdlogs.analysis.engine import AuditData
from zdlogs.analysis.reports.base import (
    Report,
    limit_sql,
    record_row,
    tenant_notes,
    tenant_row,
    tenant_summary,
    with_tenant,
)
from zdlogs.analysis.schema import RULE_KINDS, RULE_SOURCE_TYPES
from zdlogs.times import iso_z

_KIND = (
    "coalesce(nullif(regexp_extract(source_label, '^(" + "|".join(RULE_KINDS) + "):', 1), ''), "
    "CASE WHEN source_type = 'rule' THEN 'Rule' ELSE source_type END)"
)
_CHANGES = f"""
SELECT *, {_KIND} AS kind FROM {{audit}}
WHERE (list_contains($rule_types, source_type) OR $any_type) AND action IS DISTINCT FROM 'login'
"""
_COLUMNS = (
    "created_at", "actor_name", "actor_id", "action", "kind", "source_label", "change_description", "source_id", "id",
)  # fmt: skip


@dataclass(frozen=True)
class RulesOptions:
    limit: int = 100
    top_rules: int = 15


def rules_report(data: AuditData, options: RulesOptions) -> Report:
    params = {"rule_types": list(RULE_SOURCE_TYPES), "any_type": bool(data.filters.source_types)}
    found = data.rows(
        f"SELECT tenant, {', '.join(_COLUMNS)} FROM ({_CHANGES}) "
        f"ORDER BY created_at DESC, id DESC {limit_sql(options.limit)}",
        params,
    )
    types = ", ".join(data.filters.source_types or RULE_SOURCE_TYPES)
    summary = _summary(data, params, options)
    return Report(
        name="rules",
        title="Business-rule changes",
        description=f"Changes to source types {types}, newest first.",
        columns=with_tenant(data, ["created_at", "actor_name", "action", "kind", "source_label", "change_description"]),
        fields=with_tenant(data, _COLUMNS),
        empty=f"No changes to {types}",
        rows=[tenant_row(data, values[0], record_row(values[1:], _COLUMNS)) for values in found],
        total_rows=int(data.scalar(f"SELECT count(*) FROM ({_CHANGES})", params)),
        summary=summary,
        notes=_notes(summary) + tenant_notes(summary),
        tenants=data.tenants,
    )


def _summary(data: AuditData, params: dict[str, Any], options: RulesOptions) -> dict[str, Any]:
    return {
        "by_kind": dict(data.rows(f"SELECT kind, count(*) FROM ({_CHANGES}) GROUP BY 1 ORDER BY 2 DESC, 1", params)),
        "by_action": dict(
            data.rows(f"SELECT action, count(*) FROM ({_CHANGES}) GROUP BY 1 ORDER BY 2 DESC, 1", params)
        ),
        "per_day": [
            {"day": day.isoformat(), "changes": n}
            for day, n in data.rows(
                f"SELECT CAST(date_trunc('day', created_at) AS DATE), count(*) FROM ({_CHANGES}) "
                "WHERE created_at IS NOT NULL GROUP BY 1 ORDER BY 1",
                params,
            )
        ],
        "most_changed": _most_changed(data, params, options.top_rules),
    } | tenant_summary(data, _CHANGES, params)


def _notes(summary: dict[str, Any]) -> list[str]:
    if not summary["by_kind"]:
        return []  # explain_empty says what the data covers
    kinds = ", ".join(f"{kind} {n}" for kind, n in summary["by_kind"].items())
    actions = ", ".join(f"{action} {n}" for action, n in summary["by_action"].items())
    deleted = [rule["source_label"] for rule in summary["most_changed"] if rule["deleted"]]
    notes = [f"By kind: {kinds}. By action: {actions}."]
    top = summary["most_changed"][0]
    notes.append(f"Most changed: {top['source_label']} ({top['changes']} changes, last {top['last_change']}).")
    return notes + ([f"Deleted among the most changed: {', '.join(deleted[:5])}."] if deleted else [])


def _most_changed(data: AuditData, params: dict[str, Any], top: int) -> list[dict[str, Any]]:
    """The rules changed most often, with who touched them and whether one was deleted."""
    rows = data.rows(
        f"SELECT tenant, arg_max(source_label, created_at), any_value(kind), source_id, count(*), max(created_at), "
        f"list(DISTINCT actor_name ORDER BY actor_name), bool_or(action = 'destroy') FROM ({_CHANGES}) "
        f"GROUP BY tenant, source_type, source_id ORDER BY 5 DESC, 6 DESC {limit_sql(top)}",
        params,
    )
    return [
        tenant_row(
            data,
            tenant,
            {
                "source_label": label,
                "kind": kind,
                "source_id": source_id,
                "changes": n,
                "last_change": iso_z(last) if last else None,
                "actors": actors,
                "deleted": deleted,
            },
        )
        for tenant, label, kind, source_id, n, last, actors, deleted in rows
    ]
