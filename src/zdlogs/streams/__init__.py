"""One module per Zendesk resource; ``STREAMS`` maps the RESOURCES names to them.

Three shapes cover them all, each in its own module: time windows over cursor pages
(``windowed``: audit and access logs), cursor incremental exports (``cursor_export``: tickets, users)
and time-based incremental exports (``time_export``: ticket events, organizations).
"""

from typing import Any

from zdlogs.streams.access_logs import AccessLogs
from zdlogs.streams.audit_logs import AuditLogs
from zdlogs.streams.base import Checkpoint, Page, Stream, StreamContext
from zdlogs.streams.cursor_export import CursorCheckpoint
from zdlogs.streams.organizations import Organizations
from zdlogs.streams.ticket_events import TicketEvents
from zdlogs.streams.tickets import IncrementalTickets
from zdlogs.streams.time_export import StartTimeCheckpoint
from zdlogs.streams.users import Users
from zdlogs.streams.windowed import WindowCheckpoint, WindowedStream

STREAMS: dict[str, type[Stream[Any]]] = {
    stream.name: stream for stream in (AuditLogs, IncrementalTickets, AccessLogs, TicketEvents, Users, Organizations)
}

__all__ = [
    "STREAMS",
    "AccessLogs",
    "AuditLogs",
    "Checkpoint",
    "CursorCheckpoint",
    "IncrementalTickets",
    "Organizations",
    "Page",
    "StartTimeCheckpoint",
    "Stream",
    "StreamContext",
    "TicketEvents",
    "Users",
    "WindowCheckpoint",
    "WindowedStream",
]
