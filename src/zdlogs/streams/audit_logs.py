"""The audit log (``GET /api/v2/audit_logs``, Enterprise plan, admins), resumed by time, not by page.

Each run asks for a ``filter[created_at]`` window (sent twice, as ``filter[created_at][]``: the
endpoint ignores ``start_time``, Airbyte's AuditLogs stream) oldest first: ``sort=created_at``, since
the default is newest first, and offset pages shift as records arrive — the original function skipped
and repeated records that way. The window rules are in ``zdlogs.streams.windowed``.

Checkpoint: ``{"since": "<created_at of the last stored second>", "seen_ids": [ids at that second]}``.
"""

from __future__ import annotations

from typing import Any

from zdlogs.streams.windowed import Boundary, WindowedStream, window_end

__all__ = ["AuditLogs", "Boundary", "window_end"]


class AuditLogs(WindowedStream):
    name = "audit_logs"
    path = "/api/v2/audit_logs"
    records_key = "audit_logs"
    time_field = "created_at"
    id_type = int
    page_size = 100  # Zendesk's maximum; page[size]=101 is rejected with 400, not clamped

    def window_params(self, since: str, until: str, size: int) -> dict[str, Any]:
        return {"page[size]": size, "sort": "created_at", "filter[created_at][]": [since, until]}
