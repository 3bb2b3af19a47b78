"""Organizations (``GET /api/v2/incremental/organizations``): creation, renaming, domain and membership rules.

Access reviews join users to their organization; a changed ``domain_names`` list changes who joins
it automatically. Time-based only (there is no cursor variant): the rules are in
``zdlogs.streams.time_export``; records are ordered by ``updated_at``, and each update is a new version.
"""

from __future__ import annotations

from typing import Any

from zdlogs.errors import ZendeskError
from zdlogs.streams.time_export import TimeExport
from zdlogs.times import parse_utc


class Organizations(TimeExport):
    name = "organizations"
    path = "/api/v2/incremental/organizations.json"
    records_key = "organizations"

    def second(self, record: dict[str, Any]) -> int:
        updated = record.get("updated_at")
        try:
            return int(parse_utc(updated).timestamp())  # type: ignore[arg-type]
        except (TypeError, ValueError, AttributeError):
            raise ZendeskError(f"organization {record.get('id')!r} has no readable updated_at: report it") from None
