"""The simulator at scale: plan limits, accelerated time, and a collector that paces from headers in it."""

from __future__ import annotations

import time

import pytest

from tests.simulator._support import BASIC, running
from zdlogs.config import load_settings
from zdlogs.simulator import (
    PLAN_LIMITS,
    FaultConfig,
    ScaledClock,
    SimConfig,
    SimConfigError,
    plan_config,
    plan_limits,
)
from zdlogs.zendesk.client import ZendeskClient

AUDIT = "/api/v2/audit_logs"


@pytest.mark.parametrize(
    ("plan", "limit"), [("team", 200), ("professional", 400), ("enterprise", 700), ("enterprise_plus", 2500)]
)
def test_each_plan_announces_its_account_limit(plan: str, limit: int) -> None:
    assert plan_limits(plan) == (limit, 10)
    with running(plan_config(plan, audit_logs=5, tickets=5)) as (_, client):
        response = client.get("/api/v2/incremental/tickets/cursor", params={"start_time": 1})
        assert response.headers["x-rate-limit"] == str(limit)


def test_only_enterprise_plans_see_the_audit_log() -> None:
    for plan in PLAN_LIMITS:
        with running(plan_config(plan, audit_logs=5, tickets=5)) as (_, client):
            expected = 200 if plan.startswith("enterprise") else 403
            assert client.get(AUDIT).status_code == expected, plan


def test_unknown_plan_names_the_choices() -> None:
    with pytest.raises(ValueError, match="enterprise_plus"):
        plan_limits("gold")


OUT_OF_RANGE = [("audit_logs", -5, ">= 0"), ("incremental_limit", 0, ">= 1"), ("append_interval", -1, ">= 0")]
OUT_OF_RANGE += [("account_limit", 0, ">= 1"), ("time_scale", 0, "> 0"), ("history_days", 0, "> 0")]


@pytest.mark.parametrize(("field", "value", "rule"), OUT_OF_RANGE, ids=[field for field, _, _ in OUT_OF_RANGE])
def test_a_value_out_of_range_is_refused_naming_its_field(field: str, value: float, rule: str) -> None:
    with pytest.raises(SimConfigError, match=f"{field} must be {rule}") as refused:
        SimConfig(**{field: value})
    assert (refused.value.field, refused.value.rule, refused.value.value) == (field, rule, value)


def test_accelerated_time_shrinks_the_window_but_speaks_simulated_seconds() -> None:
    config = SimConfig(audit_logs=5, tickets=5, account_limit=2, time_scale=600)  # a minute lasts 0.1 s
    assert isinstance(config.clock, ScaledClock)
    with running(config) as (_, client):
        statuses = [client.get(AUDIT).status_code for _ in range(3)]
        if statuses != [200, 200, 429]:  # the window rolled between two requests (it lasts 0.1 s)
            statuses = [client.get(AUDIT).status_code for _ in range(3)]
        assert statuses[-1] == 429
        refused = client.get(AUDIT)
        wait = int(refused.headers["Retry-After"])
        assert 1 <= wait <= 60  # simulated seconds, as Zendesk would say
        config.clock.sleep(wait)  # wait / 600 real seconds
        assert client.get(AUDIT).status_code == 200


def test_injected_latency_is_in_simulated_seconds() -> None:
    faults = FaultConfig(slow_rate=1.0, slow_seconds=30)
    config = SimConfig(audit_logs=5, tickets=5, time_scale=300, faults=faults)
    with running(config) as (_, client):
        real, simulated = time.monotonic(), config.clock()
        assert client.get(AUDIT).status_code == 200
        assert time.monotonic() - real < 5  # 30 simulated seconds = 0.1 s here
        assert config.clock() - simulated >= 30


def test_a_collector_in_accelerated_time_paces_from_headers_and_meets_no_429() -> None:
    """Told neither the limit nor the scale: it learns the limit from X-Rate-Limit, its clock is the simulator's."""
    config = plan_config("team", audit_logs=5, tickets=5, time_scale=1200)  # a minute lasts 50 ms
    with running(config) as (sim, _):
        email, token = BASIC[0].removesuffix("/token"), BASIC[1]
        settings = load_settings(base_url=sim.url, email=email, api_token=token, rate_share=1.0)
        clock = config.clock
        with ZendeskClient(settings, clock=clock.monotonic, sleep=clock.sleep) as client:
            started = clock()
            for _ in range(500):
                client.get_json("/api/v2/users/me")
            elapsed = clock() - started
        assert sim.stats()["rate_limited"] <= 1  # the first window's limit is learned from its first answer
        assert elapsed >= 120  # 500 requests at 200/minute need at least two more windows
