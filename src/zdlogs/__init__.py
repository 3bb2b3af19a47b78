"""zdlogs: collect Zendesk's security record (audit log, ticket changes) without losing a record."""

__version__ = "0.1.0"
