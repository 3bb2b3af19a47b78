"""Parallel backfill: windows, merge of their checkpoints, and exactly-once against the simulator's truth."""

from __future__ import annotations

import itertools
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson

from tests.e2e.helpers import audit_ids, collector_env, collector_settings, duplicates, sim_config
from zdlogs.backfill import split
from zdlogs.destinations import StoredPage
from zdlogs.errors import StorageError, ZdlogsError
from zdlogs.pipeline import run
from zdlogs.simulator import FaultConfig, Simulator
from zdlogs.state import merged_checkpoint
from zdlogs.stores import LocalStore

STATE = "_zdlogs/state.json"
SINCE = "2020-01-01"  # far before the simulated history: a backfill


RUN_RECORD = ("last_run", "last_success")  # when and by whom: differs from one run to the next


def state_of(output: Path) -> dict:
    """The audit log's entry in the state, without the record of the run that wrote it."""
    entry = orjson.loads((output / STATE).read_bytes())["streams"]["audit_logs"]
    return {key: value for key, value in entry.items() if key not in RUN_RECORD}


def test_windows_are_contiguous_whole_seconds_covering_the_range() -> None:
    start, until = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 3, 1, 0, 0, 7, tzinfo=UTC)
    windows = split(start, until, 16)
    assert len(windows) == 16
    assert windows[0][0] == "2026-01-01T00:00:00Z" and windows[-1][1] == "2026-03-01T00:00:07Z"
    for (_, end), (following, _) in itertools.pairwise(windows):
        gap = datetime.fromisoformat(following.replace("Z", "+00:00")) - datetime.fromisoformat(
            end.replace("Z", "+00:00")
        )
        assert gap.total_seconds() == 1  # no second left out, none in two windows
    assert split(start, start, 4) == [("2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z")]


def test_the_stream_checkpoint_is_the_last_window_of_the_finished_prefix() -> None:
    windows = [
        {"checkpoint": {"since": "a"}, "done": True},
        {"checkpoint": {"since": "b"}, "done": True},
        {"checkpoint": {"since": "c"}, "done": False},
        {"checkpoint": {"since": "d"}, "done": True},
    ]
    assert merged_checkpoint(windows) == {"since": "b"}
    assert merged_checkpoint([{"checkpoint": {"since": "a"}, "done": False}]) == {}


def test_parallel_backfill_stores_every_record_once_and_leaves_the_sequential_checkpoint(tmp_path: Path) -> None:
    with Simulator(sim_config(audit_logs=3000, tickets=0)).start() as sim:
        time.sleep(1.1)
        now = datetime.now(UTC)
        parallel, sequential = tmp_path / "parallel", tmp_path / "sequential"
        run(collector_settings(sim.url, parallel, resources="audit_logs", since=SINCE, backfill_workers=4), now=now)
        run(collector_settings(sim.url, sequential, resources="audit_logs", since=SINCE, backfill_workers=1), now=now)
        truth = {record["id"] for record in sim.truth()["audit_logs"]}
    stored = audit_ids(parallel)
    assert set(stored) == truth and not duplicates(stored)
    assert state_of(parallel) == state_of(sequential)  # same checkpoint, no plan left


def test_a_backfill_cut_by_max_pages_resumes_each_window_and_never_checkpoints_past_a_gap(tmp_path: Path) -> None:
    with Simulator(sim_config(audit_logs=2500, tickets=0)).start() as sim:
        time.sleep(1.1)
        truth = sorted(sim.truth()["audit_logs"], key=lambda r: (r["created_at"], r["id"]))
        settings = collector_settings(
            sim.url, tmp_path, resources="audit_logs", since=SINCE, max_pages=3, backfill_workers=4
        )
        for _ in range(100):
            summary = run(settings)
            state = state_of(tmp_path)
            since = state["checkpoint"].get("since")
            if since:  # every record up to the stream checkpoint is stored
                stored = set(audit_ids(tmp_path))
                assert all(r["id"] in stored for r in truth if r["created_at"] < since)
            if summary.streams[0].status == "ok" and "backfill" not in state:
                break
        else:
            raise AssertionError("the backfill never finished")
        requests = sim.stats()["requests"]
    stored = audit_ids(tmp_path)
    assert set(stored) == {r["id"] for r in truth} and not duplicates(stored)
    assert requests <= len(truth) // 100 + 16 + 2 * 100  # a page per 100, a last page per window, no waste


