"""The Cloud Run function in-process: the Pub/Sub message, and what is retried (raised) or acknowledged (returned).

tests/e2e/test_cloud_function.py serves it under functions-framework and the Pub/Sub emulator.
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
from cloudevents.http import CloudEvent

from tests.e2e.helpers import audit_ids, collector_env, sim_config
from zdlogs import cloud_function, logs
from zdlogs.cloud_function import main, parse_message
from zdlogs.errors import ConfigError, ZdlogsError
from zdlogs.fanout import Publisher, choose_topic, publish_url, tenant_messages, topic_of_source
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


def test_the_topic_comes_from_the_events_source_or_the_setting() -> None:
    assert topic_of_source("//pubsub.googleapis.com/projects/my-project/topics/zendesk-crm-trigger") == (
        "projects/my-project/topics/zendesk-crm-trigger"
    )
    assert topic_of_source("//storage.googleapis.com/projects/_/buckets/b") is None
    assert topic_of_source("//pubsub.googleapis.com/t") is None  # not a topic's name
    source = "//pubsub.googleapis.com/projects/p1/topics/from-event"
    assert choose_topic("", source) == "projects/p1/topics/from-event"
    assert choose_topic("projects/p2/topics/configured", source) == "projects/p2/topics/configured"  # the setting wins
    with pytest.raises(ConfigError, match="set ZDLOGS_FANOUT_TOPIC=projects/PROJECT/topics/TOPIC"):
        choose_topic("", "//example.com/scheduler")
    with pytest.raises(ConfigError, match="ZDLOGS_FANOUT_TOPIC: 'zendesk-crm-trigger' is not a topic"):
        choose_topic("zendesk-crm-trigger", source)


def test_the_emulator_is_reached_without_google() -> None:
    assert publish_url("projects/p/topics/t", {}) == "https://pubsub.googleapis.com/v1/projects/p/topics/t:publish"
    emulated = publish_url("projects/p/topics/t", {"PUBSUB_EMULATOR_HOST": "127.0.0.1:8085"})
    assert emulated == "http://127.0.0.1:8085/v1/projects/p/topics/t:publish"


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


def test_each_tenants_message_carries_the_options_and_the_fan_out_it_came_from() -> None:
    messages = tenant_messages(["acme", "globex"], {"resources": ["audit_logs"], "since": None}, "event-9")
    decoded = [json.loads(base64.b64decode(message["data"])) for message in messages]
    assert decoded == [
        {"tenant": "acme", "resources": ["audit_logs"]},
        {"tenant": "globex", "resources": ["audit_logs"]},
    ]
    assert all(message["attributes"] == {"fan_out_of": "event-9"} for message in messages)


class _Credentials:
    """google-auth's interface as the Publisher uses it: ``valid``, ``token``, ``refresh``."""

    def __init__(self) -> None:
        self.token: str | None = None
        self.refreshed = 0

    @property
    def valid(self) -> bool:
        return self.token is not None

    def refresh(self, request: object) -> None:
        self.refreshed += 1
        self.token = f"ya29.test-token-{self.refreshed}"


def _publisher(answer: Callable[[httpx.Request], httpx.Response], environ: dict[str, str]) -> Publisher:
    http = httpx.Client(transport=httpx.MockTransport(answer))
    return Publisher(http=http, credentials=_Credentials(), environ=environ, sleep=lambda _: None)


def test_the_publisher_sends_a_thousand_messages_a_request_with_a_token() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        count = len(json.loads(request.content)["messages"])
        return httpx.Response(200, json={"messageIds": [str(len(seen) * 10_000 + i) for i in range(count)]})

    ids = _publisher(answer, {}).publish(
        "projects/p/topics/t", tenant_messages([f"t{i}" for i in range(2_500)], {}, "e")
    )
    assert [len(json.loads(request.content)["messages"]) for request in seen] == [1_000, 1_000, 500]
    assert len(ids) == len(set(ids)) == 2_500
    assert {str(request.url) for request in seen} == {"https://pubsub.googleapis.com/v1/projects/p/topics/t:publish"}
    assert {request.headers["authorization"] for request in seen} == {"Bearer ya29.test-token-1"}  # refreshed once


def test_the_publisher_retries_429_and_5xx_and_names_the_fix_for_a_missing_topic() -> None:
    answers = iter([httpx.Response(503), httpx.Response(429), httpx.Response(200, json={"messageIds": ["1"]})])
    emulator = {"PUBSUB_EMULATOR_HOST": "127.0.0.1:1"}
    publisher = _publisher(lambda request: next(answers), emulator)
    assert publisher.publish("projects/p/topics/t", tenant_messages(["acme"], {}, "e")) == ["1"]
    missing = _publisher(lambda request: httpx.Response(404, json={"error": {"message": "Resource not found"}}), {})
    with pytest.raises(ConfigError, match=r"no topic projects/p/topics/t .*create it, or set ZDLOGS_FANOUT_TOPIC"):
        missing.publish("projects/p/topics/t", tenant_messages(["acme"], {}, "e"))
    denied = _publisher(lambda request: httpx.Response(403, json={"error": {"message": "denied"}}), {})
    with pytest.raises(ConfigError, match=r"grant its service account roles/pubsub\.publisher"):
        denied.publish("projects/p/topics/t", tenant_messages(["acme"], {}, "e"))
    down = _publisher(lambda request: httpx.Response(500), {})
    with pytest.raises(ZdlogsError, match="Pub/Sub redelivers it"):
        down.publish("projects/p/topics/t", tenant_messages(["acme"], {}, "e"))


def test_the_emulator_gets_no_token() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"messageIds": ["1"]})

    _publisher(answer, {"PUBSUB_EMULATOR_HOST": "127.0.0.1:8085"}).publish("projects/p/topics/t", [{"data": ""}])
    assert "authorization" not in seen[0].headers and seen[0].url.scheme == "http"


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
    monkeypatch.setattr(cloud_function, "Publisher", _Recorder)
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
