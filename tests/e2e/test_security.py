"""Credentials stay on the configured origin and never appear in any output."""

from __future__ import annotations

import base64
from pathlib import Path

from tests.conftest import CANARY_EMAIL, CANARY_TOKEN
from tests.e2e.helpers import collector_env, sim_config, zdlogs
from tests.e2e.test_exactly_once import assert_complete
from tests.e2e.test_streams import assert_new_streams_complete
from zdlogs.simulator import Simulator

CANARY_FORMS = [CANARY_TOKEN, base64.b64encode(f"{CANARY_EMAIL}/token:{CANARY_TOKEN}".encode()).decode()]


def test_links_naming_another_host_get_nothing_sent_there_and_the_run_collects_everything(tmp_path: Path) -> None:
    """Zendesk naming another host of the account (a renamed subdomain) in every after_url and links.next:
    the next pages are asked of the configured origin with their cursors; the other host gets no request."""
    with Simulator(sim_config(audit_logs=10, tickets=0)).start() as other:
        config = sim_config(audit_logs=450, tickets=1500, access_logs=6000, users=1500, link_base_url=other.url)
        with Simulator(config).start() as sim:
            env = collector_env(sim.url, tmp_path, RESOURCES="all")
            result = zdlogs("--log-format", "json", "run", env=env)
            assert result.returncode == 0, result.stderr[-2000:]
            assert_complete(sim, tmp_path)
            assert_new_streams_complete(sim, tmp_path)
        assert other.stats()["requests"] == 0
    told = [line for line in result.stderr.splitlines() if '"link_to_other_host"' in line]
    assert len(told) == 1 and other.url.split("//")[1] in told[0]  # once per run, naming the host


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
