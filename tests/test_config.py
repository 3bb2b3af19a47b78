"""Settings: parsing that no CLI test reaches directly, the one declaration per setting, the README table."""

from __future__ import annotations

import re
import typing
from datetime import timedelta
from pathlib import Path
from typing import Literal

import pytest

from tests.conftest import CANARY_TOKEN, make_settings
from zdlogs.config import (
    DEFAULT_RESOURCES,
    KNOWN_RESOURCES,
    MAX_LOOKBACK_SECONDS,
    AnalysisSettings,
    FunctionSettings,
    Settings,
    env_name,
    flag_name,
    load_settings,
    setting_info,
    settings_infos,
)
from zdlogs.errors import ConfigError
from zdlogs.times import utc_now

ROOT = Path(__file__).resolve().parents[1]


def test_resources_default_to_the_original_functions_two_streams() -> None:
    assert make_settings("https://acme.zendesk.com").resources == list(DEFAULT_RESOURCES)


def test_all_means_every_stream() -> None:
    assert make_settings("https://acme.zendesk.com", resources="all").resources == list(KNOWN_RESOURCES)
    assert len(KNOWN_RESOURCES) == 6


def test_an_unknown_stream_names_the_choices() -> None:
    with pytest.raises(ConfigError, match=r"unknown resource.*access_logs.*organizations or all"):
        make_settings("https://acme.zendesk.com", resources="audit_logs,access_log")


# ---- one declaration per setting: the lookup, the aliases, the subclasses


def test_env_name_and_flag_name_come_from_the_field() -> None:
    assert env_name("lease_ttl") == "ZDLOGS_LEASE_TTL" and flag_name("lease_ttl") == "--lease-ttl"
    assert env_name("data_prefix") == "ZDLOGS_DATA_PREFIX" and flag_name("data_prefix") == "--data-prefix"
    assert flag_name("oauth_scopes") == ""  # an env-only setting
    assert env_name("analysis_memory") == "ZDLOGS_ANALYSIS_MEMORY"


def test_every_field_is_declared_with_its_env_name_and_help() -> None:
    for settings_class in (Settings, FunctionSettings, AnalysisSettings):
        infos = settings_infos(settings_class)
        assert [info.field for info in infos] == list(settings_class.model_fields)
        assert all(info.env and info.help for info in infos)
    every_env = [name for info in settings_infos() for name in info.env]
    assert len(every_env) == len(set(every_env))


