"""Collecting streams again from a date, on purpose: ``zdlogs reset --stream NAME --since DATE``.

``--since`` only places a stream's first run: once a checkpoint exists a run resumes from it (and says so in
a ``since_ignored`` line). To collect again — objects deleted downstream, a feed that skipped a range — the
stream's checkpoint is moved back to the date, in the stream's own form (``Checkpoint.starting_at``: a time
window's start, a time-based export's ``start_time``, or a cursor export's ``start_time`` in place of its
cursor), under the run lease so no run is moving it at the same time. The stream's pending page and any
unfinished backfill plan go with it: everything from the date on is collected again.

Only back: a date after where the stream is would leave the records in between uncollected, so it is refused.
Pages fetched again exactly as they were stored get the same object name (names come from the content) and
are not written twice; a page cut differently (the earlier collection ended a run inside it) is a new object.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from zdlogs.config import Settings, env_name
from zdlogs.destinations import open_state_store
from zdlogs.errors import ConfigError, ZdlogsError
from zdlogs.pipeline import run_owner
from zdlogs.state import StateStore
from zdlogs.stores import ObjectStore
from zdlogs.streams import STREAMS
from zdlogs.streams.cursor_export import MIN_AGE_SECONDS
from zdlogs.times import iso_z, parse_utc, utc_now

log = structlog.get_logger("zdlogs.reset")


@dataclass(frozen=True)
class Rewind:
    """One stream moved back: where it was (a time, "" when its checkpoint does not say), and where it starts."""

    stream: str
    was: str
    collected: bool
    start: datetime

    def describe(self) -> str:
        """``audit_logs: at 2026-12-02T16:10:00Z -> collected again from 2026-06-01T00:00:00Z``."""
        if not self.collected:
            return f"{self.stream}: not collected yet -> collected from {iso_z(self.start)}"
        where = self.was or "a cursor (its time is not recorded)"
        return f"{self.stream}: at {where} -> collected again from {iso_z(self.start)}"


def start_of(since: datetime, now: datetime | None = None) -> datetime:
    """The start to give the streams: ``since``, never in the future, and at least a minute old (Zendesk
    refuses an export's ``start_time`` inside the last minute; starting earlier only collects more)."""
    now = now or utc_now()
    if since > now:
        raise ConfigError(f"--since {iso_z(since)} is in the future (it is {iso_z(now)}): give a date in the past")
    return min(since, now - timedelta(seconds=MIN_AGE_SECONDS))


def open_state(settings: Settings) -> tuple[ObjectStore, StateStore]:
    """The state store of the output and its checkpoints; an output without any is refused (a mistyped -o)."""
    store = open_state_store(settings)
    if not store.exists(settings.state_key):
        raise ConfigError(
            f"no checkpoints in {store.url} ({settings.state_key}): nothing was collected there, so there is "
            f"nothing to reset; check --output / {env_name('output')} (a first run takes --since)"
        )
    return store, StateStore(store, settings.state_key)


def plan(state: StateStore, names: list[str], start: datetime) -> list[Rewind]:
    """What the reset does to each stream; a stream whose checkpoint is before ``start`` is refused."""
    rewinds = []
    for name in names:
        stream = STREAMS[name]()
        was, collected = state.position(stream), bool(state.checkpoint(stream)) or state.planned(name)
        if was and parse_utc(was) < start:
            raise ConfigError(
                f"--since {iso_z(start)} is after where {name} is ({was}): reset only moves a checkpoint back "
                "(forward would leave the records in between uncollected); give a date on or before that"
            )
        rewinds.append(Rewind(name, was, collected, start))
    return rewinds


def apply(settings: Settings, store: ObjectStore, names: list[str], start: datetime) -> list[Rewind]:
    """Move the streams' checkpoints back, holding the run lease; the state is read again under it (a run
    may have moved it since it was shown), so the refusal of a forward move holds for what is written."""
    with store.lease(settings.state_key + ".lease", run_owner()) as lease:
        if not lease.acquired:
            until = lease.expires or "its process ends"
            raise ZdlogsError(
                f"another run ({lease.owner}) holds the lease on {store.url} until {until}: nothing was "
                "changed; run zdlogs reset again once it has finished"
            )
        state = StateStore(store, settings.state_key)
        rewinds = plan(state, names, start)
        for rewind in rewinds:
            stream = STREAMS[rewind.stream]()
            state.rewind(stream, stream.checkpoint_type.starting_at(start))
            log.info("checkpoint_reset", stream=rewind.stream, was=rewind.was, start=iso_z(start), output=store.url)
    return rewinds
