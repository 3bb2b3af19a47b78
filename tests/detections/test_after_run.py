"""``zdlogs run --detect``'s second half: each finding logged once, across runs; a non-local output refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import structlog

from tests.conftest import make_settings
from tests.detections.fixtures import DANIEL, INTRUDER, audit, write
from zdlogs.detections.after_run import LOGGED_KEY, log_new_findings, prepare
from zdlogs.errors import ConfigError


def test_each_finding_is_logged_once_across_runs(tmp_path: Path) -> None:
    token = audit("2026-03-03T10:00:00Z", "create", "apitoken", "API token: backup", "Created", DANIEL, INTRUDER)
    write(tmp_path, [token])
    plan = prepare(make_settings(output=str(tmp_path)))
    with structlog.testing.capture_logs() as first:
        assert [finding.rule for finding in log_new_findings(plan)] == ["zendesk_api_token_created"]
    line = next(entry for entry in first if entry["event"] == "detection_finding")
    assert (line["rule"], line["record_ids"], line["log_level"]) == (
        "zendesk_api_token_created",
        [token["id"]],
        "warning",
    )
    assert json.loads((tmp_path / LOGGED_KEY).read_text())["logged"] == [f"zendesk_api_token_created:{token['id']}"]

    export = audit("2026-03-03T11:00:00Z", "exported", "account", "Account", "Full JSON export", DANIEL, INTRUDER)
    write(tmp_path / "more", [export])
    (tmp_path / "more" / "zendesk" / "crm" / "audit_logs").rename(tmp_path / "zendesk" / "crm" / "audit_logs" / "x")
    with structlog.testing.capture_logs() as second:
        assert [finding.rule for finding in log_new_findings(plan)] == ["zendesk_data_export"]
    assert [entry["rule"] for entry in second if entry["event"] == "detection_finding"] == ["zendesk_data_export"]


def test_an_unreadable_memory_logs_everything_again(tmp_path: Path) -> None:
    write(tmp_path, [audit("2026-03-03T10:00:00Z", "exported", "account", "Account", "Full JSON export requested")])
    (tmp_path / LOGGED_KEY).parent.mkdir(parents=True)
    (tmp_path / LOGGED_KEY).write_text("{not json")
    assert len(log_new_findings(prepare(make_settings(output=str(tmp_path))))) == 1


def test_a_bucket_output_is_refused_before_collecting() -> None:
    with pytest.raises(ConfigError, match="--detect reads the collected files back, which needs a local --output"):
        prepare(make_settings(output="gs://bucket/zendesk"))
