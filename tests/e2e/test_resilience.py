"""Crashes, faults and overlapping runs, through the simulator and the CLI as a real process."""

from __future__ import annotations

import errno
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from tests.e2e.helpers import audit_ids, collector_env, collector_settings, read_records, sim_config
from tests.e2e.test_exactly_once import assert_complete, drain
from zdlogs.errors import StorageError, ZdlogsError
from zdlogs.pipeline import run
from zdlogs.simulator import FaultConfig, Simulator
from zdlogs.stores.local import LocalStore


def test_runs_killed_at_random_points_lose_nothing_and_repeat_nothing(tmp_path: Path) -> None:
    rng = random.Random(7)
    slow = FaultConfig(slow_rate=0.6, slow_seconds=0.12, seed=3)
    with Simulator(sim_config(audit_logs=1500, tickets=200, faults=slow)).start() as sim:
        env = collector_env(sim.url, tmp_path, MAX_PAGES="6")
        kills = 0
        for _ in range(14):
            process = subprocess.Popen(
                [sys.executable, "-m", "zdlogs", "run"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            time.sleep(rng.uniform(0.3, 1.3))
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                kills += 1
            process.wait()
            sim.append_audit_logs(5)
            sim.update_tickets(3)
        assert kills >= 5, "the runs finished before the kill; the test would prove nothing"
        sim.set_faults(FaultConfig())
        drain(collector_settings(sim.url, tmp_path, max_pages=6))
        assert_complete(sim, tmp_path)


def test_injected_faults_lose_nothing(tmp_path: Path) -> None:
    faults = FaultConfig(
        error_rate=0.10,
        reset_rate=0.05,
        truncate_rate=0.05,
        rate_limit_rate=0.08,
        retry_after="mixed",
        retry_after_seconds=0,
        slow_rate=0.03,
        slow_seconds=1.5,
        seed=11,
    )
    with Simulator(sim_config(audit_logs=1200, tickets=300, faults=faults)).start() as sim:
        settings = collector_settings(sim.url, tmp_path, max_pages=4, http_timeout=1, http_retries=6)
        failures = 0
        for _ in range(12):
            try:
                run(settings)
            except ZdlogsError:
                failures += 1  # a spent retry budget; the next run resumes from the checkpoint
            sim.append_audit_logs(4)
        stats = sim.stats()
        sim.set_faults(FaultConfig())
        drain(settings)
        assert_complete(sim, tmp_path)
        assert all(stats["faults"][kind] >= 1 for kind in ("error", "reset", "truncate", "rate_limit", "slow")), stats


def test_overlapping_runs_one_collects_the_other_exits_cleanly(tmp_path: Path) -> None:
    slow = FaultConfig(slow_rate=1.0, slow_seconds=0.05)
    with Simulator(sim_config(audit_logs=600, tickets=20, faults=slow)).start() as sim:
        env = collector_env(sim.url, tmp_path)
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "zdlogs", "--log-format", "json", "run"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(3)
        ]
        outputs = [proc.communicate(timeout=120) for proc in procs]
        assert [proc.returncode for proc in procs] == [0, 0, 0]
        held = sum("lease_held_elsewhere" in err for _out, err in outputs)
        assert held >= 1, "no run met the lease"
        sim.set_faults(FaultConfig())
        drain(collector_settings(sim.url, tmp_path))
        assert_complete(sim, tmp_path)


class DiskFullStore(LocalStore):
    """A local store whose disk fills up after ``room`` objects (ENOSPC from the third write on)."""

    def __init__(self, root: Path, room: int):
        super().__init__(root)
        self.room = room

    def put_if_absent(self, key: str, data: bytes) -> bool:
        if self.room <= 0:
            with self._storage_errors(self._path(key)):
                raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= 1
        return super().put_if_absent(key, data)


def test_a_full_disk_stops_the_run_without_moving_the_checkpoint_past_stored_data(tmp_path: Path) -> None:
    with Simulator(sim_config(audit_logs=600, tickets=10)).start() as sim:
        settings = collector_settings(sim.url, tmp_path, resources="audit_logs", object_records=0)  # a page an object
        with pytest.raises(StorageError, match="No space left"):
            run(settings, destination=DiskFullStore(tmp_path, room=2))
        state = orjson.loads((tmp_path / "_zdlogs/state.json").read_bytes())["streams"]["audit_logs"]
        stored = audit_ids(tmp_path)
        assert len(stored) == 200
        assert state["checkpoint"]["since"] <= max(r["created_at"] for r in read_records(tmp_path, "audit_logs"))
        drain(settings)
        assert_complete(sim, tmp_path, tickets=False)
