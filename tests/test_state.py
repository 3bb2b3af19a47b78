"""Checkpoints: slots, write-ahead pending pages, corruption and version checks, and state files written by the
zdlogs before typed checkpoints (tests/data/state_format_1.json: every stream's checkpoint, a pending page on the
ticket export and on a backfill window, two unfinished backfill plans) read and written unchanged."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from zdlogs.errors import StorageError
from zdlogs.state import StateStore
from zdlogs.stores.local import LocalStore
from zdlogs.streams import STREAMS, AccessLogs, AuditLogs, CursorCheckpoint, IncrementalTickets, WindowCheckpoint

KEY = "_zdlogs/state.json"
OLD_STATE = Path(__file__).parent / "data" / "state_format_1.json"


def test_pending_page_is_taken_when_its_object_exists(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    StateStore(store, KEY).slot(IncrementalTickets()).begin("data/1.ndjson", CursorCheckpoint("b"))
    store.put_if_absent("data/1.ndjson", b"x\n")  # the run died right after the data write
    assert StateStore(store, KEY).slot(IncrementalTickets()).resume(store.delivered) == CursorCheckpoint("b")


def test_pending_page_is_dropped_when_its_object_is_missing(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    slot = StateStore(store, KEY).slot(IncrementalTickets())
    slot.stored(CursorCheckpoint("a"))
    slot.begin("data/1.ndjson", CursorCheckpoint("b"))
    assert StateStore(store, KEY).slot(IncrementalTickets()).resume(store.delivered) == CursorCheckpoint("a")


def test_commit_persists_and_clears_pending(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    slot = StateStore(store, KEY).slot(IncrementalTickets())
    slot.begin("data/1.ndjson", CursorCheckpoint("b"))
    slot.commit(CursorCheckpoint("b"))
    doc = orjson.loads((tmp_path / KEY).read_bytes())
    assert doc == {"format": 1, "streams": {"incremental_tickets": {"checkpoint": {"cursor": "b"}, "pending": None}}}


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"{not json", "corrupted"), (b"[]", "corrupted"), (b'{"format": 99, "streams": {}}', "upgrade zdlogs")],
)
def test_bad_state_files_are_refused_with_the_fix(tmp_path: Path, content: bytes, message: str) -> None:
    store = LocalStore(tmp_path)
    store.replace(KEY, content)
    with pytest.raises(StorageError, match=message):
        StateStore(store, KEY)
    assert (tmp_path / KEY).read_bytes() == content  # never overwritten by the refusal


def _old_state(tmp_path: Path) -> tuple[LocalStore, dict]:
    store = LocalStore(tmp_path)
    raw = OLD_STATE.read_bytes()
    store.replace(KEY, raw)
    return store, orjson.loads(raw)


def test_a_state_file_of_the_previous_format_resumes_and_is_saved_in_the_same_shape(tmp_path: Path) -> None:
    store, old = _old_state(tmp_path)
    state = StateStore(store, KEY)
    for name, entry in old["streams"].items():  # every shape reads and writes back the JSON it was given
        kind = STREAMS[name].checkpoint_type
        assert kind.from_json(entry["checkpoint"]).to_json() == entry["checkpoint"]
        for window in entry.get("backfill", {}).get("windows", []):
            assert kind.from_json(window["checkpoint"]).to_json() == window["checkpoint"]
    tickets = old["streams"]["incremental_tickets"]
    store.put_if_absent(tickets["pending"]["key"], b"{}\n")  # that pending page was stored before the kill
    slot = state.slot(IncrementalTickets())
    assert slot.resume(store.delivered) == CursorCheckpoint("NEXTCURSOR")
    slot.commit(slot.durable)  # settled in memory already: nothing to write, as before
    assert (tmp_path / KEY).read_bytes() == OLD_STATE.read_bytes()
    state.save()
    expected = copy.deepcopy(old)
    expected["streams"]["incremental_tickets"] = {"checkpoint": {"cursor": "NEXTCURSOR"}, "pending": None}
    assert (tmp_path / KEY).read_bytes() == orjson.dumps(expected, option=orjson.OPT_INDENT_2)
    assert orjson.loads(OLD_STATE.read_bytes()) == old


def test_the_unfinished_backfill_plans_of_an_old_state_file_resume_window_by_window(tmp_path: Path) -> None:
    store, old = _old_state(tmp_path)
    state = StateStore(store, KEY)
    assert state.planned("audit_logs") and state.planned("access_logs")
    audit = old["streams"]["audit_logs"]["backfill"]["windows"]
    windows = state.open_windows(AuditLogs())
    assert [(w.start, w.end) for w in windows] == [(w["start"], w["end"]) for w in audit]
    pending = next(i for i, w in enumerate(audit) if w["pending"])
    assert windows[pending].resume(store.delivered).to_json() == audit[pending]["checkpoint"]  # object absent: dropped
    access = old["streams"]["access_logs"]
    assert state.checkpoint(AccessLogs()).to_json() == access["checkpoint"]
    assert len(state.open_windows(AccessLogs())) == sum(not w["done"] for w in access["backfill"]["windows"])
    first = state.open_windows(AccessLogs())[0]
    first.commit(first.resume(store.delivered), done=True)
    saved = orjson.loads((tmp_path / KEY).read_bytes())["streams"]
    windows_after = saved["access_logs"]["backfill"]["windows"]
    done = [w["done"] for w in windows_after]
    assert done == [True] * (done.index(False)) + [False] * (len(done) - done.index(False))
    assert saved["access_logs"]["checkpoint"] == windows_after[done.index(False) - 1]["checkpoint"]
    assert saved["audit_logs"]["backfill"]["windows"][pending]["pending"] is None


def test_a_rewind_replaces_the_checkpoint_and_drops_the_pending_page_and_the_backfill_plan(tmp_path: Path) -> None:
    store, old = _old_state(tmp_path)
    state = StateStore(store, KEY)
    audit_plan = old["streams"]["audit_logs"]["backfill"]["windows"]
    assert state.position(AuditLogs()) == audit_plan[0]["start"]  # nothing finished: the plan's start
    assert state.position(IncrementalTickets()) == ""  # an opaque cursor
    state.rewind(AuditLogs(), WindowCheckpoint.starting_at(datetime(2026, 1, 1, tzinfo=UTC)))
    state.rewind(IncrementalTickets(), CursorCheckpoint.starting_at(datetime(2026, 1, 1, tzinfo=UTC)))
    saved = orjson.loads((tmp_path / KEY).read_bytes())["streams"]
    assert saved["audit_logs"] == {"checkpoint": {"since": "2026-01-01T00:00:00Z", "seen_ids": []}, "pending": None}
    assert saved["incremental_tickets"] == {"checkpoint": {"start_time": 1767225600}, "pending": None}
    assert saved["access_logs"] == old["streams"]["access_logs"]  # the other streams as they were
    assert StateStore(store, KEY).position(IncrementalTickets()) == "2026-01-01T00:00:00Z"


# ---- how each run went (last_run): noted in memory, written with the next save, optional in the file


def _run(outcome: str, finished: str = "2026-12-02T10:00:05Z") -> dict:
    return {"started": "2026-12-02T10:00:00Z", "finished": finished, "outcome": outcome, "records": 3}


def test_a_run_is_noted_in_memory_and_written_by_the_flush_once(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    state = StateStore(store, KEY)
    state.record_run("audit_logs", _run("ok"), newest_record="2026-12-02T09:58:00Z", complete_to="2026-12-02T09:58:00Z")
    assert not (tmp_path / KEY).exists()  # nothing written yet
    state.flush()
    written = (tmp_path / KEY).stat().st_mtime_ns, (tmp_path / KEY).read_bytes()
    state.flush()  # nothing new: no second write
    assert ((tmp_path / KEY).stat().st_mtime_ns, (tmp_path / KEY).read_bytes()) == written
    entry = orjson.loads(written[1])["streams"]["audit_logs"]
    assert entry["last_run"] == _run("ok") and entry["last_success"] == "2026-12-02T10:00:05Z"
    assert (entry["newest_record"], entry["complete_to"]) == ("2026-12-02T09:58:00Z", "2026-12-02T09:58:00Z")


def test_a_failed_run_keeps_the_last_success_and_how_far_the_stream_went(tmp_path: Path) -> None:
    state = StateStore(LocalStore(tmp_path), KEY)
    state.record_run("users", _run("ok"), newest_record="2026-12-02T09:00:00Z", complete_to="2026-12-02T10:00:00Z")
    state.record_run("users", _run("failed", "2026-12-02T11:00:05Z"), newest_record="2026-12-02T08:00:00Z")
    entry = state.recorded("users")
    assert entry is not None and entry["last_run"]["outcome"] == "failed"
    assert entry["last_success"] == "2026-12-02T10:00:05Z"
    assert (entry["newest_record"], entry["complete_to"]) == ("2026-12-02T09:00:00Z", "2026-12-02T10:00:00Z")
    assert state.recorded("organizations") is None and state.streams() == ["users"]


def test_an_old_state_file_gets_the_run_records_beside_its_fields_and_stays_format_1(tmp_path: Path) -> None:
    store, old = _old_state(tmp_path)
    state = StateStore(store, KEY)
    assert all(state.recorded(name) == entry for name, entry in old["streams"].items())  # read as it is
    state.record_run("incremental_tickets", _run("limited"))
    state.flush()
    saved = orjson.loads((tmp_path / KEY).read_bytes())
    assert saved["format"] == 1
    tickets = saved["streams"].pop("incremental_tickets")
    assert {key: tickets[key] for key in old["streams"]["incremental_tickets"]} == old["streams"]["incremental_tickets"]
    assert tickets["last_run"]["outcome"] == "limited" and tickets["last_success"] == "2026-12-02T10:00:05Z"
    assert saved["streams"] == {name: e for name, e in old["streams"].items() if name != "incremental_tickets"}
    assert StateStore(store, KEY).slot(IncrementalTickets()).resume(store.delivered)  # and it resumes as before
