"""``zdlogs detect``'s outputs and exit rule: exactly the JSON document issue 16 names, CSV, a table, --fail-on."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.detections.fixtures import DANIEL, INTRUDER, access, audit, write
from zdlogs.detections.run import DetectRequest, run_detect
from zdlogs.errors import ConfigError, FindingsAtSeverity


@pytest.fixture
def root(tmp_path: Path) -> Path:
    records = [
        audit("2026-03-03T10:00:00Z", "update", "account_setting", "Require Two Factor", "Disabled", DANIEL, INTRUDER),
        audit("2026-03-03T10:05:00Z", "update", "user", "Noah Becker", "Role changed from End User to Agent"),
    ]
    return write(tmp_path, records)


def _run(root: Path, **options: object) -> tuple[str, list[str]]:
    shown: list[str] = []
    notes: list[str] = []

    def echo(text: str, err: bool = False) -> None:
        (notes if err else shown).append(text)

    run_detect(DetectRequest(str(root), "zendesk/crm/", **options), echo)  # type: ignore[arg-type]
    return "\n".join(shown), notes


def test_json_is_the_documented_document(root: Path) -> None:
    shown, notes = _run(root, fmt="json")
    document = json.loads(shown)
    assert set(document) == {"findings", "rules_run"}
    assert [f["rule"] for f in document["findings"]] == ["zendesk_mfa_disabled", "zendesk_user_role_changed"]
    assert document["findings"][0] == {
        "rule": "zendesk_mfa_disabled",
        "severity": "high",
        "time": "2026-03-03T10:00:00Z",
        "actor_id": DANIEL,
        "actor_name": "Daniel Okafor",
        "ip_address": INTRUDER,
        "record_ids": document["findings"][0]["record_ids"],
        "summary": "Daniel Okafor turned off Require Two Factor",
    }
    assert len(document["rules_run"]) == 15 and "zendesk_access_bulk_api" not in document["rules_run"]
    assert notes == [f"zendesk_access_bulk_api: not run, no access log collected under {root}"]


def test_csv_and_table(root: Path) -> None:
    shown, _ = _run(root, fmt="csv", rules=("zendesk_mfa_disabled",))
    rows = list(csv.DictReader(io.StringIO(shown)))
    assert [(row["rule"], row["actor_name"], row["severity"]) for row in rows] == [
        ("zendesk_mfa_disabled", "Daniel Okafor", "high")
    ]
    table, _ = _run(root, rules=("zendesk_mfa_disabled",))
    assert "1 findings (1 rules run)" in table and "turned off Require Two Factor" in table
    empty, _ = _run(root, rules=("zendesk_data_export",))
    assert empty == "No findings."


def test_fail_on_raises_exit_8_after_printing_at_or_above_the_severity(root: Path) -> None:
    assert _run(root, fmt="json", fail_on="critical")[0]
    with pytest.raises(FindingsAtSeverity, match=r"1 findings at or above high \(zendesk_mfa_disabled\)"):
        _run(root, fmt="json", fail_on="HIGH")
    with pytest.raises(FindingsAtSeverity, match="2 findings at or above low"):
        _run(root, fmt="json", fail_on="low")
    assert FindingsAtSeverity.exit_code == 8


def test_bad_options_are_refused_before_reading(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--format 'xml': use table, json or csv"):
        _run(tmp_path, fmt="xml")
    with pytest.raises(ConfigError, match="--fail-on 'severe': use one of informational, low, medium, high"):
        _run(tmp_path, fail_on="severe")


def test_naming_the_access_rule_without_an_access_log_is_an_error(root: Path) -> None:
    with pytest.raises(ConfigError, match="no access-log files under"):
        _run(root, rules=("zendesk_access_bulk_api",))


def test_the_access_rule_runs_when_its_log_was_collected(tmp_path: Path) -> None:
    calls = [access(f"2026-03-03T02:00:{i:02d}Z", "/api/v2/incremental/users/cursor", n=i) for i in range(30)]
    root = write(tmp_path, [audit("2026-03-03T10:00:00Z", "login", "user", "x", "y", DANIEL)], calls)
    document = json.loads(_run(root, fmt="json", rules=("zendesk_access_bulk_api",))[0])
    assert document["rules_run"] == ["zendesk_access_bulk_api"]
    assert document["findings"][0]["record_ids"] == [call["id"] for call in calls]
