"""zdlogs reset's rules, on a local state store: only back, never in the future, at least a minute old, under the
run lease, every shape of checkpoint written as its stream reads it (tests/e2e/test_reset.py runs the command)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from tests.conftest import make_settings
from zdlogs.errors import ConfigError, ZdlogsError
from zdlogs.reset import Rewind, apply, open_state, plan, start_of
from zdlogs.state import StateStore
from zdlogs.stores.local import LocalStore
from zdlogs.streams import AuditLogs, CursorCheckpoint, IncrementalTickets, WindowCheckpoint

KEY = "_zdlogs/state.json"
JUNE = datetime(2026, 6, 1, tzinfo=UTC)


def collected(tmp_path: Path) -> LocalStore:
    """An output where the audit log got to 2026-11-25 10:00 and the tickets have a cursor."""
    store = LocalStore(tmp_path)
    state = StateStore(store, KEY)
    state.slot(AuditLogs()).commit(WindowCheckpoint("2026-11-25T10:00:00Z", (7, 8)))
    state.slot(IncrementalTickets()).commit(CursorCheckpoint("opaque"))
    return store


def test_the_start_is_never_in_the_future_and_at_least_a_minute_old() -> None:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert start_of(JUNE, now) == JUNE
    assert start_of(now - timedelta(seconds=10), now) == now - timedelta(seconds=61)
    with pytest.raises(ConfigError, match="is in the future"):
        start_of(now + timedelta(days=1), now)


def test_the_plan_says_where_each_stream_is_and_where_it_starts_again(tmp_path: Path) -> None:
    state = StateStore(collected(tmp_path), KEY)
    rewinds = plan(state, ["audit_logs", "incremental_tickets", "users"], JUNE)
    assert [rewind.describe() for rewind in rewinds] == [
        "audit_logs: at 2026-11-25T10:00:00Z -> collected again from 2026-06-01T00:00:00Z",
        "incremental_tickets: at a cursor (its time is not recorded) -> collected again from 2026-06-01T00:00:00Z",
        "users: not collected yet -> collected from 2026-06-01T00:00:00Z",
    ]
    assert rewinds[0] == Rewind("audit_logs", "2026-11-25T10:00:00Z", True, JUNE)


def test_a_date_after_where_the_stream_is_is_refused_it_would_leave_a_gap(tmp_path: Path) -> None:
    state = StateStore(collected(tmp_path), KEY)
    with pytest.raises(ConfigError, match=r"after where audit_logs is \(2026-11-25T10:00:00Z\).*only moves"):
        plan(state, ["audit_logs"], datetime(2026, 11, 26, tzinfo=UTC))
    assert plan(state, ["audit_logs"], datetime(2026, 11, 25, 10, tzinfo=UTC))  # the same second: allowed


def test_apply_writes_each_stream_in_its_own_form_and_leaves_the_others(tmp_path: Path) -> None:
    store = collected(tmp_path)
    StateStore(store, KEY).slot(AuditLogs()).begin("zendesk/crm/a.ndjson", WindowCheckpoint("2026-11-25T11:00:00Z"))
    apply(make_settings(output=str(tmp_path)), store, ["audit_logs"], JUNE)
    streams = orjson.loads((tmp_path / KEY).read_bytes())["streams"]
    assert streams["audit_logs"] == {"checkpoint": {"since": "2026-06-01T00:00:00Z", "seen_ids": []}, "pending": None}
    assert streams["incremental_tickets"]["checkpoint"] == {"cursor": "opaque"}
    apply(make_settings(output=str(tmp_path)), store, ["incremental_tickets"], JUNE)
    streams = orjson.loads((tmp_path / KEY).read_bytes())["streams"]
    assert streams["incremental_tickets"]["checkpoint"] == {"start_time": int(JUNE.timestamp())}


def test_apply_refuses_while_a_run_holds_the_lease_and_changes_nothing(tmp_path: Path) -> None:
    store = collected(tmp_path)
    before = (tmp_path / KEY).read_bytes()
    with LocalStore(tmp_path).lease(KEY + ".lease", "collector-host:4242") as held:
        assert held.acquired
        with pytest.raises(ZdlogsError, match=r"another run \(collector-host:4242\) holds the lease.*nothing was"):
            apply(make_settings(output=str(tmp_path)), store, ["audit_logs"], JUNE)
    assert (tmp_path / KEY).read_bytes() == before


def test_an_output_without_checkpoints_is_refused_as_a_likely_typo(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no checkpoints in .*nothing to reset; check --output"):
        open_state(make_settings(output=str(tmp_path / "typo")))
