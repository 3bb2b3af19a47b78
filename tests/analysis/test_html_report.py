"""The HTML report: the page's parts and its escaping, checked on the text; then in a real headless Chromium
(Debian's chromium + chromium-driver): it renders offline, logs no console error, and shows its charts. A missing
browser FAILS that test: .ci/run installs it."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from datetime import time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from tests.analysis.fixtures import RECORDS, rec, write_collected
from zdlogs.analysis.engine import AuditData, open_audit
from zdlogs.analysis.filters import build_filters
from zdlogs.analysis.html_report import (
    CSP,
    TABLE_ROWS,
    _in_hours,
    _table,
    missing_incident_section,
    render_html,
    write_html,
)
from zdlogs.analysis.inputs import audit_files
from zdlogs.analysis.reports import (
    ActivityOptions,
    IncidentOptions,
    Report,
    RulesOptions,
    activity_report,
    incident_report,
    offhours_report,
    rules_report,
)
from zdlogs.analysis.reports.offhours import check_options
from zdlogs.analysis.times import BusinessHours, parse_moment
from zdlogs.cli import app
from zdlogs.errors import StorageError

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-dev-shm-usage", "--window-size=1280,2200",
)  # fmt: skip


@pytest.fixture
def browser() -> Iterator:
    if not (Path(CHROMIUM).exists() and Path(DRIVER).exists()):
        pytest.fail(
            "chromium and chromedriver are needed for the HTML report test: "
            "apt-get install -y chromium chromium-driver (.ci/run does it)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="zdlogs-chromium-")
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def hostile_records() -> list[dict]:
    """A rule title that would run script if the report did not escape it."""
    return [
        *RECORDS,
        rec(13, "2026-03-10T02:30:00Z", 999, "update", "rule", 5005, '<script>alert("x")</script><img src=x>',
            "</svg><b>bold?</b>", "192.0.2.66"),
    ]  # fmt: skip


def test_html_report_renders_offline_with_charts(browser, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    collected = write_collected(tmp_path / "zendesk-logs", hostile_records())
    page = tmp_path / "report.html"
    args = ["report", "html", "-i", str(collected), "-o", str(page), "--around", "2026-03-10T02:15Z",
            "--window", "1h", "--timezone", "Europe/Paris"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output

    browser.get(page.as_uri())
    shot = tmp_path / "report.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []
    charts = browser.find_elements(By.CSS_SELECTOR, "svg.chart")
    assert len(charts) == 7
    assert all(chart.size["width"] > 300 and chart.size["height"] > 30 for chart in charts)
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg.chart rect")) > 60  # bars and heatmap cells
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg.chart polygon")) == 3  # rule changes on the timeline
    headings = [h.text for h in browser.find_elements(By.TAG_NAME, "h2")]
    assert headings == ["Activity per admin", "Off-hours and unexpected changes", "Business-rule changes",
                        "Changes around 2026-03-10T02:15:00Z", "Detection findings"]  # fmt: skip
    assert browser.find_elements(By.TAG_NAME, "script") == [] and browser.find_elements(By.TAG_NAME, "img") == []
    assert '<script>alert("x")</script>' in browser.find_element(By.ID, "incident").text
    assert len(browser.find_elements(By.CSS_SELECTOR, "#incident tr.hl")) == 3


def all_reports(data: AuditData) -> list[Report]:
    around = parse_moment("2026-03-10T02:15Z", "--around")
    hours = check_options("08:00-18:00", "Europe/Paris", "mon-fri")
    return [
        activity_report(data, ActivityOptions("day", 10)),
        offhours_report(data, hours),
        rules_report(data, RulesOptions()),
        incident_report(data, IncidentOptions(around, timedelta(hours=1))),
    ]


def test_the_page_has_no_script_a_strict_csp_and_one_section_per_report(audit: AuditData) -> None:
    page = render_html(all_reports(audit), {"source": "./zendesk-logs", "filters": "none"})
    assert f'content="{CSP}"' in page and "default-src 'none'" in CSP
    assert "<script" not in page.lower() and "<img" not in page.lower()
    assert [section.split('"')[0] for section in page.split('<section id="')[1:]] == [
        "activity", "offhours", "rules", "incident",
    ]  # fmt: skip
    assert page.count('<svg class="chart"') == 7
    assert "Source: ./zendesk-logs · Filters: none" in page


def test_user_text_is_escaped_in_tables_and_charts(tmp_path: Path) -> None:
    collected = write_collected(tmp_path / "logs", hostile_records())
    with open_audit(audit_files(str(collected)), build_filters()) as data:
        page = render_html(all_reports(data), {"source": '<b>"src"</b>'})
    assert '<script>alert("x")</script>' not in page and "</svg><b>bold?</b>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "&lt;b&gt;&quot;src&quot;&lt;/b&gt;" in page


def test_rule_rows_are_highlighted_and_long_tables_say_how_many_are_shown() -> None:
    rows = [{"created_at": "2026-03-10T02:00:00Z", "is_rule": n % 2 == 0} for n in range(TABLE_ROWS + 5)]
    report = Report("rules", "Rule changes", "", ["created_at"], rows, total_rows=250, highlight="is_rule")
    table = _table(report)
    assert table.count('<tr class="hl">') == TABLE_ROWS // 2 and table.count("<tr") == TABLE_ROWS + 1
    assert f"{TABLE_ROWS} of 250 rows shown." in table
    assert '<td class="t">2026-03-10T02:00:00Z</td>' in table


def test_without_around_the_incident_section_says_how_to_get_it() -> None:
    section = missing_incident_section()
    page = render_html([section], {})
    assert "Pass --around TIME" in page and '<svg class="chart"' not in page


def test_business_hours_for_the_heatmap_border() -> None:
    office = BusinessHours(time(8), time(18), ZoneInfo("UTC"), frozenset({1, 2, 3, 4, 5}))
    night = BusinessHours(time(22), time(6), ZoneInfo("UTC"), frozenset({1, 2, 3, 4, 5}))
    assert _in_hours(office, 1, 8) and _in_hours(office, 1, 17) and not _in_hours(office, 1, 18)
    assert not _in_hours(office, 6, 10)  # Saturday
    assert _in_hours(night, 2, 23) and _in_hours(night, 2, 5) and not _in_hours(night, 2, 12)


def test_write_html_is_atomic_and_a_write_error_names_the_fix(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    write_html(target, [missing_incident_section()], {})
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [path.name for path in tmp_path.iterdir()] == ["report.html"]  # no .partial left behind
    with pytest.raises(StorageError, match="choose another -o/--output"):
        write_html(tmp_path / "missing-dir" / "report.html", [missing_incident_section()], {})
