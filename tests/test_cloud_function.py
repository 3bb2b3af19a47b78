"""The Cloud Run function in-process: the Pub/Sub message, and what is retried (raised) or acknowledged (returned).

tests/e2e/test_cloud_function.py serves it under functions-framework and the Pub/Sub emulator.
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from cloudevents.http import CloudEvent

from tests.e2e.helpers import audit_ids, collector_env, sim_config
from zdlogs import fanout, logs
from zdlogs.cloud_function import main, parse_message
from zdlogs.errors import ZdlogsError
from zdlogs.simulator import Simulator


def _event(message: object | None, event_id: str = "event-1") -> CloudEvent:
    data = base64.b64encode(json.dumps(message).encode()).decode() if message is not None else ""
    source = "//pubsub.googleapis.com/projects/test/topics/zendesk-crm-trigger"
    attributes = {"id": event_id, "source": source, "type": "pubsub.v1.messagePublished"}
    return CloudEvent(attributes, {"message": {"data": data}})


@pytest.fixture(autouse=True)
def _logs_back_to_stderr() -> Iterator[None]:
    yield
    logs.configure("console", stream=sys.stderr)


@pytest.fixture
def function_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Simulator]:
    """The function's environment pointed at a simulator, the way deploy.sh sets it."""
    with Simulator(sim_config(audit_logs=60, tickets=6)).start() as sim:
        for name, value in collector_env(sim.url, tmp_path / "out").items():
            if name.isupper():
                monkeypatch.setenv(name, value)
        yield sim


def _events(err: str) -> list[dict]:
    return [json.loads(line) for line in err.splitlines() if line.startswith("{")]


def test_an_empty_message_means_the_defaults() -> None:
    assert parse_message({"message": {"data": ""}}).overrides() == {"resources": None, "since": None, "max_pages": None}
    assert parse_message(None).overrides()["resources"] is None


