"""The audit-log record as Zendesk documents it, and the columns analysts expect in a CSV.

The reader is given this schema explicitly rather than guessing it from the data: a page where
every ``ip_address`` is null, or an older record without ``action_label``, must not change a
column's type or make a query fail on a missing field.
"""

from __future__ import annotations

# Zendesk's documented fields (research §1.2) and the DuckDB type each is read as. ``created_at`` is
# read as text and converted once, so a record with an odd offset is normalised instead of rejected.
AUDIT_FIELDS: dict[str, str] = {
    "url": "VARCHAR",
    "id": "BIGINT",
    "action_label": "VARCHAR",
    "actor_id": "BIGINT",
    "actor_name": "VARCHAR",
    "source_id": "BIGINT",
    "source_type": "VARCHAR",
    "source_label": "VARCHAR",
    "action": "VARCHAR",
    "change_description": "VARCHAR",
    "ip_address": "VARCHAR",
    "created_at": "VARCHAR",
}

# The columns of the seed guide's script and of Zendesk's e-mailed CSV, in that order.
CSV_COLUMNS = (
    "created_at",
    "actor_name",
    "actor_id",
    "action",
    "source_type",
    "source_label",
    "change_description",
    "ip_address",
)

# --all-columns: the analyst columns first, then the rest of the documented ones, then anything else.
ALL_KNOWN_COLUMNS = (*CSV_COLUMNS, "id", "action_label", "source_id", "url")

# Rules in Zendesk's sense: one source type covers them all; some accounts and tools use finer names.
RULE_SOURCE_TYPES = ("rule", "trigger", "automation", "macro", "view", "sla_policy", "webhook")
RULE_KINDS = ("Trigger", "Automation", "Macro", "View", "SLA policy", "Webhook")

# Zendesk's own actions (scheduled deletions, automatic deactivations) are recorded under this actor.
SYSTEM_ACTOR_IDS = (-1, 0)
