"""The Cloud Run function served by functions-framework, triggered by CloudEvents and the Pub/Sub emulator."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.e2e.helpers import audit_ids, collector_env, duplicates, sim_config, ticket_versions
from tests.e2e.services import Function, pubsub_emulator
from tests.gcs_fixture import FakeGCS
from zdlogs.simulator import Simulator


@pytest.fixture
def function_with_sim(tmp_path: Path) -> Iterator[tuple[Function, Simulator, Path]]:
    with Simulator(sim_config(audit_logs=500, tickets=80)).start() as sim:
        output = tmp_path / "out"
        function = Function(collector_env(sim.url, output, MAX_PAGES="20"), tmp_path / "function.log")
        try:
            yield function, sim, output
        finally:
            function.stop()


def test_scheduler_message_runs_a_collection(function_with_sim: tuple[Function, Simulator, Path]) -> None:
    function, sim, output = function_with_sim
    assert function.trigger({}).status_code == 200
    assert set(audit_ids(output)) == {r["id"] for r in sim.truth()["audit_logs"]}
    assert ticket_versions(output)


def test_duplicate_deliveries_are_harmless(function_with_sim: tuple[Function, Simulator, Path]) -> None:
    function, sim, output = function_with_sim
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: function.trigger({}, event_id="same-event"), range(4)))
    assert [answer.status_code for answer in answers] == [200] * 4
    assert duplicates(audit_ids(output)) == [] and duplicates(ticket_versions(output)) == []
    assert set(audit_ids(output)) == {r["id"] for r in sim.truth()["audit_logs"]}


def test_message_options_are_applied_and_bad_ones_refused(function_with_sim: tuple[Function, Simulator, Path]) -> None:
    function, _sim, output = function_with_sim
    assert function.trigger({"resources": ["nope"]}).status_code == 200  # acknowledged, not retried forever
    assert function.trigger({"resource": "audit_logs"}).status_code == 200
    assert not output.exists() or not list(output.rglob("*.ndjson"))
    assert function.trigger({"resources": ["incremental_tickets"]}).status_code == 200
    assert ticket_versions(output) and not audit_ids(output)
    log = function.log.read_text()
    assert "message_refused" in log and "unknown resources" in log and "'resource'" in log


def test_a_real_failure_fails_the_execution(tmp_path: Path) -> None:
    with Simulator(sim_config(audit_logs=50, tickets=5)) as sim:
        url = sim.url
    function = Function(collector_env(url, tmp_path / "out", HTTP_RETRIES="0"), tmp_path / "f.log")
    try:
        assert function.trigger({}).status_code == 500  # Zendesk unreachable: Pub/Sub may redeliver
    finally:
        function.stop()
    assert "every stream failed" in (tmp_path / "f.log").read_text()


def test_pubsub_emulator_push_subscription_delivers_to_the_function(
    function_with_sim: tuple[Function, Simulator, Path], tmp_path: Path
) -> None:
    function, sim, output = function_with_sim
    with pubsub_emulator(tmp_path / "pubsub.log") as pubsub:
        pubsub.push_to(function)
        for _ in range(2):  # Scheduler may publish twice: both deliveries must be harmless
            pubsub.publish({})
        expected = {r["id"] for r in sim.truth()["audit_logs"]}
        deadline = time.monotonic() + 60
        while set(audit_ids(output)) != expected and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(2)
    assert set(audit_ids(output)) == expected
    assert duplicates(audit_ids(output)) == []


def gcs_env(sim: Simulator, gcs: FakeGCS, bucket: str, **extra: str) -> dict[str, str]:
    """The original guide's configuration: GCS_BUCKET (+ GCS_PREFIX default), no ZDLOGS_OUTPUT."""
    env = collector_env(sim.url, Path("unused"), **gcs.env, GCS_BUCKET=bucket, **extra)
    env.pop("ZDLOGS_OUTPUT")
    return env


def test_the_function_writes_the_secops_feed_to_gcs(tmp_path: Path, gcs_server: FakeGCS) -> None:
    bucket = gcs_server.create_bucket()
    with Simulator(sim_config(audit_logs=300, tickets=40)).start() as sim:
        function = Function(gcs_env(sim, gcs_server, bucket), tmp_path / "function.log")
        try:
            assert function.trigger({}).status_code == 200
            assert function.trigger({}).status_code == 200  # the next hour: nothing new, nothing rewritten
        finally:
            function.stop()
        names = gcs_server.names(bucket)
    data = [name for name in names if name.startswith("zendesk/crm/")]
    assert data and all(name.endswith(".ndjson") for name in data)  # nothing but data in the feed prefix
    assert "_zdlogs/state.json" in names
    lines = [line for name in data for line in (gcs_server.read(bucket, name) or b"").splitlines()]
    assert len(lines) == 300 + 40


def test_the_guides_state_key_inside_the_feed_prefix_is_refused(tmp_path: Path, gcs_server: FakeGCS) -> None:
    bucket = gcs_server.create_bucket()
    with Simulator(sim_config(audit_logs=20, tickets=2)).start() as sim:
        env = gcs_env(sim, gcs_server, bucket, STATE_KEY="zendesk/crm/state.json")
        function = Function(env, tmp_path / "function.log")
        try:
            assert function.trigger({}).status_code == 200  # acknowledged: a redelivery cannot fix settings
        finally:
            function.stop()
    log = (tmp_path / "function.log").read_text()
    assert "inside the data prefix" in log and "STATE_KEY=_zdlogs/state.json" in log
    assert gcs_server.names(bucket) == []
