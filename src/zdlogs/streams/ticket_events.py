"""Ticket events (``GET /api/v2/incremental/ticket_events``): who changed a ticket's status, assignee, priority.

The audit log does not hold ticket-level history (the second seed document's limits section); this
export does: one "Audit" event per ticket change, its ``child_events`` the field changes
(``event_type: Change`` with the new value under the field's name and ``previous_value``). Comments
are only flagged (``comment_present``/``comment_public``) unless ``--ticket-event-comments`` asks for
``include=comment_events``, which puts the comment bodies in ``child_events`` (bigger pages: comments
can hold personal data, so it is off by default). Time-based only: the rules are in
``zdlogs.streams.time_export``; records are ordered by ``timestamp`` (epoch seconds).
"""

from __future__ import annotations

from typing import Any

from zdlogs.errors import ZendeskError
from zdlogs.streams.base import StreamContext
from zdlogs.streams.time_export import TimeExport


class TicketEvents(TimeExport):
    name = "ticket_events"
    path = "/api/v2/incremental/ticket_events.json"
    records_key = "ticket_events"

    def params(self, ctx: StreamContext) -> dict[str, Any]:
        return {"include": "comment_events"} if ctx.extra.get("ticket_event_comments") else {}

    def second(self, record: dict[str, Any]) -> int:
        stamp = record.get("timestamp")
        if not isinstance(stamp, int) or isinstance(stamp, bool):
            raise ZendeskError(f"ticket event {record.get('id')!r} has no integer timestamp: report it")
        return stamp
