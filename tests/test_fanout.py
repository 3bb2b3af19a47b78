"""The fan-out's parts: the topic (from the event's source or the setting), the emulator's URL, each tenant's
message, and the Publisher over ``httpx.MockTransport`` (batches of 1,000, a token, retries, the fixes named);
the whole fan-out through the Pub/Sub emulator is tests/e2e/test_cloud_function_fleet.py."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import httpx
import pytest

from zdlogs.errors import ConfigError, ZdlogsError
from zdlogs.fanout import Publisher, choose_topic, publish_url, tenant_messages, topic_of_source


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
