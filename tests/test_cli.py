"""The main CLI in-process (typer's CliRunner): errors mapped to exit codes once, options generated from the settings.

The subprocess tests (tests/e2e/test_cli.py) keep what needs a real process: the exit status the shell
sees, a terminal, the simulator served in the foreground.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner, Result

from tests.conftest import CANARY_TOKEN
from tests.e2e.helpers import audit_ids, collector_env, duplicates, sim_config
from zdlogs import logs
from zdlogs._version import __version__
from zdlogs.cli import ZdlogsGroup, app
from zdlogs.config import Settings, settings_infos
from zdlogs.declare import NOT_SET
from zdlogs.errors import ConfigError, StorageError
from zdlogs.simulator import Simulator
from zdlogs.simulator._faults import FaultConfig

runner = CliRunner()
WIDE = {"COLUMNS": "400"}  # rich wraps help at the terminal's width


def zdlogs(*args: str, env: dict[str, str] | None = None) -> Result:
    return runner.invoke(app, list(args), env={**WIDE, **(env or {})})


def _env(url: str, output: Path, **extra: str) -> dict[str, str]:
    """The settings of a collection, and only them: CliRunner applies them over the test's environment."""
    return {name: value for name, value in collector_env(url, output, **extra).items() if name.isupper()}


@pytest.fixture(autouse=True)
def _logs_to_current_stderr() -> Iterator[None]:
    """A CliRunner run leaves structlog writing to its closed stream: point it back for the tests after."""
    yield
    logs.configure("console", stream=sys.stderr)


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(sim_config(audit_logs=40, tickets=5)).start() as simulator:
        yield simulator


def _error_lines(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("zdlogs: error:")]


# ---- global flags


def test_version() -> None:
    result = zdlogs("--version")
    assert result.exit_code == 0 and result.stdout == f"zdlogs {__version__}\n"


# ---- options generated from the Settings fields


def _flat(text: str) -> str:
    """The help without rich's box and line wrapping."""
    return " ".join(text.replace("│", " ").split())


def test_run_help_lists_every_setting_with_its_env_names_and_default() -> None:
    text = _flat(zdlogs("run", "--help").stdout)
    listed = [info for info in settings_infos(Settings) if info.flags]
    assert [info.env[0] for info in settings_infos(Settings) if not info.flags] == [
        "ZENDESK_OAUTH_SCOPES",
        "GCS_BUCKET",
    ]
    for info in listed:
        assert all(flag in text for flag in info.flags), info.field
        default = "" if info.default == NOT_SET else f", default {info.default}"
        assert f"{info.help} [{' or '.join(info.env)}{default}]" in text, info.field
    assert "--ticket-event-comments / --no-ticket-event-comments ticket_events:" in text  # a flag: no <bool>
    assert "--auth-mode token|bearer|oauth" in text and "--resources NAME[,NAME...]" in text
    only_env = text.split("Read from the environment only: ", 1)[1]  # env-only settings have no flag
    assert "ZENDESK_OAUTH_SCOPES (Scopes asked for with oauth, default auditlogs:read tickets:read)" in only_env
    assert "GCS_BUCKET (" in only_env


def test_a_flag_wins_over_the_environment(tmp_path: Path) -> None:
    env = _env("", tmp_path, MAX_PAGES="5")
    result = zdlogs("run", "--max-pages", "0", env=env)
    assert result.exit_code == 2 and _error_lines(result) == [
        "zdlogs: error: MAX_PAGES (--max-pages): Input should be greater than or equal to 1"
    ]
    result = zdlogs("run", "--max-pages", "3", env={**env, "MAX_PAGES": "0"})  # the bad env value is not used
    assert result.exit_code == 2 and "ZENDESK_BASE_URL is not set" in result.stderr


@pytest.mark.parametrize("flag", ["--data-prefix", "--gcs-prefix"])
def test_the_data_prefix_flag_and_its_old_name(tmp_path: Path, flag: str) -> None:
    result = zdlogs("run", flag, "logs/", "--state-key", "logs/state.json", env=_env("", tmp_path))
    assert result.exit_code == 2 and "inside the data prefix ZDLOGS_DATA_PREFIX='logs/'" in result.stderr


def test_a_run_collects_into_the_data_prefix_given_by_the_new_env_name(sim: Simulator, tmp_path: Path) -> None:
    result = zdlogs("run", env=_env(sim.url, tmp_path, ZDLOGS_DATA_PREFIX="feed/", RESOURCES="audit_logs"))
    assert result.exit_code == 0, result.output
    assert list((tmp_path / "feed/audit_logs").rglob("*.ndjson")) and not (tmp_path / "zendesk").exists()


