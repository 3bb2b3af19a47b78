"""One module per Zendesk resource; ``STREAMS`` maps the RESOURCES names to them."""

from zdlogs.streams.audit_logs import AuditLogs
from zdlogs.streams.base import Page, Stream, StreamContext
from zdlogs.streams.tickets import IncrementalTickets

STREAMS: dict[str, type[Stream]] = {"audit_logs": AuditLogs, "incremental_tickets": IncrementalTickets}

__all__ = ["STREAMS", "AuditLogs", "IncrementalTickets", "Page", "Stream", "StreamContext"]
