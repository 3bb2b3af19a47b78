"""``zdlogs demo`` in-process: two passes over the simulator, the second collecting exactly the new activity."""

from __future__ import annotations

import json
import re
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from zdlogs.cli import app
from zdlogs.demo import MARKER, PLANTED_FILE, incident_time, invoked_as, run_demo
from zdlogs.errors import ConfigError


def _records(lines: list[str], title: str) -> dict[str, int]:
    """stream -> records of the pass whose title starts with ``title``."""
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(title))
    rows = {}
    for line in lines[start + 1 :]:
        match = re.match(r"\s+(\w+)\s+(\d+) records", line)
        if not match:
            break
        rows[match[1]] = int(match[2])
    return rows


def test_the_second_pass_collects_exactly_the_new_activity(tmp_path: Path) -> None:
    lines: list[str] = []
    run_demo(str(tmp_path / "demo"), audit_logs=120, tickets=12, seed=7, echo=lines.append)
    first, second = _records(lines, "First run"), _records(lines, "Second run")
    assert first["audit_logs"] == 120 and first["incremental_tickets"] >= 12
    exact = {name: second.pop(name) for name in ("audit_logs", "access_logs", "users", "organizations")}
    assert exact == {"audit_logs": 25, "access_logs": 40, "users": 3, "organizations": 2}
    # 10 updates of random tickets: a ticket updated twice is one new version, with one event per update
    assert 1 <= second["incremental_tickets"] <= 10 and second["ticket_events"] >= second["incremental_tickets"]
    assert (tmp_path / "demo" / MARKER).exists() and any(line.strip().startswith("Wrote ") for line in lines)


def test_a_demo_replaces_its_own_directory_and_nothing_else(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    demo.mkdir()
    (demo / MARKER).write_text("")
    (demo / "stale.ndjson").write_text("{}\n")
    run_demo(str(demo), audit_logs=20, tickets=2, seed=1, echo=lambda _line: None)
    assert not (demo / "stale.ndjson").exists()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    with pytest.raises(ConfigError, match="is not a demo directory: pass another --output"):
        run_demo(str(tmp_path / "mine"), audit_logs=20, tickets=2, seed=1, echo=lambda _line: None)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep"


def test_the_demo_ends_with_the_incident_command_for_the_time_it_happened(tmp_path: Path) -> None:
    """The history ends when the demo runs, so the incident's date moves: the demo finds it and prints the
    command; that command, run as printed, shows the compromised admin's night."""
    lines: list[str] = []
    run_demo(str(tmp_path / "demo"), audit_logs=400, tickets=4, seed=42, echo=lines.append)
    hidden = next(line for line in lines if line.startswith("The history hides a compromised admin"))
    first = re.search(r"from 192\.0\.2\.66 at (\S+Z), then \d+ more records until (\S+Z)\.", hidden)
    assert first, hidden
    command = next(line.strip() for line in lines if " report incident " in line)
    around = re.fullmatch(rf"zdlogs report incident --input {tmp_path}/demo --around (\S+) --window 30m", command)
    assert around, command
    assert first[1][:16] <= around[1].removesuffix("Z") <= first[2][:16]  # within the incident, to the minute
    result = CliRunner().invoke(app, command.split()[1:], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "New IP 192.0.2.66: first seen" in result.stdout and "Daniel Okafor" in result.stdout


def test_the_incident_time_is_its_middle_to_the_minute() -> None:
    start, end = datetime(2026, 11, 14, 2, 14, 28, tzinfo=UTC), datetime(2026, 11, 14, 2, 32, 42, tzinfo=UTC)
    assert incident_time(start, end) == "2026-11-14T02:23Z"


def test_the_printed_commands_use_the_program_as_it_was_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", [".venv/bin/zdlogs", "demo"])
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    assert invoked_as() == ".venv/bin/zdlogs"
    monkeypatch.setattr(sys, "argv", ["/usr/lib/python3/site-packages/zdlogs/__main__.py", "demo"])
    assert invoked_as() == "python -m zdlogs"
    for other in (["pytest"], ["/venv/lib/python3.11/site-packages/pytest/__main__.py"]):
        monkeypatch.setattr(sys, "argv", other)
        assert invoked_as() == "zdlogs"


def test_the_detections_profile_writes_its_planted_ids_and_each_is_collected(tmp_path: Path) -> None:
    """``--profile detections``: the ground truth next to the data, every planted record among the collected."""
    lines: list[str] = []
    run_demo(str(tmp_path / "demo"), audit_logs=300, tickets=4, seed=42, echo=lines.append, profile="detections")
    truth = json.loads((tmp_path / "demo" / PLANTED_FILE).read_text())
    assert truth["profile"] == "detections" and len(truth["planted"]) == 14
    collected = {
        json.loads(line)["id"]
        for path in (tmp_path / "demo" / "zendesk" / "crm").rglob("*.ndjson")
        for line in path.read_text().splitlines()
    }
    assert all(set(ids) <= collected for ids in truth["planted"].values())
    assert not any(line.startswith("The history hides a compromised admin") for line in lines)
    assert f"Find them: zdlogs detect --input {tmp_path}/demo" in lines


def test_a_profile_the_simulator_refuses_is_one_line_naming_the_option(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--audit-logs 50: give a value >= 100 with the detections profile"):
        run_demo(str(tmp_path / "demo"), audit_logs=50, tickets=2, seed=1, echo=lambda _l: None, profile="detections")
    assert not (tmp_path / "demo").exists()
