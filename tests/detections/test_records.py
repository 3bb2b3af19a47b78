"""Where the access log is found beside the audit log, and the one line when it was never collected."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.detections.fixtures import access, audit, write
from zdlogs.detections.records import access_files, require_access
from zdlogs.errors import ConfigError


def test_the_access_log_is_found_beside_the_audit_log_however_input_names_it(tmp_path: Path) -> None:
    root = write(tmp_path / "out", [audit("2026-03-03T10:00:00Z", "login", "user", "x", "y")],
                 [access("2026-03-03T10:00:00Z", "/api/v2/incremental/tickets")])  # fmt: skip
    expected = sorted((root / "zendesk" / "crm" / "access_logs").rglob("*.ndjson"))
    assert len(expected) == 1
    assert access_files(str(root), "zendesk/crm/") == expected
    assert access_files(str(root / "zendesk" / "crm" / "audit_logs"), "zendesk/crm/") == expected


def test_no_access_log_is_an_empty_list_and_an_error_only_when_required(tmp_path: Path) -> None:
    root = write(tmp_path, [audit("2026-03-03T10:00:00Z", "login", "user", "x", "y")])
    assert access_files(str(root), "zendesk/crm/") == []
    with pytest.raises(ConfigError, match=r"no access-log files under .*--resources audit_logs,access_logs"):
        require_access([], str(root))
