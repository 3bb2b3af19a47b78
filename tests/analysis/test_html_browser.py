"""The HTML report in a real headless Chromium (Debian's chromium + chromium-driver): it renders offline,
logs no console error, and shows its charts. A missing browser FAILS the test: .ci/run installs it."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.analysis.fixtures import RECORDS, rec, write_collected
from zdlogs.cli import app

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
                        "Changes around 2026-03-10T02:15:00Z"]  # fmt: skip
    assert browser.find_elements(By.TAG_NAME, "script") == [] and browser.find_elements(By.TAG_NAME, "img") == []
    assert '<script>alert("x")</script>' in browser.find_element(By.ID, "incident").text
    assert len(browser.find_elements(By.CSS_SELECTOR, "#incident tr.hl")) == 3
