"""The config file and the secret files: precedence, ${VAR}, unknown keys, the published schema, the twins."""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from tests.conftest import CANARY_EMAIL, CANARY_TOKEN
from zdlogs import logs
from zdlogs.cli import app
from zdlogs.config import AnalysisSettings, FunctionSettings, Settings, env_name, load_settings, setting_info
from zdlogs.declare import secret_twins
from zdlogs.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
URL = "https://acme.zendesk.com"


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def secret(tmp_path: Path, text: str, name: str = "token") -> Path:
    """A secret file as Docker or Kubernetes mounts one, under ``secrets/`` (which goes at teardown)."""
    (tmp_path / "secrets").mkdir(exist_ok=True)
    return write(tmp_path / "secrets" / name, text)


@pytest.fixture(autouse=True)
def _secret_files_go(tmp_path: Path) -> Iterator[None]:
    """The secret files hold the canary on purpose: they go at teardown, so the suite's check of every file the
    tests left (tests/conftest.py) still covers everything zdlogs wrote."""
    yield
    shutil.rmtree(tmp_path / "secrets", ignore_errors=True)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A config file with the credentials: a test appends the settings it is about."""
    token = secret(tmp_path, f"{CANARY_TOKEN}\n")
    return write(tmp_path / "zdlogs.yaml", f"base_url: {URL}\nemail: {CANARY_EMAIL}\napi_token_file: {token}\n")


def add(config: Path, text: str) -> Path:
    config.write_text(config.read_text() + text)
    return config


# ---- precedence: flag > environment > config file > default


def test_a_flag_wins_over_the_environment_which_wins_over_the_file_which_wins_over_the_default(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add(config, "max_pages: 5\nlookback_seconds: 100\nhttp_retries: 7\n")
    monkeypatch.setenv("MAX_PAGES", "6")
    monkeypatch.setenv("LOOKBACK_SECONDS", "200")
    settings = load_settings(config_file=str(config), max_pages=8)
    assert settings.max_pages == 8  # the flag, over the environment and the file
    assert settings.lookback_seconds == 200  # the environment, over the file
    assert settings.http_retries == 7  # the file, over the default
    assert settings.http_timeout == 60  # the default
    assert settings.api_token.get_secret_value() == CANARY_TOKEN


def test_zdlogs_config_names_the_file_and_the_flag_wins_over_it(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    add(config, "max_pages: 5\n")
    other = write(config.parent / "other.yaml", f"base_url: {URL}\nauth_mode: bearer\nbearer_token: t\nmax_pages: 9\n")
    monkeypatch.setenv(env_name("config_file"), str(config))
    assert load_settings().max_pages == 5
    assert load_settings(config_file=str(other)).max_pages == 9
    monkeypatch.setenv(env_name("config_file"), "")  # empty: no file
    assert load_settings().max_pages is None


def test_the_function_and_the_analysis_read_the_same_file(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    add(config, "max_pages: 3\nanalysis_memory: 2GB\n")
    monkeypatch.setenv(env_name("config_file"), str(config))
    assert FunctionSettings.load().max_pages == 3  # the file wins over the function's own default (20)
    assert AnalysisSettings.load().analysis_memory == "2GB"
    assert load_settings().max_pages == 3  # the collector ignores the analyst's setting, and the reverse


def test_any_setting_by_its_field_name(config: Path) -> None:
    add(config, "resources: [audit_logs, Users]\nsince: 2026-01-01\ncompress: GZIP\nticket_event_comments: true\n")
    settings = load_settings(config_file=str(config))
    assert settings.resources == ["audit_logs", "users"] and settings.compress == "gzip"
    assert settings.since is not None and settings.since.isoformat() == "2026-01-01T00:00:00+00:00"
    assert settings.ticket_event_comments is True
    assert load_settings(config_file=str(add(config, "output: gs://b/\n"))).output == "gs://b/"


def test_a_date_stays_text_and_a_comma_list_works(config: Path) -> None:
    add(config, "since: 2026-01-01 08:00:00+02:00\nresources: audit_logs,users\n")
    settings = load_settings(config_file=str(config))
    assert settings.since is not None and settings.since.isoformat() == "2026-01-01T06:00:00+00:00"
    assert settings.resources == ["audit_logs", "users"]


# ---- ${VAR}


def test_variables_come_from_the_environment(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZENDESK_SUBDOMAIN", "acme")
    monkeypatch.setenv("EXTRA_STREAM", "users")
    config.write_text(config.read_text().replace(URL, "https://${ZENDESK_SUBDOMAIN}.zendesk.com"))
    add(config, "resources: [audit_logs, '${EXTRA_STREAM}']\ndata_prefix: 'feed/$${literal}/'\n")
    settings = load_settings(config_file=str(config))
    assert settings.base_url == URL and settings.resources == ["audit_logs", "users"]
    assert settings.data_prefix == "feed/${literal}/"


def test_an_unset_variable_is_named_with_its_key(config: Path) -> None:
    add(config, "output: /var/lib/${ZDLOGS_TEST_UNSET}\n")
    with pytest.raises(ConfigError, match=r"zdlogs.yaml: output uses \$\{ZDLOGS_TEST_UNSET\}, which is not set in"):
        load_settings(config_file=str(config))
    config.write_text(f"base_url: {URL}\nresources: [audit_logs, '${{ZDLOGS_TEST_UNSET}}']\n")
    with pytest.raises(ConfigError, match=r"zdlogs.yaml: resources\[1\] uses \$\{ZDLOGS_TEST_UNSET\}"):
        load_settings(config_file=str(config))


def test_a_dollar_brace_that_is_no_variable_is_refused_not_kept(config: Path) -> None:
    add(config, "output: /var/lib/${not a name}\n")
    with pytest.raises(
        ConfigError, match=r"output has a '\$\{' that starts no \$\{NAME\}: write \$\{NAME\}, or \$\$\{"
    ):
        load_settings(config_file=str(config))


# ---- what the file must be


@pytest.mark.parametrize(
    ("key", "suggestion"),
    [("max_page", "max_pages"), ("MAX_PAGES", "max_pages"), ("ZENDESK_BASE_URL", "base_url"),
     ("max-pages", "max_pages"), ("api_token_files", "api_token_file"), ("base_ulr", "base_url")],
)  # fmt: skip
def test_an_unknown_key_is_named_with_the_nearest_valid_name(config: Path, key: str, suggestion: str) -> None:
    add(config, f"{key}: 3\n")
    with pytest.raises(ConfigError, match=rf"zdlogs.yaml: unknown setting '{key}': did you mean '{suggestion}'\?$"):
        load_settings(config_file=str(config))


def test_a_key_like_no_setting_points_at_the_list(config: Path) -> None:
    add(config, "frobnicate: 3\n")
    with pytest.raises(ConfigError, match=r"unknown setting 'frobnicate': the settings are the field names of docs/"):
        load_settings(config_file=str(config))


def test_the_file_cannot_name_itself(config: Path) -> None:
    add(config, "config_file: other.yaml\n")
    with pytest.raises(ConfigError, match=r"config_file names the config file itself: give it with ZDLOGS_CONFIG"):
        load_settings(config_file=str(config))


def test_a_bad_value_is_named_as_the_file_holds_it(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    add(config, "max_pages: 0\n")
    with pytest.raises(ConfigError, match=rf"^max_pages in {re.escape(str(config))}: Input should be greater than"):
        load_settings(config_file=str(config))
    monkeypatch.setenv("MAX_PAGES", "-1")  # the environment gave the value that won: it is named
    with pytest.raises(ConfigError, match=r"^MAX_PAGES \(--max-pages\): Input should be greater"):
        load_settings(config_file=str(config))
    with pytest.raises(ConfigError, match=r"^base_url in .*: Input should be a valid string"):
        load_settings(config_file=str(write(config.parent / "null.yaml", "base_url:\n")))


@pytest.mark.parametrize(
    ("text", "message"),
    [("- base_url\n", r"holds a list, not settings: write one 'setting: value' per line"),
     ("just words\n", r"holds a single value, not settings"),
     ("base_url: [\n", r"line 2, column 1: expected the node content"),
     ("max_pages: 1\nmax_pages: 2\n", r"line 1, column 1: 'max_pages' is set twice"),
     ("a: b: c\n", r"line 1, column 5: mapping values are not allowed here")],
)  # fmt: skip
def test_a_file_that_is_not_settings_is_one_line_with_where(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        load_settings(config_file=str(write(tmp_path / "c.yaml", text)))
    assert "\n" not in str(raised.value)


def test_a_missing_or_unreadable_config_file_names_the_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match=r"^ZDLOGS_CONFIG \(--config\): .*nope.yaml does not exist: give the path"):
        load_settings(config_file=str(tmp_path / "nope.yaml"))
    monkeypatch.setenv(env_name("config_file"), str(tmp_path))
    with pytest.raises(ConfigError, match=r"^ZDLOGS_CONFIG \(--config\): .* is a directory"):
        load_settings()
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"base_url: \xff\xfe\n")
    with pytest.raises(ConfigError, match=r"binary.yaml is not UTF-8 text: save it as UTF-8"):
        load_settings(config_file=str(binary))


def test_an_empty_file_sets_nothing(tmp_path: Path) -> None:
    assert load_settings(config_file=str(write(tmp_path / "empty.yaml", "# nothing yet\n"))).max_pages is None


# ---- the secret files


def test_every_secret_has_a_file_twin_declared_with_its_names() -> None:
    secrets = [name for name, field in Settings.model_fields.items() if field.annotation is SecretStr]
    assert secret_twins(Settings) == {f"{name}_file": name for name in secrets}
    assert [env_name(f"{name}_file") for name in secrets] == [f"{env_name(name)}_FILE" for name in secrets]
    assert setting_info("client_secret_file").flags == ("--client-secret-file",)


@pytest.mark.parametrize("field", ["api_token", "bearer_token", "client_secret"])
def test_a_secret_file_is_read_at_start_without_the_whitespace_around(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, field: str
) -> None:
    path = secret(tmp_path, f"  {CANARY_TOKEN} \n\n")
    monkeypatch.setenv(env_name(f"{field}_file"), str(path))
    assert getattr(load_settings(), field).get_secret_value() == CANARY_TOKEN


def test_a_missing_secret_file_is_one_line_naming_the_setting_and_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "no-such-secret"
    monkeypatch.setenv("ZENDESK_CLIENT_SECRET_FILE", str(missing))
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert str(raised.value) == (
        f"ZENDESK_CLIENT_SECRET_FILE: cannot read {missing} (No such file or directory): mount the secret there, "
        "or give the path of the file that holds it"
    )
    with pytest.raises(ConfigError, match=r"^ZENDESK_API_TOKEN_FILE \(--api-token-file\): cannot read .* directory"):
        load_settings(api_token_file=str(tmp_path))


def test_an_empty_secret_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """(An unreadable file cannot be made here: the tests run as root, who reads every file.)"""
    monkeypatch.setenv("ZENDESK_API_TOKEN_FILE", str(write(tmp_path / "empty", " \n")))
    with pytest.raises(ConfigError, match=r"^ZENDESK_API_TOKEN_FILE: .*empty is empty: write the secret alone into it"):
        load_settings()


def test_a_secret_and_its_file_in_one_place_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = secret(tmp_path, CANARY_TOKEN)
    monkeypatch.setenv("ZENDESK_API_TOKEN", CANARY_TOKEN)
    monkeypatch.setenv("ZENDESK_API_TOKEN_FILE", str(path))
    with pytest.raises(ConfigError, match=r"^ZENDESK_API_TOKEN and ZENDESK_API_TOKEN_FILE are both set: keep one"):
        load_settings()
    monkeypatch.delenv("ZENDESK_API_TOKEN")
    monkeypatch.delenv("ZENDESK_API_TOKEN_FILE")
    both = write(tmp_path / "both.yaml", f"api_token: x\napi_token_file: {path}\n")
    with pytest.raises(ConfigError, match=r"^/.*both.yaml: api_token and api_token_file are both set: keep one of"):
        load_settings(config_file=str(both), api_token="y")  # refused even where a flag would win: say it once


def test_a_secret_given_higher_up_wins_and_the_lower_file_is_not_read(
    config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config.write_text(f"base_url: {URL}\nemail: a@b.c\napi_token_file: /run/secrets/not-on-this-machine\n")
    monkeypatch.setenv("ZENDESK_API_TOKEN", "from-the-environment")
    assert load_settings(config_file=str(config)).api_token.get_secret_value() == "from-the-environment"
    flagged = write(tmp_path / "flagged", "from-a-flag's-file\n")
    settings = load_settings(config_file=str(config), api_token_file=str(flagged))
    assert settings.api_token.get_secret_value() == "from-a-flag's-file"  # the flag's file, over the environment


def test_a_secret_file_holding_a_bad_value_names_the_file_setting_and_not_the_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZENDESK_BEARER_TOKEN_FILE", str(secret(tmp_path, f"Bearer {CANARY_TOKEN}\n")))
    with pytest.raises(ConfigError) as raised:
        load_settings(base_url=URL, auth_mode="bearer")
    assert str(raised.value).startswith("ZENDESK_BEARER_TOKEN_FILE (--bearer-token-file): starts with 'Bearer ': set")
    assert CANARY_TOKEN not in str(raised.value)


def test_a_relative_secret_path_is_read_from_where_zdlogs_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret(tmp_path, CANARY_TOKEN)
    monkeypatch.chdir(tmp_path / "secrets")  # where zdlogs runs, not where the config file is
    nested = tmp_path / "etc"
    nested.mkdir()
    config = write(nested / "zdlogs.yaml", f"base_url: {URL}\nemail: a@b.c\napi_token_file: token\n")
    assert load_settings(config_file=str(config)).api_token.get_secret_value() == CANARY_TOKEN


# ---- the CLI: --config on every command that reads settings


@pytest.fixture
def _logs_back_to_stderr() -> Iterator[None]:
    """A CliRunner run leaves structlog writing to its closed stream: point it back for the tests after."""
    yield
    logs.configure("console", stream=sys.stderr)


@pytest.mark.usefixtures("_logs_back_to_stderr")
def test_every_command_that_reads_settings_takes_config(config: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    for command in (["run"], ["import-state"]):
        help_text = " ".join(runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200"}).stdout.split())
        assert re.search(r"--config[ │]+FILE[ │]+YAML file of settings by field name", help_text), command
    add(config, "max_page: 2\n")
    result = runner.invoke(app, ["import-state", "--config", str(config), "--from", str(tmp_path / "s.json")])
    assert result.exit_code == 2 and "unknown setting 'max_page': did you mean 'max_pages'?" in result.stderr
