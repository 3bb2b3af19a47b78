"""``zdlogs run``'s live progress, with the CLI as a process against the simulator: on a real terminal (a
pseudo-terminal) it shows each stream's records and the rate limit's waits with their reason; piped, or with
``--log-format json``, nothing but the log lines, as before."""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path

from tests.e2e.helpers import collector_env, on_a_terminal, plain, sim_config, zdlogs
from zdlogs.simulator import FaultConfig, Simulator

LIMITED = FaultConfig(rate_limit_rate=0.3, retry_after_seconds=1, seed=3)  # 429s asking for a second's wait
HIDE_CURSOR = "\x1b[?25l"  # what rich's live display sends first


def _on_a_terminal(
    env: dict[str, str], *args: str, command_args: tuple[str, ...] = ("run",), interrupt_on: bytes = b""
) -> tuple[int, str]:
    """Run zdlogs with stdout and stderr on a 120-column pseudo-terminal; its exit code and all it showed.
    ``interrupt_on``: once this is shown, Ctrl-C (SIGINT), and the process must end within 5 s."""
    command = [sys.executable, "-m", "zdlogs", *args, *command_args]
    code, shown = on_a_terminal(command, env, 120, interrupt_on)
    return code, shown.decode()


def _plain(shown: str) -> str:
    return plain(shown)


def _run_env(sim: Simulator, output: Path) -> dict[str, str]:
    return collector_env(sim.url, output, TERM="xterm-256color", ZDLOGS_RESOURCES="audit_logs,incremental_tickets")


def test_a_terminal_shows_records_and_the_rate_limit_waits_then_one_summary(tmp_path: Path) -> None:
    with Simulator(sim_config(audit_logs=1200, tickets=50, faults=LIMITED)).start() as sim:
        time.sleep(1.1)
        code, shown = _on_a_terminal(_run_env(sim, tmp_path / "out"))
    plain = _plain(shown)
    assert code == 0, plain[-3000:]
    assert HIDE_CURSOR in shown
    assert re.search(r"audit_logs +\S+ [\d,]+ records · \d+ pages? · [\d,]+/s", plain), plain[-3000:]
    assert re.search(r"waiting 0:00:0\d \(\d+ waits?\): retry \d+: HTTP 429", plain), plain[-3000:]
    assert "1,200 records · 12 pages" in plain and "incremental_tickets" in plain
    assert plain.count("zdlogs run → ") == 1  # one summary table, the display gone before it
    assert '"page"' not in plain and "[info     ] page " not in plain  # info lines hidden while it is shown
    _check_export_progress(tmp_path)


def _check_export_progress(tmp_path: Path) -> None:
    """A CSV export of what was collected shows its rows done of the total on a terminal, nothing when piped."""
    export = ("export", "csv", "--input", str(tmp_path / "out"), "-o")
    env = {**_run_env_vars(), "TERM": "xterm-256color"}
    code, shown = _on_a_terminal(env, command_args=(*export, str(tmp_path / "shown.csv")))
    assert code == 0 and "audit records" in _plain(shown) and "1200/1200" in _plain(shown), _plain(shown)
    piped = zdlogs(*export, str(tmp_path / "piped.csv"), env=env)
    assert piped.returncode == 0 and piped.stderr == f"Wrote 1200 audit records to {tmp_path / 'piped.csv'}\n"


def _run_env_vars() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not key.startswith(("ZENDESK_", "ZDLOGS_"))}


def test_piped_or_json_logs_show_no_progress_only_the_log_lines(tmp_path: Path) -> None:
    with Simulator(sim_config(audit_logs=600, tickets=20, faults=LIMITED)).start() as sim:
        time.sleep(1.1)
        env = _run_env(sim, tmp_path / "piped")
        piped = zdlogs("run", env=env)
        code, shown = _on_a_terminal(_run_env(sim, tmp_path / "json"), "--log-format", "json")
    assert piped.returncode == 0, piped.stderr[-2000:]
    assert "\x1b[" not in piped.stderr + piped.stdout and "records ·" not in piped.stderr
    events = [json.loads(line)["event"] for line in piped.stderr.splitlines()]
    assert "page" in events and "retrying" in events and events[-1] == "run_summary"
    assert code == 0 and HIDE_CURSOR not in shown and "records ·" not in shown
    assert '"event": "page"' in _plain(shown)


def test_ctrl_c_on_the_display_stops_a_waiting_run_at_once(tmp_path: Path) -> None:
    waiting = FaultConfig(rate_limit_rate=0.35, retry_after_seconds=60, seed=5)  # 429s asking for a minute
    with Simulator(sim_config(audit_logs=2000, tickets=20, faults=waiting)).start() as sim:
        time.sleep(1.1)
        env = {**_run_env(sim, tmp_path / "out"), "ZDLOGS_SINCE": "2020-01-01"}  # a backfill: workers wait
        code, shown = _on_a_terminal(env, interrupt_on=b"waiting 0:00:5")
    plain = _plain(shown)
    assert code == 130, plain[-3000:]
    assert "zdlogs: stopping… (SIGINT)" in plain and "interrupted by SIGINT" in plain
