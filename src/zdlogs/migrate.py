"""Taking over from the original Cloud Run function without re-ingesting or losing anything.

The original function kept ``{"audit_logs": {"next_url": ...}, "incremental_tickets": {"cursor": ...}}``
in its state file (by default ``state.json`` inside its feed prefix, the default data prefix). Its ticket cursor is a
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

from zdlogs.config import Settings, env_name
from zdlogs.destinations import open_state_store
from zdlogs.errors import ConfigError, StorageError
from zdlogs.state import Resumable, StateStore
from zdlogs.stores import open_store
from zdlogs.streams import AuditLogs, IncrementalTickets
from zdlogs.streams.base import Checkpoint, iso_z
from zdlogs.streams.cursor_export import CursorCheckpoint
from zdlogs.streams.windowed import WindowCheckpoint

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
    raw = open_store(f"gs://{parts.netloc}/").read(parts.path.lstrip("/"))
    if raw is None:
        raise ConfigError(f"{source} does not exist: point --from at the original function's {env_name('state_key')}")
    return raw


def import_state(settings: Settings, source: str, audit_since: datetime | None, force: bool = False) -> dict:
    """Write zdlogs checkpoints from the original function's state; refuse to overwrite ours unless forced."""
    old = read_old_state(source)
    cursor = (old.get("incremental_tickets") or {}).get("cursor")
    store = open_state_store(settings)
    state = StateStore(store, settings.state_key)
    imported: dict[Resumable, Checkpoint] = {}
    if isinstance(cursor, str) and cursor:
        imported[IncrementalTickets()] = CursorCheckpoint(cursor)
    if audit_since is not None:
        imported[AuditLogs()] = WindowCheckpoint(iso_z(audit_since))
    existing = [stream.name for stream in imported if state.checkpoint(stream) and not force]
    if existing:
        raise StorageError(
            f"zdlogs already has checkpoints for {', '.join(existing)} in {store.url}: nothing imported "
            "(pass --force to replace them)"
        )
    for stream, checkpoint in imported.items():
        state.slot(stream).commit(checkpoint)
        log.info("checkpoint_imported", stream=stream.name, checkpoint=checkpoint.to_json())
    return {stream.name: checkpoint.to_json() for stream, checkpoint in imported.items()}
