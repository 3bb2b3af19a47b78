"""The CLI as a user meets it: one-line errors with the fix, exit codes, and the demo."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.e2e.helpers import collector_env, sim_config, zdlogs
from tests.gcs_fixture import FakeGCS
from zdlogs.config import AnalysisSettings, settings_infos
from zdlogs.simulator import Simulator

BAD_CONFIGS = [
    ({"ZENDESK_BASE_URL": ""}, "ZENDESK_BASE_URL is not set"),
    ({"ZENDESK_BASE_URL": "http://acme.zendesk.com"}, "plain http"),
    ({"ZENDESK_BASE_URL": "acme.zendesk.com"}, "is not a URL"),
    ({"ZENDESK_BASE_URL": "https://acme.zendesk.com/api/v2"}, "only the origin"),
    ({"AUTH_MODE": "password"}, "AUTH_MODE"),
    ({"ZENDESK_API_TOKEN": ""}, "needs ZENDESK_API_TOKEN"),
    ({"AUTH_MODE": "bearer"}, "needs ZENDESK_BEARER_TOKEN"),
    ({"AUTH_MODE": "oauth"}, "needs ZENDESK_CLIENT_ID and ZENDESK_CLIENT_SECRET"),
    ({"MAX_PAGES": "many"}, "MAX_PAGES (--max-pages)"),
    ({"MAX_PAGES": "0"}, "MAX_PAGES (--max-pages)"),
    ({"HTTP_TIMEOUT": "-1"}, "HTTP_TIMEOUT"),
    ({"LOOKBACK_SECONDS": "1h"}, "LOOKBACK_SECONDS"),
    ({"RESOURCES": "audit_logs,tickets"}, "unknown resource"),
    ({"ZDLOGS_RATE_SHARE": "1.5"}, "ZDLOGS_RATE_SHARE"),
    ({"ZDLOGS_SINCE": "last tuesday"}, "is not a date"),
    ({"ZDLOGS_COMPRESS": "zip"}, "ZDLOGS_COMPRESS"),
    ({"STATE_KEY": "zendesk/crm/state.json"}, "inside the data prefix"),
    ({"ZDLOGS_OUTPUT": "gs://bucket/zendesk/", "CLOUDSDK_CONFIG": "/nonexistent"}, "no Google credentials"),
    ({"ZDLOGS_OUTPUT": "/proc/zdlogs-cannot-write"}, "not writable"),
    # settings that used to do something else than what was typed (issue 13)
    ({"ZENDESK_API_TOKEN": "   "}, "ZENDESK_API_TOKEN is empty"),
    ({"ZENDESK_EMAIL": "admin@example.com/token"}, "ends in /token: set the e-mail alone (admin@example.com)"),
    ({"AUTH_MODE": "bearer", "ZENDESK_BEARER_TOKEN": "Bearer abc"}, "set the access token alone"),
    ({"GCS_PREFIX": ""}, "GCS_PREFIX (--data-prefix): is empty"),
    ({"GCS_PREFIX": "../x"}, "is not a path inside the output"),
    ({"STATE_KEY": "/etc/x"}, "STATE_KEY (--state-key): '/etc/x' is not a path inside the output"),
    ({"ZDLOGS_OUTPUT": "", "GCS_BUCKET": "gs://b0x"}, "GCS_BUCKET: 'gs://b0x' is a URL: set GCS_BUCKET=b0x"),
    ({"ZDLOGS_OUTPUT": "file://relative/out"}, "give the path alone (relative/out)"),
    ({"ZDLOGS_SINCE": "2999-01-01"}, "is in the future"),
    ({"RESOURCES": "all,tickets"}, "unknown resource 'tickets'"),
    ({"LOOKBACK_SECONDS": "99999999999"}, "LOOKBACK_SECONDS (--lookback-seconds): 99999999999 seconds is more than"),
    ({"HTTP_TIMEOUT": "inf"}, "HTTP_TIMEOUT (--http-timeout): Input should be a finite number"),
]


@pytest.mark.parametrize(("env", "message"), BAD_CONFIGS, ids=[str(env) for env, _ in BAD_CONFIGS])
def test_bad_configuration_is_one_clear_line_and_exit_2(tmp_path: Path, env: dict, message: str) -> None:
    result = zdlogs("run", env=collector_env("http://127.0.0.1:9", tmp_path, **env))
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("zdlogs: error:")]
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_flags_win_over_the_environment(tmp_path: Path) -> None:
    result = zdlogs("run", "--max-pages", "0", env=collector_env("http://127.0.0.1:9", tmp_path, MAX_PAGES="5"))
    assert result.returncode == 2 and "MAX_PAGES (--max-pages)" in result.stderr


def test_wrong_credentials_exit_3_with_the_fix(tmp_path: Path) -> None:
    with Simulator(sim_config(api_token="another-token")).start() as sim:
        result = zdlogs("run", env=collector_env(sim.url, tmp_path))
    assert result.returncode == 3
    assert "ZENDESK_API_TOKEN" in result.stderr and "Traceback" not in result.stderr


def test_audit_log_403_is_clear_and_the_ticket_stream_still_runs(tmp_path: Path) -> None:
    with Simulator(sim_config(plan="professional", tickets=30)).start() as sim:
        result = zdlogs("run", env=collector_env(sim.url, tmp_path))
    assert result.returncode == 4
    assert "Enterprise" in result.stderr and "audit_logs" in result.stderr
    assert list((tmp_path / "zendesk/crm/incremental_tickets").rglob("*.ndjson"))


def test_oauth_client_credentials_collect(tmp_path: Path) -> None:
    with Simulator(sim_config(audit_logs=120, tickets=20, oauth_token_ttl=2)).start() as sim:
        env = collector_env(
            sim.url,
            tmp_path,
            AUTH_MODE="oauth",
            ZENDESK_CLIENT_ID="zdlogs-sim",
            ZENDESK_CLIENT_SECRET="sim-client-secret",
            ZENDESK_API_TOKEN="",
        )
        result = zdlogs("run", env=env)
        assert result.returncode == 0, result.stderr
        assert "api_token_retirement" not in result.stderr
        bad = zdlogs("run", env={**env, "ZENDESK_CLIENT_SECRET": "wrong"})
        assert bad.returncode == 3 and "ZENDESK_CLIENT_SECRET" in bad.stderr


def test_token_mode_warns_about_the_retirement_date(tmp_path: Path) -> None:
    with Simulator(sim_config(audit_logs=10, tickets=2)).start() as sim:
        result = zdlogs("run", env=collector_env(sim.url, tmp_path))
    assert result.returncode == 0
    assert "2027-04-30" in result.stderr and "AUTH_MODE=oauth" in result.stderr


def test_demo_collects_and_shows_the_second_run_only_fetches_new_records(tmp_path: Path) -> None:
    result = zdlogs("demo", "--output", str(tmp_path / "demo"), "--audit-logs", "400", "--tickets", "60")
    assert result.returncode == 0, result.stderr
    assert "First run" in result.stdout and "Second run" in result.stdout
    second = result.stdout.split("Second run")[1]
    assert "audit_logs" in second and "25 records" in second
    assert "access_logs" in second and "40 records" in second
    for stream in ("access_logs", "ticket_events", "users", "organizations"):
        assert list((tmp_path / "demo/zendesk/crm" / stream).rglob("*.ndjson")), stream


BAD_STATE = [
    (b"{not json", "corrupted"),
    (b'{"format": 7, "streams": {}}', "upgrade zdlogs"),
    (b'{"format": 1, "streams": []}', "corrupted"),
]


@pytest.mark.parametrize(("content", "message"), BAD_STATE, ids=["garbled", "future-format", "wrong-shape"])
def test_a_bad_state_file_is_exit_5_and_left_untouched(tmp_path: Path, content: bytes, message: str) -> None:
    state = tmp_path / "_zdlogs/state.json"
    state.parent.mkdir(parents=True)
    state.write_bytes(content)
    with Simulator(sim_config(audit_logs=10, tickets=2)).start() as sim:
        result = zdlogs("run", env=collector_env(sim.url, tmp_path))
    assert result.returncode == 5 and message in result.stderr and "Traceback" not in result.stderr
    assert state.read_bytes() == content
    assert not list(tmp_path.rglob("*.ndjson"))


def test_a_missing_bucket_is_exit_5_with_the_fix(tmp_path: Path, gcs_server: FakeGCS) -> None:
    env = collector_env("http://127.0.0.1:9", tmp_path, **gcs_server.env, ZDLOGS_OUTPUT="gs://no-such-bucket-zd/")
    result = zdlogs("run", env=env)
    assert result.returncode == 5 and "does not exist" in result.stderr and "Traceback" not in result.stderr


def test_output_that_is_a_file_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    result = zdlogs("run", env=collector_env("http://127.0.0.1:9", tmp_path / "file"))
    assert result.returncode == 2 and "not writable" in result.stderr


def test_simulate_serves_every_stream_and_can_play_an_account_without_the_access_log_add_on() -> None:
    command = [sys.executable, "-m", "zdlogs", "simulate", "--port", "0", "--users", "7", "--no-access-log-addon"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as server:
        try:
            url = server.stdout.readline().split(" on ")[1].split(" ")[0]  # type: ignore[union-attr]
            auth = ("admin@example.com/token", "sim-api-token")
            users = httpx.get(f"{url}/api/v2/incremental/users/cursor.json?start_time=0", auth=auth).json()
            refused = httpx.get(f"{url}/api/v2/access_logs", auth=auth)
        finally:
            server.terminate()
    assert len(users["users"]) >= 7 and users["end_of_stream"] is True
    assert refused.status_code == 403 and refused.json()["errors"][0]["title"] == "Authorization failed"


def test_version_is_a_flag_of_its_own() -> None:
    result = zdlogs("--version")
    assert result.returncode == 0 and result.stdout.startswith("zdlogs ") and result.stderr == ""


BAD_SIMULATE = [
    (["--port", "70000"], "--port 70000 is not a port: give one from 0 to 65535"),
    (["--audit-logs", "-5"], "--audit-logs -5 is out of range: give a value >= 0"),
    (["--time-scale", "0"], "--time-scale 0.0 is out of range: give a value > 0"),
    (["--incremental-limit", "0"], "--incremental-limit 0 is out of range: give a value >= 1"),
    (["--plan", "free"], "unknown plan 'free': choose from team, professional, enterprise, enterprise_plus"),
]


def _one_error_line(result: subprocess.CompletedProcess, message: str) -> None:
    lines = [line for line in result.stderr.splitlines() if line.startswith("zdlogs: error:")]
    assert result.returncode == 2 and len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


@pytest.mark.parametrize(("args", "message"), BAD_SIMULATE, ids=[" ".join(args) for args, _ in BAD_SIMULATE])
def test_simulate_refuses_a_bad_option_in_one_line(args: list[str], message: str) -> None:
    _one_error_line(zdlogs("simulate", "--port", "0", *args, timeout=30), message)


def test_simulate_on_a_port_in_use_says_so_and_how_to_get_another() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = zdlogs("simulate", "--port", str(port), timeout=30)
    _one_error_line(result, f"cannot listen on 127.0.0.1:{port}: another program")
    assert "pass --port 0 (any free port)" in result.stderr


def test_simulate_takes_a_plan_in_any_case() -> None:
    command = [sys.executable, "-m", "zdlogs", "simulate", "--port", "0", "--plan", "Professional", "--tickets", "3"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as server:
        try:
            url = server.stdout.readline().split(" on ")[1].split(" ")[0]  # type: ignore[union-attr]
            answer = httpx.get(f"{url}/api/v2/audit_logs", auth=("admin@example.com/token", "sim-api-token"))
        finally:
            server.terminate()
    assert answer.status_code == 403  # below enterprise, as professional plays it


# ---- run --help in an ordinary terminal; a mistyped host


def _readme_env_names() -> set[str]:
    """The env names of the README's configuration table that `zdlogs run` reads (not the analysis ones)."""
    table = (Path(__file__).resolve().parents[2] / "README.md").read_text().split("## Configuration", 1)[1]
    names = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", table.split("\n## ", 1)[0], flags=re.MULTILINE))
    return names - {info.env[0] for info in settings_infos(AnalysisSettings)}


