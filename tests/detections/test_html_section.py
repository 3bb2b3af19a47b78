"""The findings section of ``zdlogs report html``: findings newest first, high ones highlighted, and a reason
in place of findings when detections cannot run on the data given."""

from __future__ import annotations

from pathlib import Path

from tests.detections.fixtures import DANIEL, INTRUDER, audit, write
from zdlogs.analysis.engine import open_audit
from zdlogs.analysis.filters import build_filters
from zdlogs.analysis.html_report import render_html
from zdlogs.analysis.inputs import audit_files
from zdlogs.detections.html_section import findings_section


def test_the_section_lists_findings_newest_first_and_highlights_high_ones(tmp_path: Path) -> None:
    records = [
        audit("2026-03-03T10:00:00Z", "update", "account_setting", "Require Two Factor", "Disabled", DANIEL, INTRUDER),
        audit("2026-03-03T11:00:00Z", "exported", "account", "Account", "Full JSON export requested", DANIEL, INTRUDER),
    ]
    root = write(tmp_path, records)
    with open_audit(audit_files(str(root)), build_filters()) as data:
        section = findings_section(data, (str(root), "zendesk/crm/"), None, 100)
    assert [(row["rule"], row["high"]) for row in section.rows] == [
        ("zendesk_data_export", False),
        ("zendesk_mfa_disabled", True),
    ]
    assert section.notes[0] == "2 findings: 1 high, 1 medium."
    page = render_html([section], {"source": str(root)})
    assert '<section id="detections">' in page and '<tr class="hl">' in page
    assert "Daniel Okafor turned off Require Two Factor" in page


def test_without_one_account_the_section_says_why(tmp_path: Path) -> None:
    root = write(tmp_path, [audit("2026-03-03T10:00:00Z", "login", "user", "x", "y")])
    with open_audit(audit_files(str(root)), build_filters()) as data:
        section = findings_section(data, None, None, 100)
    assert section.rows == [] and section.notes == [
        "Detections run on one account's data: give one --input or one --tenant."
    ]


def test_a_bad_detect_setting_is_shown_not_raised(tmp_path: Path) -> None:
    root = write(tmp_path, [audit("2026-03-03T10:00:00Z", "login", "user", "x", "y")])
    config = tmp_path / "detect.yaml"
    config.write_text("detect_bulk_api_window: '30'\n")
    with open_audit(audit_files(str(root)), build_filters()) as data:
        section = findings_section(data, (str(root), "zendesk/crm/"), str(config), 100)
    assert section.rows == [] and section.notes[0].startswith("Detections not run: ZDLOGS_DETECT_BULK_API_WINDOW")
