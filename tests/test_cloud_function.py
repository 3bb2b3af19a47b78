"""The Cloud Run function in-process: the Pub/Sub message, and what is retried (raised) or acknowledged (returned).

tests/e2e/test_cloud_function.py serves it under functions-framework and the Pub/Sub emulator.
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cloudevents.http import CloudEvent

from tests.e2e.helpers import audit_ids, collector_env, sim_config
from zdlogs import logs
from zdlogs.cloud_function import main, parse_message
from zdlogs.errors import ZdlogsError
from zdlogs.simulator import Simulator


def _event(message: object | None, event_id: str = "event-1") -> CloudEvent:
    data = base64.b64encode(json.dumps(message).encode()).decode() if message is not None else ""
    attributes = {"id": event_id, "source": "//pubsub.googleapis.com/t", "type": "pubsub.v1.messagePublished"}
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
