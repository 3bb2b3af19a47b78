"""The access log (``GET /api/v2/access_logs``): which agent or admin called which URL, from where, how.

Google SecOps' ZENDESK_CRM parser maps exactly these fields (url, method, status, client, user_id,
authorization_type). The endpoint has its own conventions, all from the reference page
(https://developer.zendesk.com/api-reference/ticketing/account-configuration/access_logs/):

* it needs the Advanced Data Privacy and Protection add-on: without it Zendesk answers 403, which the
  pipeline reports once as "skipped" while the other streams go on;
* records are kept 90 days: a first run asked to start earlier warns and starts at the retention edge;
* cursor pages of up to 2,500 records (``page[size]``), ascending by default, filtered by
  ``filter[start]``/``filter[end]``; ids are ULID strings, the time field is ``timestamp``;
* its own limit of 50 requests/minute, announced by no header, and a 429 without ``Retry-After`` whose
  ``ratelimit-reset`` is a date-time (the client reads it, ``zdlogs.zendesk.ratelimit``);
* JSON:API error bodies (``{"errors": [{"title", "detail"}]}``), which the client also reads.

Resumed by time like the audit log (``zdlogs.streams.windowed``), so a first run far back can use the
parallel backfill. Checkpoint: ``{"since": "<timestamp>", "seen_ids": [ULIDs at that second]}``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import structlog

from zdlogs.streams.base import StreamContext
from zdlogs.streams.windowed import WindowCheckpoint, WindowedStream
from zdlogs.times import iso_z, parse_utc

log = structlog.get_logger("zdlogs.streams.access_logs")

RETENTION = timedelta(days=90)


class AccessLogs(WindowedStream):
    name = "access_logs"
    path = "/api/v2/access_logs"
    records_key = "access_logs"
    time_field = "timestamp"
    id_type = str
    family = "access_logs"
    page_size = 2500  # the maximum: 2,501 is refused with 400 "max allowed page size is 2500"

    def window_params(self, since: str, until: str, size: int) -> dict[str, Any]:
        return {"page[size]": size, "filter[start]": since, "filter[end]": until}

    def resume_point(self, checkpoint: WindowCheckpoint, ctx: StreamContext) -> WindowCheckpoint:
        """The windowed streams' resume point, moved up to the retention edge (and said so) when older."""
        start = super().resume_point(checkpoint, ctx)
        edge = ctx.now - RETENTION
        if parse_utc(start.since) >= edge:
            return start
        log.warning(
            "access_logs_beyond_retention",
            requested=start.since,
            kept_since=iso_z(edge),
            detail="Zendesk keeps the access log 90 days: older records are gone; starting at the retention edge",
        )
        return WindowCheckpoint(iso_z(edge))
