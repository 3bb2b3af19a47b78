"""Rate limits (429 + Retry-After in both forms) and every injected fault, seen by httpx."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest

from tests.simulator._support import BASIC, T0, FakeClock, running
from zdlogs.simulator import FaultConfig, SimConfig, Simulator

AUDIT = "/api/v2/audit_logs"
TICKETS = "/api/v2/incremental/tickets/cursor"


def test_account_limit_429_with_seconds_retry_after_then_window_resets() -> None:
    clock = FakeClock()  # 10 s into a 60 s window
    with running(SimConfig(audit_logs=5, tickets=5, account_limit=3, clock=clock)) as (sim, client):
        remaining = [client.get(AUDIT).headers["x-rate-limit-remaining"] for _ in range(3)]
        assert remaining == ["2", "1", "0"]
        refused = client.get(AUDIT)
        assert refused.status_code == 429
        assert refused.headers["content-type"].startswith("text/plain")
        assert refused.text == "Number of allowed API requests per minute exceeded"
        assert refused.headers["Retry-After"] == "50"
        assert refused.headers["ratelimit-reset"] == "50"
        assert refused.headers["ratelimit-remaining"] == "0"
        clock.advance(50)
        assert client.get(AUDIT).status_code == 200
        assert sim.stats()["rate_limited"] == 1


def test_incremental_limit_429_with_http_date_retry_after() -> None:
    clock = FakeClock()
    faults = FaultConfig(retry_after="http-date")
    config = SimConfig(audit_logs=5, tickets=5, incremental_limit=2, clock=clock, faults=faults)
    with running(config) as (_, client):
        for _ in range(2):
            assert client.get(TICKETS, params={"start_time": 0}).status_code == 200
        refused = client.get(TICKETS, params={"start_time": 0})
        assert refused.status_code == 429
        assert refused.text == "Number of allowed incremental export API requests per minute exceeded"
        retry_at = email.utils.parsedate_to_datetime(refused.headers["Retry-After"])
        assert retry_at.timestamp() == T0 + 50
        assert refused.headers["Retry-After"].endswith("GMT")
        assert client.get(AUDIT).status_code == 200  # the account budget is separate


def test_mixed_retry_after_gives_both_forms() -> None:
    faults = FaultConfig(rate_limit_rate=1.0, retry_after="mixed", retry_after_seconds=2, seed=4)
    with running(SimConfig(audit_logs=5, tickets=5, faults=faults)) as (sim, client):
        values = [client.get(AUDIT).headers["Retry-After"] for _ in range(20)]
        assert "2" in values
        assert any(v.endswith("GMT") for v in values)
        assert sim.stats()["faults"]["rate_limit"] == 20


def test_error_faults_give_500_502_503() -> None:
    with running(SimConfig(audit_logs=5, tickets=5, faults=FaultConfig(error_rate=1.0, seed=1))) as (sim, client):
        responses = [client.get(AUDIT) for _ in range(30)]
        by_status = {r.status_code: r for r in responses}
        assert set(by_status) == {500, 502, 503}
        bad_gateway = by_status[502]
        assert "Bad Gateway" in bad_gateway.text and bad_gateway.text.startswith("<html>")
        assert bad_gateway.headers["content-type"] == "text/html"
        assert "Retry-After" in by_status[503].headers
        assert sim.stats()["faults"]["error"] == 30


def test_reset_fault_is_a_transport_error_and_control_endpoints_are_spared() -> None:
    with running(SimConfig(audit_logs=5, tickets=5, faults=FaultConfig(reset_rate=1.0))) as (sim, client):
        with pytest.raises(httpx.TransportError):
            client.get(AUDIT)
        assert httpx.get(f"{sim.url}/_sim/stats").json()["faults"]["reset"] == 1
        token = httpx.post(
            f"{sim.url}/oauth/tokens",
            json={"grant_type": "client_credentials", "client_id": "zdlogs-sim", "client_secret": "sim-client-secret"},
        )
        assert token.status_code == 200  # only /api/v2 is faulted


def test_truncated_body_is_an_incomplete_read() -> None:
    with running(SimConfig(audit_logs=50, tickets=5, faults=FaultConfig(truncate_rate=1.0))) as (sim, client):
        with pytest.raises(httpx.RemoteProtocolError):
            client.get(AUDIT, params={"page[size]": 100})
        sim.set_faults(FaultConfig())
        assert client.get(AUDIT).status_code == 200  # a fresh connection works again


def test_slow_fault_delays_and_trips_client_timeouts() -> None:
    faults = FaultConfig(slow_rate=1.0, slow_seconds=0.3)
    with running(SimConfig(audit_logs=5, tickets=5, faults=faults)) as (sim, client):
        started = time.monotonic()
        assert client.get(AUDIT).status_code == 200
        assert time.monotonic() - started >= 0.3
        with pytest.raises(httpx.ReadTimeout):
            client.get(AUDIT, timeout=0.1)
        assert sim.stats()["faults"]["slow"] == 2


def test_fault_sequence_is_reproducible_from_its_seed() -> None:
    faults = FaultConfig(error_rate=0.3, rate_limit_rate=0.2, seed=11)

    def statuses() -> list[int]:
        with running(SimConfig(audit_logs=5, tickets=5, faults=faults)) as (_, client):
            return [client.get(AUDIT).status_code for _ in range(25)]

    first = statuses()
    assert first == statuses()
    assert 200 in first and 429 in first and {500, 502, 503} & set(first)


def test_stop_cuts_keep_alive_connections() -> None:
    sim = Simulator(SimConfig(audit_logs=5, tickets=5)).start()
    with httpx.Client(base_url=sim.url, auth=BASIC) as client:
        assert client.get(AUDIT).status_code == 200
        sim.stop()
        with pytest.raises(httpx.TransportError):
            client.get(AUDIT)
    sim.stop()  # idempotent