# ---- every command's errors: exit code and one line


def test_run_without_a_zendesk_url_is_exit_2(tmp_path: Path) -> None:
    result = zdlogs("run", env=_env("", tmp_path))
    assert result.exit_code == 2
    assert _error_lines(result) == [
        "zdlogs: error: ZENDESK_BASE_URL is not set: set it (or --base-url) to https://<subdomain>.zendesk.com"
    ]
    assert result.stdout == "" and "Traceback" not in result.stderr


def test_rejected_credentials_are_exit_3(tmp_path: Path) -> None:
    with Simulator(sim_config(api_token="another-token")).start() as other:
        result = zdlogs("run", env=_env(other.url, tmp_path))
    assert result.exit_code == 3 and len(_error_lines(result)) == 1 and "ZENDESK_API_TOKEN" in result.stderr


def test_a_stream_that_fails_while_others_succeed_is_exit_4(tmp_path: Path) -> None:
    with Simulator(sim_config(plan="professional", tickets=5)).start() as professional:
        result = zdlogs("run", env=_env(professional.url, tmp_path))
    assert result.exit_code == 4 and "audit_logs" in _error_lines(result)[0]


def test_a_corrupt_state_file_is_exit_5(sim: Simulator, tmp_path: Path) -> None:
    (tmp_path / "_zdlogs").mkdir()
    (tmp_path / "_zdlogs/state.json").write_text("{not json")
    result = zdlogs("run", env=_env(sim.url, tmp_path))
    assert result.exit_code == 5 and "corrupted" in _error_lines(result)[0]


def test_ctrl_c_during_a_request_ends_it_at_once_exit_130_with_the_interrupted_line(tmp_path: Path) -> None:
    slow = FaultConfig(slow_rate=1.0, slow_seconds=5)  # every answer takes 5 s: the signal comes mid-request
    with Simulator(sim_config(audit_logs=40, faults=slow)).start() as sleepy:
        before = signal.getsignal(signal.SIGINT)  # SIG_IGN when pytest itself runs in the background
        timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
        timer.start()
        started = time.monotonic()
        try:
            result = zdlogs("run", env=_env(sleepy.url, tmp_path))
        finally:
            timer.cancel()
    assert result.exit_code == 130 and time.monotonic() - started < 4
    lines = result.stderr.splitlines()
    assert "zdlogs: stopping… (SIGINT): no new request; committing what is stored" in lines
    assert lines[-1] == (
        "zdlogs: interrupted by SIGINT: 0 records stored and checkpointed (audit_logs 0 records; "
        "incremental_tickets not started); the next run continues from there"
    )
    assert signal.getsignal(signal.SIGINT) is before  # the run's handlers are gone


def test_import_state_maps_its_errors(tmp_path: Path) -> None:
    old = tmp_path / "state.json"
    old.write_text(json.dumps({"incremental_tickets": {"cursor": "MTU3NjYxMzUzOS4wfHw0Njd8"}}))
    output = str(tmp_path / "out")
    bad = zdlogs("import-state", "--from", str(old), "--audit-since", "yesterday", "-o", output)
    assert bad.exit_code == 2 and _error_lines(bad)[0].startswith("zdlogs: error: --audit-since: ")
    unsaid = zdlogs("import-state", "--from", str(old), "-o", output)
    assert unsaid.exit_code == 2 and "pass --audit-since" in _error_lines(unsaid)[0]
    first = zdlogs("import-state", "--from", str(old), "--audit-since", "2026-11-01T09:45Z", "-o", output)
    assert first.exit_code == 0 and "incremental_tickets: resumes from" in first.stdout
    assert "audit_logs: resumes from {'since': '2026-11-01T09:45:00Z'" in first.stdout
    again = zdlogs("import-state", "--from", str(old), "--audit-since", "2026-11-01", "-o", output)
    assert again.exit_code == 5 and "pass --force to replace them" in _error_lines(again)[0]


