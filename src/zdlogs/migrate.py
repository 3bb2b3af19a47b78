"""Taking over from the original Cloud Run function without re-ingesting or losing anything.

The original function kept ``{"audit_logs": {"next_url": ...}, "incremental_tickets": {"cursor": ...}}``
in its state file (by default ``state.json`` inside its feed prefix, the default data prefix); both values are
null until a page set them, and both keys are there from its first run. Its ticket cursor is a Zendesk export
cursor and can be reused as is. Its audit-log ``next_url`` is an offset page of a newest-first list and says
nothing reliable about time, so the audit log resumes from a time the user must give (the old function's last
successful run, minus a margin): without it zdlogs would start ``LOOKBACK_SECONDS`` back and silently lose the
history in between. A few minutes of overlap cost duplicates, never a loss.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import structlog

from zdlogs.config import DEFAULT_DATA_PREFIX, Settings, env_name, flag_name
from zdlogs.destinations import open_state_store
from zdlogs.errors import ConfigError, StorageError
from zdlogs.state import Resumable, StateStore
from zdlogs.stores import open_store
from zdlogs.streams import AuditLogs, IncrementalTickets
from zdlogs.streams.base import Checkpoint
from zdlogs.streams.cursor_export import CursorCheckpoint
from zdlogs.streams.windowed import WindowCheckpoint
from zdlogs.times import iso_z

log = structlog.get_logger("zdlogs.migrate")

OLD_SHAPE = {"audit_logs": "next_url", "incremental_tickets": "cursor"}  # the only keys the function writes
OLD_STATE_URL = f"gs://BUCKET/{DEFAULT_DATA_PREFIX}state.json"  # where the function kept it by default


@dataclass(frozen=True)
class OldState:
    """What the original function's state holds: its ticket cursor (None before its first ticket page)."""

    ticket_cursor: str | None


def is_gs(source: str) -> bool:
    return urlsplit(source).scheme == "gs"


def where_to_point(source: str) -> str:
    """The fix for a wrong ``--from``, for the kind of place it names (a bucket object or a local file)."""
    if is_gs(source):
        return f"point --from at the object of the function's {env_name('state_key')} (by default {OLD_STATE_URL})"
    return f"point --from at {OLD_STATE_URL} (the function's {env_name('state_key')}) or at a local copy of it"


def read_old_state(source: str) -> OldState:
    """The original function's state, from a local path or ``gs://bucket/key``; anything else is refused."""
    raw = _read_gs(source) if is_gs(source) else _read_local(source)
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ConfigError(
            f"{source} is not JSON, so not the original function's state: {where_to_point(source)}"
        ) from None
    problem = _shape_problem(doc)
    if problem:
        raise ConfigError(f"{source} is not the original function's state ({problem}): {where_to_point(source)}")
    cursor = doc.get("incremental_tickets", {}).get("cursor")
    return OldState(ticket_cursor=cursor or None)


def _shape_problem(doc: Any) -> str | None:
    """Why ``doc`` is not what the function writes, or None: an object with ``audit_logs`` and/or
    ``incremental_tickets``, each an object holding at most its one key, a string or null."""
    if not isinstance(doc, dict):
        return "a JSON object was expected"
    if "streams" in doc and "format" in doc:
        return "it is a zdlogs state file"
    unknown = sorted(set(doc) - set(OLD_SHAPE))
    if unknown or not doc:
        return f"unexpected keys {', '.join(unknown)}" if unknown else "it is empty"
    for name, key in OLD_SHAPE.items():
        entry = doc.get(name, {})
        if not isinstance(entry, dict) or set(entry) - {key} or not isinstance(entry.get(key), str | None):
            return f'"{name}" should be {{"{key}": a string or null}}'
    return None


def _read_local(source: str) -> bytes:
    try:
        return Path(source).expanduser().read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {source} ({exc.strerror}): {where_to_point(source)}") from None


def _read_gs(source: str) -> bytes:
    parts = urlsplit(source)
    raw = open_store(f"gs://{parts.netloc}/").read(parts.path.lstrip("/"))
    if raw is None:
        raise ConfigError(f"{source} does not exist: {where_to_point(source)}")
    return raw


def require_audit_since(audit_since: datetime | None, now: datetime | None = None) -> datetime:
    """The audit log's start: the old state has no time for it, so only the user can say where its history ends."""
    if audit_since is None:
        raise ConfigError(
            "the original function's state holds no time for the audit log (its next_url is a page of a "
            f"newest-first list), and without one the first run would start {env_name('lookback_seconds')} back, "
            "losing what happened since the function's last run: pass --audit-since with the start of its last "
            "successful run minus 15 minutes (or an earlier time, to collect more again)"
        )
    if audit_since > (now or datetime.now(UTC)):
        raise ConfigError(
            f"--audit-since {iso_z(audit_since)} is in the future: give the function's last run minus 15 minutes"
        )
    return audit_since


def import_state(settings: Settings, source: str, audit_since: datetime | None, force: bool = False) -> dict:
    """Write zdlogs checkpoints from the original function's state; refuse to overwrite ours unless forced."""
    old = read_old_state(source)
    imported: dict[Resumable, Checkpoint] = {AuditLogs(): WindowCheckpoint(iso_z(require_audit_since(audit_since)))}
    if old.ticket_cursor:
        imported[IncrementalTickets()] = CursorCheckpoint(old.ticket_cursor)
    store = open_state_store(settings)
    state = StateStore(store, settings.state_key)
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


def cleanup_advice(source: str) -> str:
    """What to delete once zdlogs runs in the function's place: the bucket object, even when --from was a copy."""
    target = source if is_gs(source) else f"the function's state object ({OLD_STATE_URL}, not only the copy {source})"
    return (
        f"Once the original function is stopped, delete {target}: it sits in the feed prefix, where SecOps "
        "ingests it as a log."
    )


def no_ticket_cursor_advice() -> str:
    """Said when the old state has no ticket cursor: the tickets then start where a first run starts."""
    return (
        f"incremental_tickets: the old state has no cursor; the first run starts at {flag_name('since')} "
        f"({env_name('since')}) or {env_name('lookback_seconds')} back: set one to cover the function's history"
    )
