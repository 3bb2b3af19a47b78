"""One module per Zendesk resource; ``STREAMS`` maps the RESOURCES names to them.

Three shapes cover them all, each in its own module: time windows over cursor pages
(``windowed``: audit and access logs), cursor incremental exports (``cursor_export``: tickets, users)
and time-based incremental exports (``time_export``: ticket events, organizations).
"""

from zdlogs.streams.access_logs import AccessLogs
from zdlogs.streams.audit_logs import AuditLogs
from zdlogs.streams.base import Page, Stream, StreamContext
from zdlogs.streams.organizations import Organizations
from zdlogs.streams.ticket_events import TicketEvents
from zdlogs.streams.tickets import IncrementalTickets
from zdlogs.streams.users import Users
from zdlogs.streams.windowed import WindowedStream

STREAMS: dict[str, type[Stream]] = {
    stream.name: stream for stream in (AuditLogs, IncrementalTickets, AccessLogs, TicketEvents, Users, Organizations)
}

__all__ = [
    "STREAMS",
    "AccessLogs",
    "AuditLogs",
    "IncrementalTickets",
    "Organizations",
    "Page",
    "Stream",
    "StreamContext",
    "TicketEvents",
    "Users",
    "WindowedStream",
]