def test_demo_refuses_a_directory_it_did_not_create(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    result = zdlogs("demo", "-o", str(tmp_path))
    assert result.exit_code == 2 and "is not a demo directory: pass another --output" in _error_lines(result)[0]
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def test_analysis_commands_errors_pass_through_the_same_mapping(tmp_path: Path) -> None:
    result = zdlogs("report", "activity", "-i", str(tmp_path / "missing"))
    assert result.exit_code == 2 and len(_error_lines(result)) == 1


# ---- --debug: a traceback only when asked, redacted


def test_debug_shows_the_traceback_only_when_asked(tmp_path: Path) -> None:
    quiet = zdlogs("run", env=_env("", tmp_path))
    loud = zdlogs("--debug", "run", env=_env("", tmp_path))
    assert "Traceback" not in quiet.stderr
    assert "Traceback (most recent call last)" in loud.stderr and "ConfigError" in loud.stderr
    assert loud.exit_code == quiet.exit_code == 2 and _error_lines(loud) == _error_lines(quiet)


def _leaky_app(error: Exception) -> typer.Typer:
    """An app on the root command class whose command fails with a message quoting a registered secret."""
    leaky = typer.Typer(cls=ZdlogsGroup)

    @leaky.callback()
    def _root(ctx: typer.Context, debug: bool = typer.Option(False, "--debug")) -> None:
        from zdlogs.cli import CliOptions

        ctx.obj = CliOptions(debug=debug)

    @leaky.command()
    def fail() -> None:
        logs.register_secret(CANARY_TOKEN)
        raise error

    return leaky


@pytest.mark.parametrize("error", [ConfigError(f"token {CANARY_TOKEN} refused"), StorageError(CANARY_TOKEN)])
def test_the_message_and_the_debug_traceback_are_redacted(error: Exception) -> None:
    for args in (["fail"], ["--debug", "fail"]):
        result = runner.invoke(_leaky_app(error), args)
        assert result.exit_code == error.exit_code  # type: ignore[attr-defined]
        assert CANARY_TOKEN not in result.output and logs.REDACTED in _error_lines(result)[0]
    assert "Traceback" in result.stderr and result.stderr.count(logs.REDACTED) >= 2


# ---- settings that used to do something else than what was typed


def test_an_unknown_log_format_is_refused_and_any_case_is_read(tmp_path: Path) -> None:
    for value in ("yaml", "JSONL"):
        result = zdlogs("--log-format", value, "run", env=_env("", tmp_path))
        assert result.exit_code == 2 and _error_lines(result) == [
            f"zdlogs: error: --log-format '{value}' is not a log format: use auto, json or console"
        ]
    result = zdlogs("--log-format", "JSON", "run", env=_env("", tmp_path))
    assert result.exit_code == 2 and "ZENDESK_BASE_URL is not set" in result.stderr  # got past the log format


def test_repeated_resources_flags_are_all_collected(sim: Simulator, tmp_path: Path) -> None:
    args = ("run", "--resources", "audit_logs", "--resources", "USERS,audit_logs")
    result = zdlogs(*args, env=_env(sim.url, tmp_path, RESOURCES="incremental_tickets"))
    assert result.exit_code == 0, result.output
    streams = [json.loads(line)["stream"] for line in result.stderr.splitlines() if '"stream_summary"' in line]
    assert streams == ["audit_logs", "users"]  # both flags, each stream once; the flags win over RESOURCES


def test_a_token_pasted_with_its_newline_is_accepted(sim: Simulator, tmp_path: Path) -> None:
    result = zdlogs("run", env=_env(sim.url, tmp_path, ZENDESK_API_TOKEN=f" {CANARY_TOKEN}\n", RESOURCES="audit_logs"))
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"STATE_KEY": "/etc/x"}, "STATE_KEY (--state-key): '/etc/x' is not a path inside the output"),
        ({"GCS_PREFIX": "../x"}, "GCS_PREFIX (--data-prefix): '../x' is not a path inside the output"),
        ({"ZDLOGS_SINCE": "2999-01-01"}, "ZDLOGS_SINCE (--since): 2999-01-01T00:00:00Z is in the future"),
        ({"ZDLOGS_OUTPUT": "", "GCS_BUCKET": "gs://b0x"}, "GCS_BUCKET: 'gs://b0x' is a URL: set GCS_BUCKET=b0x"),
        ({"ZDLOGS_OUTPUT": "file://relative/out"}, "give the path alone (relative/out)"),
    ],
)
def test_settings_that_would_put_data_elsewhere_are_refused_before_any_request(
    sim: Simulator, tmp_path: Path, env: dict[str, str], message: str
) -> None:
    result = zdlogs("run", env=_env(sim.url, tmp_path / "out", **env))
    assert result.exit_code == 2 and len(_error_lines(result)) == 1 and message in result.stderr, result.output
    assert not (tmp_path / "out").exists() and "Traceback" not in result.stderr
    assert sim.stats()["requests"] == 0


# ---- a run's limits: none from the command line unless set, and one warning line when one stops a run


