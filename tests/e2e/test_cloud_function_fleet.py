"""A fleet's function through the real parts: functions-framework serving it, the gcloud Pub/Sub emulator pushing
to it, one simulator per tenant over HTTP. The scheduled ``{}`` is fanned out to one message per tenant on the
same topic; each tenant is collected by its own execution; duplicates and a refused tenant stay harmless."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.helpers import (
    audit_ids,
    duplicates,
    fleet_file,
    no_account_env,
    sim_config,
    ticket_versions,
)
from tests.e2e.services import TOPIC_PATH, Function, PubSub, pubsub_emulator
from zdlogs.simulator import Simulator

TENANTS = ("acme", "globex", "initech")


@dataclass
class Deployment:
    """The function as a fleet deploys it: the emulator's topic pushing to it, its tenants' accounts."""

    function: Function
    pubsub: PubSub
    sims: dict[str, Simulator]
    out: Path

    def events(self) -> list[dict]:
        lines = self.function.log.read_text().splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def collected(self, name: str) -> bool:
        expected = {record["id"] for record in self.sims[name].truth()["audit_logs"]}
        return set(audit_ids(self.out / name)) == expected


def wait_until(done: Callable[[], bool], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError("the fleet was not collected in time")
        time.sleep(0.5)


def function_env(config: Path, pubsub: PubSub) -> dict[str, str]:
    """No account in the environment (a fleet refuses one there): the fleet file, the emulator, the topic."""
    env = no_account_env()
    env.update(ZDLOGS_CONFIG=str(config), PUBSUB_EMULATOR_HOST=pubsub.host, ZDLOGS_FANOUT_TOPIC=TOPIC_PATH)
    return env


@pytest.fixture
def deploy(tmp_path: Path) -> Iterator[Callable[..., Deployment]]:
    """Start the fleet's function; ``tokens`` gives a tenant a token its account refuses."""
    started: list[Function] = []
    sims: dict[str, Simulator] = {}
    with pubsub_emulator(tmp_path / "pubsub.log") as pubsub:

        def start(tokens: dict[str, str] | None = None) -> Deployment:
            for index, name in enumerate(TENANTS):
                config = sim_config(seed=200 + index, audit_logs=250, tickets=30, email=f"admin@{name}.example.com")
                config.api_token = f"token-of-{name}"
                sims[name] = Simulator(config).start()
            env = function_env(fleet_file(tmp_path, sims, tokens or {}), pubsub)
            function = Function(env, tmp_path / "function.log")
            started.append(function)
            pubsub.push_to(function)
            return Deployment(function, pubsub, sims, tmp_path / "out")

        try:
            yield start
        finally:
            for function in started:
                function.stop()
            for simulator in sims.values():
                simulator.stop()


def test_the_schedulers_message_fans_out_and_every_tenant_is_collected_once(
    deploy: Callable[..., Deployment],
) -> None:
    fleet = deploy()
    fleet.pubsub.publish({})
    wait_until(lambda: all(fleet.collected(name) for name in TENANTS))
    time.sleep(2)  # any late or duplicate delivery has its chance to write twice
    assert sorted(child.name for child in fleet.out.iterdir()) == sorted(TENANTS)
    for name, simulator in fleet.sims.items():
        assert not duplicates(audit_ids(fleet.out / name)) and not duplicates(ticket_versions(fleet.out / name))
        assert ticket_versions(fleet.out / name), name
        assert simulator.stats()["by_status"].get("401", 0) == 0, f"{name} got a credential not its own"
    events = fleet.events()
    fan_out = [event for event in events if event["event"] == "fan_out"]
    assert len(fan_out) == 1 and fan_out[0]["tenants"] == list(TENANTS) and fan_out[0]["message_ids"] == 3
    assert fan_out[0]["topic"] == TOPIC_PATH
    summaries = [event for event in events if event["event"] == "run_summary"]
    assert sorted(event["tenant"] for event in summaries) == sorted(TENANTS)  # the {} itself collected nothing
    assert {event["fan_out_of"] for event in summaries} == {fan_out[0]["event_id"]}
    assert [event["event"] for event in events if event.get("event_id") == fan_out[0]["event_id"]] == ["fan_out"]


def test_duplicate_fan_outs_and_a_concurrent_tenant_message_write_nothing_twice(
    deploy: Callable[..., Deployment],
) -> None:
    fleet = deploy()
    with ThreadPoolExecutor(3) as pool:
        direct = pool.submit(fleet.function.trigger, {"tenant": "acme"})
        for _ in range(2):  # Scheduler and Pub/Sub deliver at least once: the fan-out itself may come twice
            pool.submit(fleet.pubsub.publish, {})
        assert direct.result().status_code == 200
    wait_until(lambda: all(fleet.collected(name) for name in TENANTS))
    wait_until(lambda: len([e for e in fleet.events() if e["event"] == "fan_out"]) == 2)
    wait_until(lambda: len([e for e in fleet.events() if e["event"] == "run_summary"]) >= 7)  # 2 x 3 + the direct one
    time.sleep(2)
    for name in TENANTS:
        assert duplicates(audit_ids(fleet.out / name)) == [], name
        assert duplicates(ticket_versions(fleet.out / name)) == [], name
        assert fleet.collected(name), name


def test_a_tenant_whose_token_is_refused_is_logged_critical_and_the_others_are_collected(
    deploy: Callable[..., Deployment],
) -> None:
    fleet = deploy(tokens={"globex": "a-revoked-token"})
    fleet.pubsub.publish({})
    refused = lambda: [e for e in fleet.events() if e["event"] == "run_refused"]  # noqa: E731
    wait_until(lambda: fleet.collected("acme") and fleet.collected("initech") and bool(refused()))
    time.sleep(2)
    assert [(event["tenant"], event["level"]) for event in refused()] == [("globex", "critical")]  # acknowledged: once
    assert "a-revoked-token" not in fleet.function.log.read_text()
    assert not audit_ids(fleet.out / "globex")
    assert fleet.sims["globex"].stats()["by_status"].get("401", 0) >= 1
