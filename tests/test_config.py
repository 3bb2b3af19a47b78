"""Settings: parsing that no CLI test reaches directly, the one declaration per setting, the README table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import make_settings
from zdlogs.config import (
    DEFAULT_RESOURCES,
    KNOWN_RESOURCES,
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