def _json_events(result: Result, event: str) -> list[dict]:
    """The JSON log lines (stderr is not a terminal) of ``event``."""
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == event]


def _unlimited_env(url: str, output: Path, **extra: str) -> dict[str, str]:
    """A collection's settings with no MAX_PAGES at all: what a user typing ``zdlogs run --since`` has."""
    env = _env(url, output)
    del env["MAX_PAGES"]
    return {**env, **extra}


@pytest.mark.parametrize("workers", ["4", "1"])  # the parallel backfill and the sequential one
def test_a_since_backfill_from_the_command_line_collects_everything(tmp_path: Path, workers: str) -> None:
    with Simulator(sim_config(audit_logs=2500, tickets=0)).start() as big:  # 25 pages of 100, over 20
        env = _unlimited_env(big.url, tmp_path, RESOURCES="audit_logs", ZDLOGS_BACKFILL_WORKERS=workers)
        result = zdlogs("run", "--since", "2020-01-01", env=env)
        truth = {record["id"] for record in big.truth()["audit_logs"]}
    assert result.exit_code == 0, result.stderr[-2000:]
    stored = audit_ids(tmp_path)
    assert set(stored) == truth and not duplicates(stored) and len(truth) == 2500
    assert not _json_events(result, "run_limited")


def test_max_pages_stops_a_backfill_with_one_warning_line_saying_how_far_it_got(tmp_path: Path) -> None:
    with Simulator(sim_config(audit_logs=2500, tickets=0)).start() as big:
        env = _unlimited_env(big.url, tmp_path, RESOURCES="audit_logs", MAX_PAGES="2")
        result = zdlogs("run", "--since", "2020-01-01", env=env)
    assert result.exit_code == 0, result.stderr[-2000:]
    [warning] = _json_events(result, "run_limited")
    assert warning["level"] == "warning" and warning["limit"] == "MAX_PAGES=2"
    said = re.fullmatch(r"audit_logs: (\d+) records up to \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", warning["stored"])
    assert said and 0 < int(said[1]) <= 200 and int(said[1]) == len(audit_ids(tmp_path))  # two pages' worth
    assert warning["next_run"] == "continues from there"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "yaml"], "--format 'yaml' is not a status format: use table or json"),
        (["--max-lag", "30"], "--max-lag '30' has no unit: write 30m for minutes"),
        (["--max-lag", "soon"], "--max-lag 'soon' is not a duration"),
    ],
)
def test_status_refuses_a_bad_format_or_max_lag_with_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    result = zdlogs("status", "-o", str(tmp_path), *args)
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_status_reads_no_credential_and_any_format_case(tmp_path: Path) -> None:
    """A probe's environment may have the Zendesk URL without the secrets: status needs none of them."""
    result = zdlogs(
        "status", "-o", str(tmp_path), "--format", "JSON", env={"ZENDESK_BASE_URL": "https://acme.zendesk.com"}
    )
    assert result.exit_code == 6, result.output
    assert json.loads(result.stdout)["healthy"] is False


def test_status_reads_no_secret_file_a_config_file_names(tmp_path: Path) -> None:
    """A probe may run where the secrets are not mounted: the config file's ``client_secret_file`` is not read."""
    config = tmp_path / "zdlogs.yaml"
    config.write_text(
        "base_url: https://acme.zendesk.com\nauth_mode: oauth\nclient_id: zdlogs\n"
        f"client_secret_file: {tmp_path / 'not-mounted'}\noutput: {tmp_path / 'out'}\n"
    )
    assert zdlogs("run", "--config", str(config)).exit_code == 2  # the run needs it...
    result = zdlogs("status", "--config", str(config), "--format", "json")
    assert result.exit_code == 6, result.output  # ...status does not: never collected, and said so
    assert json.loads(result.stdout)["output"] == str(tmp_path / "out")


def _commands(group: Any, path: list[str]) -> Iterator[list[str]]:
    """Every command's words, sub-groups walked (typer's groups are not always click's own class)."""
    for name, command in group.commands.items():
        yield from _commands(command, [*path, name]) if hasattr(command, "commands") else [[*path, name]]


COMMANDS = list(_commands(typer.main.get_group(app), []))


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_help_shows_on_off_options_as_flags_and_cuts_nothing_at_80_columns(command: list[str]) -> None:
    """rich's help printed ``--excel <bool>`` (so users typed ``--excel true``) and cut words with "…"."""
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "80"}, terminal_width=80)
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.output and "…" not in result.output
    assert max(len(line) for line in result.output.splitlines()) <= 80
