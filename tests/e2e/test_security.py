"""Credentials stay on the configured origin and never appear in any output."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tests.conftest import CANARY_EMAIL, CANARY_TOKEN
from tests.e2e.helpers import collector_env, collector_settings, sim_config, zdlogs
from zdlogs.errors import CollectionFailed
from zdlogs.pipeline import run
from zdlogs.simulator import Simulator

CANARY_FORMS = [CANARY_TOKEN, base64.b64encode(f"{CANARY_EMAIL}/token:{CANARY_TOKEN}".encode()).decode()]


def test_a_pagination_link_to_another_host_is_refused_and_that_host_gets_nothing(tmp_path: Path) -> None:
    with Simulator(sim_config(audit_logs=10, tickets=0)).start() as other:
        config = sim_config(audit_logs=450, tickets=1500, link_base_url=other.url)
        with Simulator(config).start() as sim:
            with pytest.raises(CollectionFailed, match="refused") as caught:
                run(collector_settings(sim.url, tmp_path))
            assert "audit_logs" in str(caught.value) and "incremental_tickets" in str(caught.value)
        assert other.stats()["requests"] == 0


def test_the_canary_credential_never_appears_in_any_output(tmp_path: Path) -> None:
    outputs: list[str] = []
    with Simulator(sim_config(audit_logs=300, tickets=40)).start() as sim:
        for args, extra in [
            (("run",), {}),
            (("--debug", "run"), {}),
            (("--log-format", "json", "run"), {"MAX_PAGES": "1"}),
            (("--debug", "run"), {"ZENDESK_BASE_URL": "http://example.com"}),
        ]:
            result = zdlogs(*args, env=collector_env(sim.url, tmp_path, **extra))
            outputs += [result.stdout, result.stderr]
    with Simulator(sim_config(api_token="the-real-token")).start() as wrong:
        for args in (("run",), ("--debug", "run")):
            result = zdlogs(*args, env=collector_env(wrong.url, tmp_path / "x"))
            assert result.returncode == 3
            outputs += [result.stdout, result.stderr]
    written = [p.read_bytes().decode("utf-8", "replace") for p in tmp_path.rglob("*") if p.is_file()]
    haystack = "\n".join(outputs + written)
    assert "zdlogs" in haystack and len(written) > 3  # there was something to search
    for secret in CANARY_FORMS:
        assert secret not in haystack
