"""``zdlogs status``: how each stream stands, read from the checkpoints of any output (a directory, ``gs://``,
``s3://``, or a ``secops://`` output's state store) without writing anything.

Per stream: the last run that touched it (``last_run`` in the state: when, by whom, its outcome, records, the
error if any), how far it is collected as a time, the lag (now minus that time), its pending write-ahead entries
and the progress of an unfinished backfill; once for the output, who holds the run lease until when.

How far a stream is collected (``collected_to``) is the later of two times: how far its checkpoint has come
(``checkpoint_time``: the second of the last stored record; for the cursor exports, whose cursor is opaque, the
newest record stored, which each run records) and the time up to which the last run that went to the end
collected it (``complete_to``), so a stream of an account with nothing new is not counted as behind.

A configured stream *needs attention* (exit 6, ``NeedsAttention``) when it was never collected, when its last
run failed (or was refused: ``skipped``), or, with ``--max-lag``, when it lags more or its lag is not known.
The JSON form is stable (``"format": 1``, fields in docs/STATUS.md); the metrics file reads the same figures.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import orjson

from zdlogs.config import Settings, env_name, flag_name
from zdlogs.state import StateStore
from zdlogs.stores import LocalStore, ObjectStore, open_store
from zdlogs.stores._objects import expired, holder
from zdlogs.stores.local import lease_holder
from zdlogs.streams import STREAMS
from zdlogs.times import iso_z, parse_utc, utc_now

STATUS_FORMAT = 1
FAILED = ("failed", "skipped")  # outcomes of a last run that did not collect the stream
RUN_FIELDS = ("started", "finished", "by", "outcome", "records", "pages", "requests", "rate_limited", "retries")
NONE = "—"


@dataclass(frozen=True)
class LeaseStatus:
    """The output's run lease: ``free``, ``held`` (by ``owner`` since ``since``, until ``until``; a directory's
    lock has no expiry, it ends with its process) or ``expired`` (its run died; the next run takes it over)."""

    state: str
    owner: str = ""
    since: str = ""
    until: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "owner": self.owner or None,
            "since": self.since or None,
            "until": self.until or None,
        }

    def describe(self) -> str:
        if self.state == "free":
            return "free"
        if self.state == "expired":
            return f"expired at {self.until} (held by {self.owner}, a run that died): the next run takes it over"
        until = f"until {self.until} (renewed while the run lasts)" if self.until else "until its process ends"
        return f"held by {self.owner} since {self.since}, {until}"


@dataclass(frozen=True)
class StreamStatus:
    """One stream as the state file tells it; ``problem`` is why it needs attention (None: it does not)."""

    stream: str
    configured: bool
    last_run: dict[str, Any] | None
    last_success: str | None
    checkpoint_time: str | None
    complete_to: str | None
    lag_seconds: int | None
    pending: int
    backfill: dict[str, int] | None
    problem: str | None = None

    @property
    def collected_to(self) -> str | None:
        """The later of the checkpoint's time and the last complete run's end: what the lag is measured from."""
        known = [moment for moment in (self.checkpoint_time, self.complete_to) if moment]
        return max(known, key=parse_utc) if known else None

    def to_json(self) -> dict[str, Any]:
        return {
            "stream": self.stream,
            "configured": self.configured,
            "healthy": self.problem is None,
            "problem": self.problem,
            "last_run": self.last_run,
            "last_success": self.last_success,
            "checkpoint_time": self.checkpoint_time,
            "complete_to": self.complete_to,
            "collected_to": self.collected_to,
            "lag_seconds": self.lag_seconds,
            "pending": self.pending,
            "backfill": self.backfill,
        }


@dataclass(frozen=True)
class Status:
    """Every stream of the output, configured ones first, as of ``checked_at``."""

    output: str
    state: str
    checked_at: str
    max_lag_seconds: int | None
    lease: LeaseStatus
    streams: list[StreamStatus]

    @property
    def attention(self) -> list[StreamStatus]:
        return [item for item in self.streams if item.configured and item.problem]

    @property
    def healthy(self) -> bool:
        return not self.attention

    def to_json(self) -> dict[str, Any]:
        return {
            "format": STATUS_FORMAT,
            "output": self.output,
            "state": self.state,
            "checked_at": self.checked_at,
            "max_lag_seconds": self.max_lag_seconds,
            "healthy": self.healthy,
            "lease": self.lease.to_json(),
            "streams": [item.to_json() for item in self.streams],
        }

    def verdict(self) -> str:
        """The one line of exit 6: which streams need attention, and why."""
        configured = sum(item.configured for item in self.streams)
        reasons = "; ".join(f"{item.stream} {item.problem}" for item in self.attention)
        return f"{len(self.attention)} of {configured} streams need attention - {reasons}"


# -- reading ------------------------------------------------------------------------------------------------


def state_location(settings: Settings) -> str:
    """Where the checkpoints live: the output, or a ``secops://`` output's state store."""
    return settings.secops_state if urlsplit(settings.output).scheme == "secops" else settings.output