def test_the_data_prefix_has_its_own_name_and_the_old_one_still_works(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GCS_PREFIX", "old/")
    assert load_settings().data_prefix == "old/"
    monkeypatch.setenv("ZDLOGS_DATA_PREFIX", "new/")
    settings = load_settings()
    assert settings.data_prefix == "new/" and settings.gcs_prefix == "new/"  # the new name wins over the old
    assert load_settings(data_prefix="flag/").data_prefix == "flag/"


def test_a_bad_env_value_names_the_env_var_and_the_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZDLOGS_LEASE_TTL", "1")
    with pytest.raises(ConfigError, match=r"^ZDLOGS_LEASE_TTL \(--lease-ttl\): Input should be greater"):
        load_settings()
    with pytest.raises(ConfigError, match=r"^ZDLOGS_DATA_PREFIX \(--data-prefix\): Input should be a valid string"):
        load_settings(data_prefix=3)


def test_the_state_key_inside_the_data_prefix_names_both_settings() -> None:
    with pytest.raises(ConfigError, match=r"STATE_KEY 'logs/state.json' is inside .* ZDLOGS_DATA_PREFIX='logs/'"):
        load_settings(data_prefix="logs/", state_key="logs/state.json")


def test_the_function_has_its_own_max_runtime_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings.load().max_runtime is None
    assert FunctionSettings.load().max_runtime == 480
    monkeypatch.setenv("ZDLOGS_MAX_RUNTIME", "120")
    assert FunctionSettings.load().max_runtime == 120  # the environment still wins over the function's default
    assert setting_info("max_runtime", FunctionSettings).env == setting_info("max_runtime").env


def test_the_cli_has_no_page_limit_and_the_function_keeps_twenty(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings.load().max_pages is None and FunctionSettings.load().max_pages == 20
    monkeypatch.setenv("MAX_PAGES", "7")
    assert Settings.load().max_pages == FunctionSettings.load().max_pages == 7


def test_the_analysis_memory_limit_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    assert AnalysisSettings.load().analysis_memory == "512MB"
    monkeypatch.setenv("ZDLOGS_ANALYSIS_MEMORY", "2GB")
    assert AnalysisSettings.load().analysis_memory == "2GB"
    monkeypatch.setenv("ZDLOGS_ANALYSIS_MEMORY", "lots")
    with pytest.raises(ConfigError, match=r"^ZDLOGS_ANALYSIS_MEMORY: 'lots' is not a size: use e.g. 512MB"):
        AnalysisSettings.load()


# ---- the README's configuration table says what the fields say


def _readme_rows() -> dict[str, tuple[tuple[str, ...], str]]:
    """env name -> (flags, default) of each row of the README's configuration table."""
    section = (ROOT / "README.md").read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        if len(cells) == 4 and re.fullmatch(r"`[A-Z][A-Z0-9_]+`", cells[0]):
            flags = () if cells[1] == "—" else tuple(flag.strip("` ") for flag in cells[1].split(","))
            rows[cells[0].strip("`")] = (flags, cells[2].strip("`"))
    return rows


def test_the_readme_configuration_table_matches_the_fields() -> None:
    rows = _readme_rows()
    infos = [*settings_infos(Settings), *settings_infos(AnalysisSettings)]
    for info in infos:
        assert all(name in rows for name in info.env), f"README has no row for {info.env}"
        row_flags = [flag for name in info.env for flag in rows[name][0]]
        assert sorted(row_flags) == sorted(info.flags), f"README flags of {info.field}"
        assert {rows[name][1] for name in info.env} == {info.default}, f"README default of {info.field}"
    assert set(rows) == {name for info in infos for name in info.env}  # and no row without a field


# ---- what a user types: choices in any case, whitespace around credentials, the forms of common mistakes


def _literal_fields() -> list[str]:
    return [name for name, field in Settings.model_fields.items() if typing.get_origin(field.annotation) is Literal]


def test_every_choice_is_read_in_any_case() -> None:
    assert _literal_fields() == [
        "auth_mode",
        "compress",
        "record_form",
        "secops_api_version",
        "secops_compress",
    ]  # a new choice must join the any-case validator
    settings = make_settings("https://acme.zendesk.com", auth_mode=" OAUTH", client_id="c", client_secret="s")
    assert settings.auth_mode == "oauth"
    assert make_settings("https://acme.zendesk.com", compress="GZIP").compress == "gzip"
    assert make_settings("https://acme.zendesk.com", secops_log_type="zendesk_crm").secops_log_type == "ZENDESK_CRM"
    assert make_settings("https://acme.zendesk.com", secops_compress="GZIP").secops_compress == "gzip"
    with pytest.raises(ConfigError, match=r"^ZDLOGS_COMPRESS \(--compress\): Input should be 'none' or 'gzip'"):
        make_settings("https://acme.zendesk.com", compress="zip")


def test_credentials_lose_the_whitespace_a_secret_file_or_a_copy_adds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZENDESK_API_TOKEN", f" {CANARY_TOKEN}\n")
    monkeypatch.setenv("ZENDESK_EMAIL", "admin@acme.com \n")
    settings = load_settings(base_url="https://acme.zendesk.com")
    assert settings.api_token.get_secret_value() == CANARY_TOKEN and settings.email == "admin@acme.com"
    secret = load_settings(auth_mode="oauth", client_id=" zdlogs ", client_secret="\tsecret\r\n")
    assert (secret.client_id, secret.client_secret.get_secret_value()) == ("zdlogs", "secret")


def test_a_credential_of_spaces_is_empty_not_a_401(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZENDESK_API_TOKEN", "   \n")
    with pytest.raises(ConfigError, match=r"^AUTH_MODE=token needs ZENDESK_API_TOKEN; ZENDESK_API_TOKEN is empty"):
        load_settings(base_url="https://acme.zendesk.com", email="admin@acme.com")
    with pytest.raises(ConfigError, match=r"needs ZENDESK_EMAIL and ZENDESK_API_TOKEN; .*is empty: set them$"):
        load_settings(base_url="https://acme.zendesk.com")


def test_the_two_copy_paste_mistakes_are_refused_with_the_fix() -> None:
    with pytest.raises(ConfigError, match=r"'admin@acme.com/token' ends in /token: set the e-mail alone \(admin@acme"):
        make_settings("https://acme.zendesk.com", email="admin@acme.com/token")
    with pytest.raises(ConfigError) as raised:
        make_settings("https://acme.zendesk.com", auth_mode="bearer", bearer_token=f"Bearer {CANARY_TOKEN}")
    assert str(raised.value).startswith("ZENDESK_BEARER_TOKEN (--bearer-token): starts with 'Bearer ': set the access")
    assert CANARY_TOKEN not in str(raised.value)


# ---- where data and state go: a prefix is a folder, keys stay inside the output


def test_the_data_prefix_is_a_folder() -> None:
    assert load_settings(data_prefix="zendesk").data_prefix == "zendesk/"
    assert load_settings(data_prefix=" feed/siem/ ").data_prefix == "feed/siem/"
    assert load_settings(data_prefix="zendesk", state_key="zendesk_state.json").state_key == "zendesk_state.json"


@pytest.mark.parametrize(
    ("field", "value"),
    [("data_prefix", "../x"), ("data_prefix", "/zendesk/"), ("data_prefix", "a//b/"), ("data_prefix", "a/./b"),
     ("state_key", "/etc/x"), ("state_key", "../state.json"), ("state_key", "")],
)  # fmt: skip
def test_keys_that_would_leave_the_output_are_refused(field: str, value: str) -> None:
    with pytest.raises(ConfigError, match=rf"^{env_name(field)} .*is not a path inside the output.*: use e\.g\. "):
        load_settings(**{field: value})


def test_an_empty_data_prefix_says_why_and_names_the_variable_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GCS_PREFIX", "")
    with pytest.raises(
        ConfigError, match=r"^GCS_PREFIX \(--data-prefix\): is empty, .*use a folder such as zendesk/crm/"
    ):
        load_settings()
    monkeypatch.delenv("GCS_PREFIX")
    with pytest.raises(
        ConfigError, match=r"^STATE_KEY \(--state-key\): 'state/' is a folder: name the checkpoint file"
    ):
        load_settings(state_key="state/")


def test_the_state_inside_the_prefix_suggests_a_value_not_already_in_use() -> None:
    with pytest.raises(ConfigError, match=r"inside the data prefix .*'_zdlogs/'.*: use another ZDLOGS_DATA_PREFIX, e"):
        load_settings(data_prefix="_zdlogs")
    with pytest.raises(ConfigError, match=r"inside the data prefix .*: use STATE_KEY=_zdlogs/state.json$"):
        load_settings(data_prefix="feed", state_key="feed/state.json")


def test_gcs_bucket_is_a_bucket_name() -> None:
    assert load_settings(gcs_bucket="my-zendesk-logs").output == "gs://my-zendesk-logs/"
    with pytest.raises(ConfigError, match=r"^GCS_BUCKET: 'gs://my-logs' is a URL: set GCS_BUCKET=my-logs \(the name"):
        load_settings(gcs_bucket="gs://my-logs")
    with pytest.raises(
        ConfigError,
        match=r"set GCS_BUCKET=b0x \(the name alone\), or ZDLOGS_OUTPUT=gs://b0x/feed/ to write under feed/$",
    ):
        load_settings(gcs_bucket="gs://b0x/feed")
    with pytest.raises(ConfigError, match=r"^GCS_BUCKET: 'My Logs' is not a bucket name"):
        load_settings(gcs_bucket="My Logs")


def test_a_file_url_with_a_host_is_refused_not_read_as_the_root(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"^ZDLOGS_OUTPUT \(--output\): 'file://relative/out' .*path alone \(relative/out\)"
    ):
        load_settings(output="file://relative/out")
    with pytest.raises(ConfigError, match=r"^ZDLOGS_SECOPS_STATE \(--secops-state\): 'file://state/dir'"):
        load_settings(secops_state="file://state/dir")
    for accepted in (tmp_path.as_uri(), f"file://localhost{tmp_path}", "relative/out"):
        assert load_settings(output=accepted).output == accepted


# ---- numbers and times that cannot mean what they say


def test_a_start_in_the_future_is_refused() -> None:
    tomorrow = (utc_now() + timedelta(days=1)).date().isoformat()
    with pytest.raises(ConfigError, match=rf"^ZDLOGS_SINCE \(--since\): {tomorrow}T00:00:00Z is in the future \(it is"):
        load_settings(since=tomorrow)
    assert load_settings(since=utc_now().date().isoformat()).since is not None  # today's midnight has passed


def test_lookback_and_timeouts_are_bounded_with_the_setting_named() -> None:
    with pytest.raises(
        ConfigError, match=r"^LOOKBACK_SECONDS \(--lookback-seconds\): 99999999999 seconds is more than"
    ):
        load_settings(lookback_seconds=99999999999)
    assert load_settings(lookback_seconds=MAX_LOOKBACK_SECONDS).lookback_seconds == MAX_LOOKBACK_SECONDS
    with pytest.raises(ConfigError, match=r"^HTTP_TIMEOUT \(--http-timeout\): Input should be a finite number"):
        load_settings(http_timeout="inf")
    with pytest.raises(ConfigError, match=r"^HTTP_TIMEOUT \(--http-timeout\): Input should be less than or equal to"):
        load_settings(http_timeout=1e12)
    with pytest.raises(ConfigError, match=r"^ZDLOGS_MAX_RUNTIME \(--max-runtime\): Input should be a finite number"):
        load_settings(max_runtime="nan")


# ---- RESOURCES


@pytest.mark.parametrize(
    ("value", "streams"),
    [("audit_logs,audit_logs", ["audit_logs"]), ("", list(DEFAULT_RESOURCES)), (" , ", list(DEFAULT_RESOURCES)),
     ("all,users", list(KNOWN_RESOURCES)), ("Users, AUDIT_LOGS,users", ["users", "audit_logs"]),
     (["audit_logs", "users,access_logs"], ["audit_logs", "users", "access_logs"])],
)  # fmt: skip
def test_resources_rules(value: str | list[str], streams: list[str]) -> None:
    assert load_settings(resources=value).resources == streams


def test_an_unknown_stream_is_named_even_beside_all(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESOURCES", "all,tickets")
    with pytest.raises(ConfigError, match=r"^RESOURCES \(--resources\): unknown resource 'tickets'; choose from"):
        load_settings()


def test_messages_name_a_fleet_tenant_s_key_inside_its_run_and_the_environment_outside() -> None:
    from zdlogs.config import env_name, settings_set_in

    with settings_set_in("tenants.acme."):
        assert env_name("api_token") == "tenants.acme.api_token"
    assert env_name("api_token") == "ZENDESK_API_TOKEN"
