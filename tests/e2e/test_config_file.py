"""The config file and the secret files as a user meets them: `zdlogs run` as a process against the simulator,
configured only by a file, and the README's error lines exactly as printed."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import CANARY_EMAIL, CANARY_TOKEN
from tests.e2e.helpers import DATA_PREFIX, audit_ids, duplicates, sim_config, zdlogs
from zdlogs.simulator import Simulator

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def _plain_env(**extra: str) -> dict[str, str]:
    """The test's environment: no zdlogs setting in it (the autouse fixture removed them all), plus ``extra``."""
    return {**os.environ, **extra}


@pytest.fixture(autouse=True)
def _secret_files_go(tmp_path: Path) -> Iterator[None]:
    """The secret files hold the canary on purpose: they go at teardown, so the suite's check of every file the
    tests left (tests/conftest.py) still covers everything zdlogs wrote."""
    yield
    shutil.rmtree(tmp_path / "secrets", ignore_errors=True)


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("zdlogs: error:")]


def test_one_full_run_configured_only_by_a_file(tmp_path: Path) -> None:
    token = tmp_path / "secrets" / "zendesk-api-token"
    token.parent.mkdir()
    token.write_text(f"{CANARY_TOKEN}\n")  # as `echo $TOKEN > file` or a mounted secret leaves it (goes at teardown)
    config = tmp_path / "zdlogs.yaml"
    config.write_text(
        "base_url: ${SIM_URL}\n"
        f"email: {CANARY_EMAIL}\n"
        f"api_token_file: {token}\n"
        "resources: [audit_logs, incremental_tickets, users, organizations]\n"
        f"output: {tmp_path / 'out'}\n"
        "lookback_seconds: 3456000\n"
        "settle_seconds: 1\n"
        "incremental_limit: 10000\n"
        "rate_share: 1\n"
        "http_timeout: 5\n"
    )
    with Simulator(sim_config(audit_logs=300, tickets=40, users=30, organizations=5)).start() as sim:
        first = zdlogs("--log-format", "json", "run", "--config", str(config), env=_plain_env(SIM_URL=sim.url))
        assert first.returncode == 0, first.stderr
        got = audit_ids(tmp_path / "out")
        assert set(got) == {record["id"] for record in sim.truth()["audit_logs"]} and not duplicates(got)
        for stream in ("incremental_tickets", "users", "organizations"):
            assert list((tmp_path / "out" / DATA_PREFIX / stream).rglob("*.ndjson")), stream
        again = zdlogs("run", env=_plain_env(SIM_URL=sim.url, ZDLOGS_CONFIG=str(config)))
        assert again.returncode == 0, again.stderr
        assert audit_ids(tmp_path / "out") == got  # the second run resumed from the file's output: nothing twice


def test_the_cron_line_form_a_secret_file_from_the_environment_collects(tmp_path: Path) -> None:
    secret = tmp_path / "client-secret"
    secret.write_text("sim-client-secret\n")
    with Simulator(sim_config(audit_logs=50, tickets=5)).start() as sim:
        env = _plain_env(
            ZENDESK_BASE_URL=sim.url,
            AUTH_MODE="oauth",
            ZENDESK_CLIENT_ID="zdlogs-sim",
            ZENDESK_CLIENT_SECRET_FILE=str(secret),
            LOOKBACK_SECONDS="3456000",
            ZDLOGS_SETTLE_SECONDS="1",
        )
        result = zdlogs("--log-format", "json", "run", "-o", str(tmp_path / "out"), env=env)
    assert result.returncode == 0, result.stderr
    assert len(audit_ids(tmp_path / "out")) == 50


def test_the_readme_error_lines_are_what_zdlogs_prints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each error of the README's config-file section, run as shown (in a directory holding zdlogs.yaml): one
    line, exit 2, no traceback, and the very line the README prints."""
    config = tmp_path / "zdlogs.yaml"
    cases = [
        ("base_url: https://acme.zendesk.com\nmax_page: 5\n", {}),
        ("base_url: https://acme.zendesk.com\nmax_pages: 0\n", {}),
    ]
    for text, extra in cases:
        config.write_text(text)
        result = _run_in(monkeypatch, tmp_path, ["run", "--config", "zdlogs.yaml"], extra)
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        lines = _error_lines(result.stderr)
        assert len(lines) == 1 and f"\n{lines[0]}\n" in README, lines


def test_a_missing_secret_file_is_the_readmes_line_and_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme_path = "/run/secrets/zendesk-client-secret"
    path = readme_path if not Path(readme_path).exists() else str(tmp_path / "no-such-secret")  # a machine has it
    result = _run_in(monkeypatch, tmp_path, ["run"], {"ZENDESK_CLIENT_SECRET_FILE": path})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = [line.replace(path, readme_path) for line in _error_lines(result.stderr)]
    assert len(lines) == 1 and f"\n{lines[0]}\n" in README, lines


def test_config_errors_are_one_line_exit_2_without_a_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "secrets" / "bearer"
    secret.parent.mkdir()
    secret.write_text(f"Bearer {CANARY_TOKEN}\n")
    config = tmp_path / "zdlogs.yaml"
    config.write_text(f"base_url: https://acme.zendesk.com\nauth_mode: bearer\nbearer_token_file: {secret}\n")
    for args, extra, message in [
        (["run", "--config", "zdlogs.yaml"], {}, "bearer_token_file in zdlogs.yaml: starts with 'Bearer '"),
        (["run", "--config", "missing.yaml"], {}, "ZDLOGS_CONFIG (--config): missing.yaml does not exist"),
        (["run"], {"ZDLOGS_CONFIG": "zdlogs.yaml", "ZENDESK_BEARER_TOKEN_FILE": "nowhere"}, "_FILE: cannot read"),
    ]:
        result = _run_in(monkeypatch, tmp_path, args, extra)
        lines = _error_lines(result.stderr)
        assert result.returncode == 2 and len(lines) == 1 and message in lines[0], result.stderr
        assert "Traceback" not in result.stderr  # zdlogs() checks the canary is never printed


def _run_in(
    monkeypatch: pytest.MonkeyPatch, directory: Path, args: list[str], extra: dict[str, str]
) -> subprocess.CompletedProcess:
    """``zdlogs ARGS`` run from ``directory``, as the README's examples are, with ``extra`` in its environment."""
    monkeypatch.chdir(directory)
    return zdlogs(*args, env=_plain_env(**extra))