def read_status(settings: Settings, max_lag: timedelta | None = None, now: datetime | None = None) -> Status:
    """The status of every configured stream (and of any other the state holds), reading, never writing."""
    store = open_store(state_location(settings), timeout=settings.storage_timeout, read_only=True)
    state = StateStore(store, settings.state_key)
    moment = now or utc_now()
    limit = int(max_lag.total_seconds()) if max_lag else None
    others = [name for name in state.streams() if name not in settings.resources]
    streams = [
        stream_status(name, state.recorded(name), moment, limit, configured=name in settings.resources)
        for name in [*settings.resources, *others]
    ]
    lease = lease_status(store, settings.state_key + ".lease", moment)
    where = f"{store.url.rstrip('/')}/{settings.state_key}"
    return Status(settings.output, where, iso_z(moment), limit, lease, streams)


def stream_status(
    name: str, entry: dict[str, Any] | None, now: datetime, max_lag: int | None, configured: bool = True
) -> StreamStatus:
    """One stream's status from its entry in the state file (None: it has none)."""
    entry = entry or {}
    checkpoint = checkpoint_time(name, entry)
    complete = entry.get("complete_to") or None
    known = [moment for moment in (checkpoint, complete) if moment]
    lag = max(0, int((now - max(map(parse_utc, known))).total_seconds())) if known else None
    item = StreamStatus(
        stream=name,
        configured=configured,
        last_run=last_run(entry),
        last_success=entry.get("last_success") or None,
        checkpoint_time=checkpoint,
        complete_to=complete,
        lag_seconds=lag,
        pending=pending_entries(entry),
        backfill=backfill_progress(entry),
    )
    return _judged(item, entry, max_lag) if configured else item


def checkpoint_time(name: str, entry: dict[str, Any]) -> str | None:
    """How far the checkpoint has come as a time: its own (the last stored second); during a backfill that
    finished no window from the start yet, the start of the plan; for an opaque cursor, the newest record the
    runs stored. None when nothing says (nothing stored yet, or a cursor from before runs were recorded)."""
    stream = STREAMS.get(name)
    reached = stream.checkpoint_type.from_json(entry.get("checkpoint") or {}).reached() if stream else ""
    windows = (entry.get("backfill") or {}).get("windows") or []
    if not reached and windows:
        reached = str(windows[0].get("start") or "")
    return reached or entry.get("newest_record") or None


def last_run(entry: dict[str, Any]) -> dict[str, Any] | None:
    """The documented fields of the stream's last run (``error`` null when it had none)."""
    run = entry.get("last_run")
    if not isinstance(run, dict):
        return None
    return {**{field: run.get(field) for field in RUN_FIELDS}, "error": run.get("error") or None}


def pending_entries(entry: dict[str, Any]) -> int:
    """Write-ahead entries left by a run that stopped mid-page: the stream's own and its backfill windows'."""
    windows = (entry.get("backfill") or {}).get("windows") or []
    return int(bool(entry.get("pending"))) + sum(bool(window.get("pending")) for window in windows)


def backfill_progress(entry: dict[str, Any]) -> dict[str, int] | None:
    windows = (entry.get("backfill") or {}).get("windows")
    if not windows:
        return None
    return {"windows": len(windows), "done": sum(bool(window.get("done")) for window in windows)}


def _judged(item: StreamStatus, entry: dict[str, Any], max_lag: int | None) -> StreamStatus:
    """The stream with why it needs attention, if it does."""
    run = item.last_run
    problem = None
    if run is None and not entry.get("checkpoint") and not item.backfill and not item.pending:
        problem = f"was never collected: run zdlogs run with it in {env_name('resources')} ({flag_name('resources')})"
    elif run is not None and run["outcome"] in FAILED:
        problem = f"last run {run['outcome']} at {run['finished']}: {run['error'] or 'no reason recorded'}"
    elif max_lag is not None and item.lag_seconds is None:
        problem = "has no known lag yet (no run of this zdlogs version has stored a record of it): run zdlogs run"
    elif max_lag is not None and item.lag_seconds is not None and item.lag_seconds > max_lag:
        problem = (
            f"lags {span(item.lag_seconds)}, more than --max-lag {span(max_lag)}: check that zdlogs run still "
            "runs (its schedule, its logs)"
        )
    return replace(item, problem=problem)


