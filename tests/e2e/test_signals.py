"""Ctrl-C and SIGTERM during a backfill, with the CLI as a real process against the simulator.

Every worker is made to wait out a rate limit (429s asking for 60 s): the run must say "stopping…" at once,
end within seconds with exit 130 (SIGINT) or 143 (SIGTERM) and one line saying it was interrupted and what
the next run does, and the next run must complete the data with nothing lost or doubled.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.helpers import audit_ids, collector_env, duplicates, sim_config, zdlogs
from tests.e2e.test_exactly_once import assert_complete
from zdlogs.simulator import FaultConfig, Simulator

WAITING = FaultConfig(rate_limit_rate=0.35, retry_after_seconds=60, seed=5)  # 429s asking for a minute's wait


class Stderr:
    """The lines a process writes to stderr, each with the moment it arrived."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.lines: list[tuple[float, str]] = []
        self._reader = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._reader.start()

    def _read(self, process: subprocess.Popen) -> None:
        assert process.stderr is not None
        for line in process.stderr:
            self.lines.append((time.monotonic(), line.rstrip("\n")))

    def wait_for(self, found: Callable[[list[str]], bool], timeout: float) -> None:
        end = time.monotonic() + timeout
        while not found([line for _, line in self.lines]):
            assert time.monotonic() < end, "\n".join(line for _, line in self.lines[-20:])
            time.sleep(0.05)

    def finish(self) -> list[tuple[float, str]]:
        self._reader.join(timeout=10)
        return self.lines


def workers_waiting(lines: list[str]) -> bool:
    """At least two requests are waiting out a 60 s rate limit."""
    return sum('"retrying"' in line and '"wait_seconds": 60' in line for line in lines) >= 2


@pytest.mark.parametrize(("name", "code"), [("SIGINT", 130), ("SIGTERM", 143)])
def test_a_signal_stops_a_waiting_backfill_at_once_and_the_next_run_completes_it(
    tmp_path: Path, name: str, code: int
) -> None:
    with Simulator(sim_config(audit_logs=4000, tickets=300, faults=WAITING)).start() as sim:
        time.sleep(1.1)
        env = collector_env(sim.url, tmp_path, ZDLOGS_SINCE="2020-01-01")
        del env["MAX_PAGES"]  # the command line's default: no page limit
        command = [sys.executable, "-m", "zdlogs", "run"]
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        stderr = Stderr(process)
        stderr.wait_for(workers_waiting, timeout=60)
        sent = time.monotonic()
        process.send_signal(getattr(signal, name))
        process.wait(timeout=30)
        took = time.monotonic() - sent
        lines = stderr.finish()
        first = audit_ids(tmp_path)
        sim.set_faults(FaultConfig())
        rerun = zdlogs("run", env=env)
        assert rerun.returncode == 0, rerun.stderr[-2000:]
        assert_complete(sim, tmp_path)  # every record once: nothing lost, nothing doubled
    assert process.returncode == code and took < 5, (process.returncode, took)
    stopping = [(at, line) for at, line in lines if line.startswith("zdlogs: stopping…")]
    assert [line for _, line in stopping] == [f"zdlogs: stopping… ({name}): no new request; committing what is stored"]
    assert stopping[0][0] - sent < 1  # said at once, not when the waits end
    assert re.fullmatch(
        rf"zdlogs: interrupted by {name}: [\d,]+ records stored and checkpointed \(audit_logs [\d,]+ records"
        r"( up to \S+Z)?; incremental_tickets not started\); the next run continues from there",
        lines[-1][1],
    ), lines[-1][1]
    assert 0 < len(first) < 4000 and not duplicates(first)  # it had stored part of the backfill