def test_backfills_killed_mid_way_through_the_cli_resume_without_loss_or_duplicates(tmp_path: Path) -> None:
    rng = random.Random(5)
    slow = FaultConfig(slow_rate=1.0, slow_seconds=0.05, seed=2)
    with Simulator(sim_config(audit_logs=20000, tickets=0, faults=slow)).start() as sim:
        time.sleep(1.1)
        env = collector_env(sim.url, tmp_path, RESOURCES="audit_logs", ZDLOGS_SINCE=SINCE)
        kills = 0
        for _ in range(6):
            process = subprocess.Popen(
                [sys.executable, "-m", "zdlogs", "run"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            time.sleep(rng.uniform(0.8, 1.6))
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                kills += 1
            process.wait()
        assert kills >= 3, "the runs finished before the kill; the test would prove nothing"
        assert subprocess.run([sys.executable, "-m", "zdlogs", "run"], env=env, capture_output=True).returncode == 0
        truth = {record["id"] for record in sim.truth()["audit_logs"]}
    stored = audit_ids(tmp_path)
    assert set(stored) == truth and not duplicates(stored)
    assert "backfill" not in state_of(tmp_path)


def test_a_backfill_failing_in_its_workers_keeps_their_progress_and_completes_on_later_runs(tmp_path: Path) -> None:
    faults = FaultConfig(error_rate=0.15, seed=4)  # with no retries, most runs end on a worker's error
    with Simulator(sim_config(audit_logs=4000, tickets=0, faults=faults)).start() as sim:
        time.sleep(1.1)
        settings = collector_settings(sim.url, tmp_path, resources="audit_logs", since=SINCE, http_retries=0)
        failures = 0
        for _ in range(60):
            try:
                summary = run(settings)
            except ZdlogsError:
                failures += 1
                continue
            if summary.streams[0].status == "ok" and "backfill" not in state_of(tmp_path):
                break
        else:
            raise AssertionError("the backfill never finished")
        truth = {record["id"] for record in sim.truth()["audit_logs"]}
    assert failures >= 2, "no run failed; the test would prove nothing"
    stored = audit_ids(tmp_path)
    assert set(stored) == truth and not duplicates(stored)


def test_a_backfill_whose_page_landed_unacknowledged_settles_it_on_the_next_run(tmp_path: Path, monkeypatch) -> None:
    """The storage fails after a page's object landed (its answer lost): the window keeps its pending entry,
    and the next run, with new records arrived meanwhile, takes the page as stored instead of storing a
    re-fetched, differently cut copy of it (issue 19)."""
    real_deliver = LocalStore.deliver
    calls = itertools.count()

    def lands_then_fails(self: LocalStore, page: StoredPage) -> bool:
        written = real_deliver(self, page)
        if next(calls) == 5:
            raise StorageError("the disk did not answer")
        return written

    with Simulator(sim_config(audit_logs=3000, tickets=0)).start() as sim:
        time.sleep(1.1)
        settings = collector_settings(sim.url, tmp_path, resources="audit_logs", since=SINCE, backfill_workers=4)
        with monkeypatch.context() as patch:
            patch.setattr(LocalStore, "deliver", lands_then_fails)
            try:
                run(settings)
            except StorageError:
                pass
            else:
                raise AssertionError("the injected storage failure did not stop the run")
        pending = [window["pending"] for window in state_of(tmp_path)["backfill"]["windows"] if window["pending"]]
        assert pending, "the page of unknown fate lost its write-ahead entry"
        sim.append_audit_logs(200)
        time.sleep(1.1)  # past the settle second, so the last run may collect them all
        for _ in range(20):
            run(settings)
            if "backfill" not in state_of(tmp_path):
                break
        run(settings)  # and the sequential run after it: the 200 new records
        truth = {record["id"] for record in sim.truth()["audit_logs"]}
    stored = audit_ids(tmp_path)
    assert set(stored) == truth and not duplicates(stored)
