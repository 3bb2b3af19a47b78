"""zdlogs: collect Zendesk's security record (audit log, ticket changes) without losing a record.

Public API::

    from zdlogs import load_settings, run
    summary = run(load_settings(base_url="https://acme.zendesk.com", auth_mode="oauth", ...))
"""

from zdlogs._version import __version__
from zdlogs.config import Settings, load_settings
from zdlogs.errors import (
    AuthError,
    CollectionFailed,
    ConfigError,
    PartialFailure,
    StorageError,
    ZdlogsError,
    ZendeskError,
)
from zdlogs.pipeline import RunSummary, run

__all__ = [
    "AuthError",
    "CollectionFailed",
    "ConfigError",
    "PartialFailure",
    "RunSummary",
    "Settings",
    "StorageError",
    "ZdlogsError",
    "ZendeskError",
    "__version__",
    "load_settings",
    "run",
]