def test_run_help_at_80_columns_keeps_every_flag_and_env_name_whole() -> None:
    result = zdlogs("run", "--help", env={**os.environ, "COLUMNS": "80"})
    assert result.returncode == 0 and max(map(len, result.stdout.splitlines())) <= 80
    words = set(re.findall(r"[A-Za-z0-9_-]+", result.stdout))
    every_env = {name for info in settings_infos() for name in info.env}
    assert _readme_env_names() == every_env and every_env <= words, every_env - words
    assert {flag for info in settings_infos() for flag in info.flags} <= words | {"-o"}
    assert "…" not in result.stdout and "<bool>" not in result.stdout
    assert "--ticket-event-comments / --no-ticket-event-comments" in result.stdout


def test_a_mistyped_host_is_named_with_the_setting_to_fix(tmp_path: Path) -> None:
    env = collector_env("https://acme.zendsk.invalid", tmp_path, HTTP_RETRIES="0", RESOURCES="all")
    result = zdlogs("run", env=env, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr  # a setting to fix, not six failed streams
    last = result.stderr.splitlines()[-1]  # .invalid never resolves (RFC 6761)
    assert last == "zdlogs: error: cannot resolve acme.zendsk.invalid: no such name in DNS; check ZENDESK_BASE_URL"
    assert "stream_failed" not in result.stderr  # the run stopped at the first stream instead of trying six
