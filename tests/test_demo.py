"""``zdlogs demo`` in-process: two passes over the simulator, the second collecting exactly the new activity."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from zdlogs.demo import MARKER, run_demo
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