def test_message_options_become_overrides() -> None:
    data = base64.b64encode(b'{"resources": ["audit_logs"], "since": "2026-01-01", "max_pages": 5}').decode()
    overrides = parse_message({"message": {"data": data}}).overrides()
    assert overrides == {"resources": "audit_logs", "since": "2026-01-01", "max_pages": 5}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("not base64!", "not base64-encoded JSON"),
        (base64.b64encode(b"[1, 2]").decode(), "must be a JSON object"),
        (base64.b64encode(b'{"resource": "audit_logs"}').decode(), "field 'resource'"),
        (base64.b64encode(b'{"max_pages": 0}').decode(), "field 'max_pages'"),
    ],
)
def test_a_bad_message_is_refused_with_the_reason(data: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_message({"message": {"data": data}})


def test_a_trigger_collects_and_logs_the_summary(
    function_env: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(_event({"resources": ["audit_logs"]}))
    assert set(audit_ids(tmp_path / "out")) == {record["id"] for record in function_env.truth()["audit_logs"]}
    summary = [event for event in _events(capsys.readouterr().err) if event["event"] == "run_summary"]
    assert [stream["stream"] for stream in summary[0]["streams"]] == ["audit_logs"]
    assert summary[0]["event_id"] == "event-1"


def test_a_refused_message_is_acknowledged_without_running(
    function_env: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(_event({"resources": ["nope"]}))  # returns: a redelivery would be refused the same way
    assert not (tmp_path / "out").exists()
    assert [event["event"] for event in _events(capsys.readouterr().err)] == ["message_refused"]


def test_bad_settings_are_logged_critical_and_not_retried(
    function_env: Simulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ZDLOGS_MAX_RUNTIME", "-1")
    main(_event({}))
    refused = [event for event in _events(capsys.readouterr().err) if event["event"] == "run_refused"]
    assert refused[0]["level"] == "critical" and "ZDLOGS_MAX_RUNTIME (--max-runtime)" in refused[0]["error"]


def test_a_real_failure_raises_so_pub_sub_redelivers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Simulator(sim_config()) as gone:
        url = gone.url
    for name, value in collector_env(url, tmp_path / "out", HTTP_RETRIES="0").items():
        if name.isupper():
            monkeypatch.setenv(name, value)
    with pytest.raises(ZdlogsError, match="every stream failed"):
        main(_event({}))


# ------------------------------------------------------------------ a fleet: the fan-out and one tenant's message


def _fleet_file(tmp_path: Path, sim: Simulator) -> Path:
    secret = tmp_path / "acme.token"
    secret.write_text(sim.config.api_token)
    acme = {"base_url": sim.url, "email": sim.config.email, "api_token_file": str(secret)}
    defaults = {"output": str(tmp_path / "out"), "lookback_seconds": 40 * 86400, "settle_seconds": 1}
    path = tmp_path / "fleet.yaml"
    path.write_text(json.dumps({"defaults": {**defaults, "rate_share": 1.0}, "tenants": {"acme": acme}}))
    return path


@pytest.fixture
def fleet_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Simulator]:
    """ZDLOGS_CONFIG naming a fleet of one tenant, no account in the environment (as a fleet requires)."""
    config = sim_config(audit_logs=40, tickets=4, api_token="token-of-acme")  # not the canary: it is in a file
    with Simulator(config).start() as sim:
        monkeypatch.setenv("ZDLOGS_CONFIG", str(_fleet_file(tmp_path, sim)))
        yield sim


class _Recorder:
    """Stands in for the Publisher: what the fan-out would have published, and where."""

    published: ClassVar[list[tuple[str, list[dict]]]] = []

    def publish(self, topic: str, messages: list[dict]) -> list[str]:
        self.published.append((topic, messages))
        return [str(index) for index, _ in enumerate(messages)]

    def close(self) -> None:
        pass


def _data(message: object) -> dict:
    return {"message": {"data": base64.b64encode(json.dumps(message).encode()).decode()}}


def test_a_message_names_a_tenant_or_asks_for_the_fan_out() -> None:
    assert parse_message(_data({"tenant": "acme"})).tenant == "acme"
    assert parse_message(_data({"fan_out": True})).fan_out is True
    assert parse_message(_data({})).tenant is None and parse_message(_data({})).fan_out is None
    message = parse_message(_data({"tenant": "acme", "max_pages": 3}))
    assert message.overrides()["max_pages"] == 3 and message.carried() == {"max_pages": 3}
    with pytest.raises(ValueError, match="names a tenant or asks for the fan-out, not both"):
        parse_message(_data({"tenant": "acme", "fan_out": True}))
    with pytest.raises(ValueError, match="field 'tenant'"):
        parse_message(_data({"tenant": "../other"}))  # a tenant's name is a path segment


def test_a_tenant_or_fan_out_without_a_fleet_is_refused(
    function_env: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(_event({"tenant": "acme"}))
    main(_event({"fan_out": True}))
    refused = [event for event in _events(capsys.readouterr().err) if event["event"] == "message_refused"]
    assert len(refused) == 2 and all("set ZDLOGS_CONFIG to a config file with tenants:" in e["error"] for e in refused)
    assert not (tmp_path / "out").exists()


def test_a_tenants_message_collects_that_tenant_under_its_prefix(
    fleet_env: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    event = _event({"tenant": "acme", "resources": ["audit_logs"]})
    event.data["message"]["attributes"] = {"fan_out_of": "event-0"}
    main(event)
    assert set(audit_ids(tmp_path / "out" / "acme")) == {record["id"] for record in fleet_env.truth()["audit_logs"]}
    summary = next(event for event in _events(capsys.readouterr().err) if event["event"] == "run_summary")
    assert summary["tenant"] == "acme" and summary["fan_out_of"] == "event-0"
    assert [stream["stream"] for stream in summary["streams"]] == ["audit_logs"]  # the message's options applied


def test_an_unknown_tenant_is_refused_and_acknowledged(
    fleet_env: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(_event({"tenant": "globex"}))
    main(_event({"fan_out": False}))
    refused = [event for event in _events(capsys.readouterr().err) if event["event"] == "message_refused"]
    assert refused[0]["tenant"] == "globex" and "no tenant 'globex'" in refused[0]["error"]
    assert "use one of acme" in refused[0]["error"]
    assert "tenant" not in refused[1] and "names a tenant" in refused[1]["error"]
    assert not (tmp_path / "out").exists()


def test_the_fan_out_publishes_one_message_per_tenant_and_collects_nothing(
    fleet_env: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(fanout, "Publisher", _Recorder)
    _Recorder.published.clear()
    main(_event({}, event_id="event-7"))
    ((topic, messages),) = _Recorder.published
    assert topic == "projects/test/topics/zendesk-crm-trigger"  # the event's own source
    assert [json.loads(base64.b64decode(message["data"])) for message in messages] == [{"tenant": "acme"}]
    fan_out = [event for event in _events(capsys.readouterr().err) if event["event"] == "fan_out"]
    assert fan_out == [fan_out[0]] and fan_out[0]["tenants"] == ["acme"] and fan_out[0]["message_ids"] == 1
    assert not (tmp_path / "out").exists()
    assert fleet_env.stats()["requests"] == 0


def test_a_bad_fan_out_topic_is_critical_and_not_retried(
    fleet_env: Simulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ZDLOGS_FANOUT_TOPIC", "zendesk-crm-trigger")
    main(_event({}))
    refused = [event for event in _events(capsys.readouterr().err) if event["event"] == "fan_out_refused"]
    assert refused[0]["level"] == "critical" and "give projects/PROJECT/topics/TOPIC" in refused[0]["error"]
