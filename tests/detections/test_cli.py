"""``zdlogs detect`` as the root command runs it: options, exit codes, one line for errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.detections.fixtures import DANIEL, INTRUDER, audit, write
from zdlogs.cli import app


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["detect", *args])
    return result.exit_code, result.stdout, result.stderr


def test_detect_without_a_subcommand_runs_the_rules(tmp_path: Path) -> None:
    write(tmp_path, [audit("2026-03-03T10:00:00Z", "create", "apitoken", "API token: backup", "Created", DANIEL,
                           INTRUDER)])  # fmt: skip
    code, out, _ = _invoke("--input", str(tmp_path), "--format", "json", "--rule", "zendesk_api_token_created")
    assert code == 0
    assert json.loads(out)["findings"][0]["summary"] == "Daniel Okafor created an API token (API token: backup)"
    code, _, err = _invoke("--input", str(tmp_path), "--fail-on", "high", "-r", "zendesk_api_token_created")
    assert code == 8 and err.startswith("zdlogs: error: 1 findings at or above high")


def test_errors_are_one_line_and_exit_2(tmp_path: Path) -> None:
    code, _, err = _invoke("--input", str(tmp_path / "missing"))
    assert code == 2 and err.count("\n") == 1 and "does not exist" in err
    code, _, err = _invoke("--input", str(tmp_path), "--tenant", "acme")
    assert code == 2 and "--tenant acme needs the fleet's file" in err


def test_the_help_names_every_option() -> None:
    code, out, _ = _invoke("--help")
    assert code == 0
    for option in ("--input", "--config", "--tenant", "--since", "--until", "--rule", "--format", "--fail-on"):
        assert option in out
