"""The detect settings read from a config file or the environment, each bad value one line naming it."""

from __future__ import annotations

import ipaddress
from datetime import time, timedelta
from pathlib import Path

import pytest

from zdlogs.detections.tuning import Threshold, Tuning, load_tuning
from zdlogs.errors import ConfigError


def test_the_defaults_keep_the_rules_own_thresholds_and_report_offhours_hours() -> None:
    tuning = load_tuning()
    assert tuning.thresholds == {"zendesk_mass_rule_deletion": Threshold(), "zendesk_access_bulk_api": Threshold()}
    assert (tuning.hours.hours.start, tuning.hours.hours.end, tuning.hours.hours.zone.key) == (time(8), time(18), "UTC")
    assert tuning.baseline is None and tuning.allow_ids == () and tuning.allow_networks == ()


def test_a_config_file_sets_allow_lists_and_thresholds(tmp_path: Path) -> None:
    config = tmp_path / "zdlogs.yaml"
    config.write_text(
        "detect_allow_actors: [381204556701, Zendesk Integrations]\n"
        "detect_allow_ips: [203.0.113.0/24, 198.51.100.23]\n"
        "detect_mass_rule_deletion_count: 10\ndetect_mass_rule_deletion_window: 30m\n"
        "detect_new_ip_baseline: 30d\ndetect_timezone: Europe/Paris\n"
    )
    tuning = load_tuning(str(config))
    assert (tuning.allow_ids, tuning.allow_names) == ((381204556701,), ("zendesk integrations",))
    assert tuning.thresholds["zendesk_mass_rule_deletion"] == Threshold(10, timedelta(minutes=30))
    assert tuning.baseline == timedelta(days=30) and tuning.hours.hours.zone.key == "Europe/Paris"
    assert tuning.allowed_ips(["203.0.113.77", "198.51.100.23", "198.51.100.24", None, "not-an-ip"]) == [
        "203.0.113.77",
        "198.51.100.23",
    ]


def test_the_environment_takes_comma_separated_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZDLOGS_DETECT_ALLOW_IPS", "10.0.0.0/8, 2001:db8::/32")
    monkeypatch.setenv("ZDLOGS_DETECT_BULK_API_COUNT", "100")
    tuning = load_tuning()
    assert tuning.allow_networks == (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8::/32"))
    assert tuning.allowed_ips(["10.1.2.3", "2001:db8::1", "192.0.2.66"]) == ["10.1.2.3", "2001:db8::1"]
    assert tuning.thresholds["zendesk_access_bulk_api"].count == 100


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "ZDLOGS_DETECT_BULK_API_COUNT",
            "0",
            "ZDLOGS_DETECT_BULK_API_COUNT: Input should be greater than or equal to 1",
        ),
        (
            "ZDLOGS_DETECT_BULK_API_WINDOW",
            "30",
            r"ZDLOGS_DETECT_BULK_API_WINDOW \(detect_bulk_api_window in the config",
        ),
        ("ZDLOGS_DETECT_ALLOW_IPS", "10.0.0.300", "'10.0.0.300' is not an IP address or CIDR range"),
        ("ZDLOGS_DETECT_TIMEZONE", "Mars/Olympus", "Mars/Olympus"),
        ("ZDLOGS_DETECT_NEW_IP_BASELINE", "-1d", "ZDLOGS_DETECT_NEW_IP_BASELINE"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message) as caught:
        load_tuning()
    assert "\n" not in str(caught.value)


def test_no_allow_list_allows_nothing() -> None:
    assert Tuning().allowed_ips(["203.0.113.10"]) == []
