"""The cursor-based incremental ticket export (``GET /api/v2/incremental/tickets/cursor.json``).

Every rule (start_time at least a minute old, stop on ``end_of_stream``, stuck-cursor guards) is the
cursor exports' one, in ``zdlogs.streams.cursor_export``. Tickets are filed by ``generated_timestamp``.
"""

from __future__ import annotations

from zdlogs.streams.cursor_export import CursorExport, first_start_time

__all__ = ["IncrementalTickets", "first_start_time"]


class IncrementalTickets(CursorExport):
    name = "incremental_tickets"
    path = "/api/v2/incremental/tickets/cursor.json"
    records_key = "tickets"