def lease_status(store: ObjectStore, key: str, now: datetime) -> LeaseStatus:
    """Who holds the output's run lease: a directory's lock asked without taking it, a bucket's lease object read."""
    if isinstance(store, LocalStore):
        held = lease_holder(store.root / key)
        return LeaseStatus("held", held.owner, held.since) if held else LeaseStatus("free")
    raw = store.read(key)
    if raw is None:
        return LeaseStatus("free")
    lease = holder(raw)
    return LeaseStatus("expired" if expired(lease.expires) else "held", lease.owner, lease.since, lease.expires)


# -- showing ------------------------------------------------------------------------------------------------


def render_json(status: Status) -> str:
    return orjson.dumps(status.to_json(), option=orjson.OPT_INDENT_2).decode()


def span(seconds: int) -> str:
    """``45s``, ``7m57s``, ``1h02m03s``, ``3d04h05m06s``: exact to the second, never rounded."""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours:02d}h{minutes:02d}m{secs:02d}s"
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


HEADERS = ("stream", "last run", "outcome", "records", "collected to", "lag", "pending")
RIGHT = {"records", "lag", "pending"}


def _cells(item: StreamStatus) -> tuple[str, ...]:
    run = item.last_run or {}
    records = run.get("records")
    return (
        item.stream if item.configured else f"{item.stream}*",
        run.get("finished") or "never",
        run.get("outcome") or NONE,
        f"{records:,}" if isinstance(records, int) else NONE,
        item.collected_to or NONE,
        span(item.lag_seconds) if item.lag_seconds is not None else NONE,
        str(item.pending),
    )


def render_table(status: Status, width: int | None = None) -> str:
    """Aligned columns, nothing cut; where the terminal is narrower than that, one block per stream."""
    rows = [HEADERS, *(_cells(item) for item in status.streams)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(HEADERS))]
    room = width or shutil.get_terminal_size((100_000, 24)).columns
    if sum(widths) + 2 * (len(widths) - 1) <= room:
        body = [_line(row, widths) for row in rows]
    else:
        body = [line for row in rows[1:] for line in _block(row)]
    return "\n".join([_heading(status), *body, *_notes(status)])


def _line(row: tuple[str, ...], widths: list[int]) -> str:
    cells = [
        cell.rjust(size) if header in RIGHT else cell.ljust(size)
        for cell, size, header in zip(row, widths, HEADERS, strict=True)
    ]
    return "  ".join(cells).rstrip()


def _block(row: tuple[str, ...]) -> list[str]:
    size = max(len(header) for header in HEADERS[1:])
    return [row[0], *(f"  {header.ljust(size)}  {cell}" for header, cell in zip(HEADERS[1:], row[1:], strict=True))]


def _heading(status: Status) -> str:
    limit = f", --max-lag {span(status.max_lag_seconds)}" if status.max_lag_seconds else ""
    return f"zdlogs status of {status.output} (state {status.state}) at {status.checked_at}{limit}"


def _notes(status: Status) -> list[str]:
    """The lease, then what a table row cannot hold: each last run's error, each unfinished backfill."""
    notes = [f"Lease: {status.lease.describe()}"]
    for item in status.streams:
        run = item.last_run or {}
        if run.get("error"):
            notes.append(f"{item.stream}: last run {run['outcome']}: {run['error']}")
        if item.backfill:
            done, total = item.backfill["done"], item.backfill["windows"]
            notes.append(f"{item.stream}: backfill in progress, {done} of {total} windows done")
    if any(not item.configured for item in status.streams):
        notes.append(f"* not in {env_name('resources')} ({flag_name('resources')}): shown, not judged")
    if status.healthy:
        notes.append(f"All {sum(item.configured for item in status.streams)} configured streams are fine.")
    return notes


# -- a fleet ------------------------------------------------------------------------------------------------


def render_fleet_json(statuses: dict[str, Status]) -> str:
    """``{"format", "healthy", "tenants": {name: <one output's status>}}``: docs/STATUS.md."""
    document = {
        "format": STATUS_FORMAT,
        "healthy": all(status.healthy for status in statuses.values()),
        "tenants": {name: status.to_json() for name, status in statuses.items()},
    }
    return orjson.dumps(document, option=orjson.OPT_INDENT_2).decode()


def render_fleet_table(statuses: dict[str, Status], width: int | None = None) -> str:
    """Each tenant's table under a ``tenant NAME`` line."""
    return "\n\n".join(f"tenant {name}\n{render_table(status, width)}" for name, status in statuses.items())


def fleet_verdict(statuses: dict[str, Status]) -> str:
    """The one line of exit 6 for a fleet: which tenants need attention, and why."""
    unwell = {name: status for name, status in statuses.items() if not status.healthy}
    reasons = "; ".join(f"{name}: {status.verdict()}" for name, status in unwell.items())
    return f"{len(unwell)} of {len(statuses)} tenants need attention - {reasons}"
