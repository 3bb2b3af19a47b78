"""`zdlogs export request` (analysis/export_request.py) against the bundled simulator: accepted, then refused
with how long to wait (Zendesk allows one export per minute per account)."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from tests.analysis.conftest import env
from tests.e2e.helpers import sim_config
from zdlogs.cli import app
from zdlogs.simulator import FaultConfig, Simulator

runner = CliRunner()


def test_export_request_then_one_per_minute(sim: Simulator) -> None:
    first = runner.invoke(app, ["export", "request", "--since", "2026-01-01", "--action", "destroy"], env=env(sim))
    assert first.exit_code == 0, first.output
    assert "Zendesk accepted the export (HTTP 202): a CSV will be e-mailed to canary-admin@example.com" in first.stdout
    assert "filter[action]=destroy" in first.stdout
    second = runner.invoke(app, ["export", "request"], env=env(sim))
    assert second.exit_code == 1
    message = second.stderr.strip()
    assert message.count("\n") == 0 and "one audit-log export per minute per account" in message
    assert "Rate limit for Audit log CSV Export exceeded" in message
    wait = int(re.search(r"wait (\d+) s, then try again", message)[1])  # type: ignore[index]
    assert 1 <= wait <= 60


def test_export_request_wait_from_http_date_retry_after() -> None:
    config = sim_config(faults=FaultConfig(retry_after="http-date"))
    with Simulator(config).start() as simulator:
        assert runner.invoke(app, ["export", "request"], env=env(simulator)).exit_code == 0
        second = runner.invoke(app, ["export", "request"], env=env(simulator))
    wait = int(re.search(r"wait (\d+) s", second.stderr)[1])  # type: ignore[index]
    assert second.exit_code == 1 and 1 <= wait <= 61


@pytest.mark.parametrize(
    ("args", "environment", "message"),
    [
        (["export", "request"], {}, "ZENDESK_BASE_URL is not set"),
        (["export", "request", "--actor", "Mallory"], None, "Zendesk's export filters actors by id only"),
    ],
)
def test_export_request_config_errors(sim: Simulator, args: list[str], environment: dict | None, message: str) -> None:
    result = runner.invoke(app, args, env=env(sim) if environment is None else environment)
    assert result.exit_code == 2 and message in result.stderr
