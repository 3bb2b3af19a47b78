"""Taking over from the original Cloud Run function without re-ingesting or losing anything.

The original function kept ``{"audit_logs": {"next_url": ...}, "incremental_tickets": {"cursor": ...}}``
in its state file (by default ``zendesk/crm/state.json``, inside the feed prefix). Its ticket cursor is a
Zendesk export cursor and can be reused as is. Its audit-log ``next_url`` is an offset page of a
newest-first list and says nothing reliable about time, so the audit log resumes from a time the user
gives (the old function's last successful run, minus a margin); a few minutes of overlap cost duplicates,
never a loss.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import structlog

from zdlogs.config import Settings
from zdlogs.errors import ConfigError, StorageError
from zdlogs.sinks import open_sink
from zdlogs.state import StateStore
from zdlogs.streams.base import iso_z

log = structlog.get_logger("zdlogs.migrate")


def read_old_state(source: str) -> dict[str, Any]:
    """The original function's state document, from a local path or ``gs://bucket/key``."""
    raw = _read_gs(source) if urlsplit(source).scheme == "gs" else _read_local(source)
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ConfigError(f"{source} is not JSON: point --from at the original function's state.json") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{source} is not the original function's state (a JSON object was expected)")
    return doc


def _read_local(source: str) -> bytes:
    try:
        return Path(source).expanduser().read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {source} ({exc.strerror}): check the path given to --from") from None


def _read_gs(source: str) -> bytes:
    parts = urlsplit(source)
    sink = open_sink(f"gs://{parts.netloc}/")
    raw = sink.read(parts.path.lstrip("/"))
    if raw is None:
        raise ConfigError(f"{source} does not exist: point --from at the original function's STATE_KEY")
    return raw


def import_state(settings: Settings, source: str, audit_since: datetime | None, force: bool = False) -> dict:
    """Write zdlogs checkpoints from the original function's state; refuse to overwrite ours unless forced."""
    old = read_old_state(source)
    cursor = (old.get("incremental_tickets") or {}).get("cursor")
    sink = open_sink(settings.output, lease_ttl=settings.lease_ttl)
    state = StateStore(sink, settings.state_key)
    imported: dict[str, dict] = {}
    if isinstance(cursor, str) and cursor:
        imported["incremental_tickets"] = {"cursor": cursor}
    if audit_since is not None:
        imported["audit_logs"] = {"since": iso_z(audit_since), "seen_ids": []}
    existing = [name for name in imported if state.checkpoint(name) and not force]
    if existing:
        raise StorageError(
            f"zdlogs already has checkpoints for {', '.join(existing)} in {sink.url}: nothing imported "
            "(pass --force to replace them)"
        )
    for name, checkpoint in imported.items():
        state.commit(name, checkpoint)
        log.info("checkpoint_imported", stream=name, checkpoint=checkpoint)
    return imported
