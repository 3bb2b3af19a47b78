"""Shared fixtures: settings for a loopback Zendesk, and a canary secret that must never be printed."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from zdlogs import logs
from zdlogs.config import AnalysisSettings, Settings, load_settings, settings_infos

# Without credentials google-auth probes the GCE metadata server (169.254.169.254): never from tests.
os.environ.setdefault("NO_GCE_CHECK", "true")

CANARY_TOKEN = "CANARY-tok-7f3a9b2c5d1e"
CANARY_EMAIL = "canary-admin@example.com"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never inherit zdlogs settings (every env name of every field) from the developer's shell."""
    for name in (name for cls in (Settings, AnalysisSettings) for info in settings_infos(cls) for name in info.env):
        monkeypatch.delenv(name, raising=False)


def make_settings(base_url: str = "http://127.0.0.1:9", **overrides: object) -> Settings:
    values: dict[str, object] = {
        "base_url": base_url,
        "email": CANARY_EMAIL,
        "api_token": CANARY_TOKEN,
        "http_retries": 3,
        "http_timeout": 5,
        "settle_seconds": 1,
        "incremental_limit": 10_000,
        "rate_share": 1.0,
    }
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture(autouse=True)
def _logging_as_a_fresh_process_has_it() -> Iterator[None]:
    """Each test starts with zdlogs' default logging (JSON to the standard error of the moment), whatever the
    test before it configured: no test's order can change another's outcome."""
    logs.configure()
    yield


# ---- the canary guard: across the whole suite, the credential never appears in what zdlogs prints or writes
CANARY_FORMS = (CANARY_TOKEN, base64.b64encode(f"{CANARY_EMAIL}/token:{CANARY_TOKEN}".encode()).decode())


def leaked(text: str) -> list[str]:
    """The canary forms (raw token, Basic credential) present in ``text``."""
    return [form for form in CANARY_FORMS if form in text]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """Fail any test whose captured stdout, stderr or log output holds the canary credential."""
    outcome = yield
    report = outcome.get_result()
    if (
        report.when == "call"
        and report.passed
        and (found := leaked(report.capstdout + report.capstderr + report.caplog))
    ):
        report.outcome = "failed"
        report.longrepr = f"the canary credential leaked into captured output ({len(found)} form(s))"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if any file a test wrote (outputs, state, logs) holds the canary credential."""
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is None or exitstatus != 0:
        return
    base = factory.getbasetemp()
    offenders = [path for path in base.rglob("*") if path.is_file() and _file_leaks(path)]
    if offenders:
        session.exitstatus = 1
        print(f"\nthe canary credential was written to {len(offenders)} file(s), e.g. {offenders[0]}")


def _file_leaks(path: Path) -> bool:
    try:
        return bool(leaked(path.read_bytes().decode("utf-8", "replace")))
    except OSError:
        return False
