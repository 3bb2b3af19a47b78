"""``zdlogs export request``: ask Zendesk for its own CSV export, e-mailed to the requesting admin.

``POST /api/v2/audit_logs/export`` takes the list endpoint's filters and answers 202 with no body;
Zendesk then e-mails a CSV (UTC timestamps). It allows one export per minute per account, and says
so with a 429: the client turns that into "wait N s" from ``Retry-After`` or the
``Zendesk-RateLimit-audit-logs-export: ...; resets=N`` header, instead of failing obscurely.
"""

from __future__ import annotations

from dataclasses import dataclass

from zdlogs.analysis.filters import Filters
from zdlogs.config import Settings
from zdlogs.errors import ConfigError
from zdlogs.zendesk.client import ZendeskClient

ENDPOINT = "/api/v2/audit_logs/export"


@dataclass(frozen=True)
class ExportRequested:
    """What Zendesk accepted, for the confirmation line."""

    status: int
    params: list[tuple[str, str]]
    email: str


def request_export(settings: Settings, filters: Filters, client: ZendeskClient | None = None) -> ExportRequested:
    """Send one export request with ``filters`` as ``filter[...]`` parameters; raise on refusal."""
    if filters.actor_names:
        raise ConfigError(
            f"--actor {filters.actor_names[0]!r}: Zendesk's export filters actors by id only; "
            "give the actor id (the actor_id column of `zdlogs export csv`)"
        )
    params = filters.api_params()
    owned = client is None
    client = client or ZendeskClient(settings)
    try:
        response = client.post(ENDPOINT, params)
    finally:
        if owned:
            client.close()
    return ExportRequested(response.status_code, params, settings.email)


def describe(result: ExportRequested) -> str:
    """The line printed on success: who gets the e-mail, and with which filters."""
    who = result.email or "the admin the credentials belong to"
    sent = " ".join(f"{key}={value}" for key, value in result.params) or "no filter (the whole audit log)"
    return f"Zendesk accepted the export (HTTP {result.status}): a CSV will be e-mailed to {who}. Filters: {sent}"
