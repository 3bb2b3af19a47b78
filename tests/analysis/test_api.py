"""--from-api and `export request` against the bundled simulator over real HTTP, and client.post's 429 message."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from tests.conftest import CANARY_EMAIL, CANARY_TOKEN, make_settings
from tests.e2e.helpers import sim_config
from zdlogs.analysis.api_input import spooled_from_api
from zdlogs.analysis.engine import open_audit
from zdlogs.analysis.filters import build_filters
from zdlogs.cli import app
from zdlogs.errors import PermissionDenied, RequestRejected, ZendeskError
from zdlogs.simulator import FaultConfig, Simulator
from zdlogs.zendesk.client import ZendeskClient

runner = CliRunner()


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(sim_config(seed=11, audit_logs=600)).start() as simulator:
        yield simulator


def env(sim: Simulator) -> dict[str, str]:
    return {"ZENDESK_BASE_URL": sim.url, "ZENDESK_EMAIL": CANARY_EMAIL, "ZENDESK_API_TOKEN": CANARY_TOKEN}


def matching(sim: Simulator, since: str, action: str, source_type: str) -> list[int]:
    return sorted(
        record["id"]
        for record in sim.truth()["audit_logs"]
        if record["created_at"] >= since and record["action"] == action and record["source_type"] == source_type
    )


def middle_time(sim: Simulator) -> str:
    times = sorted(record["created_at"] for record in sim.truth()["audit_logs"])
    return times[len(times) // 2]


def test_export_csv_from_api_equals_the_matching_records(sim: Simulator, tmp_path: Path) -> None:
    since = middle_time(sim)
    expected = matching(sim, since, "update", "rule")
    assert len(expected) > 20
    target = tmp_path / "api.csv"
    args = ["export", "csv", "--from-api", "--all-columns", "-o", str(target), "--since", since,
            "--action", "updated", "--source-type", "rule"]  # fmt: skip
    result = runner.invoke(app, args, env=env(sim))
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(target.open(newline="")))
    assert sorted(int(row["id"]) for row in rows) == expected
    assert [row["created_at"] for row in rows] == sorted(row["created_at"] for row in rows)


class Recording(httpx.HTTPTransport):
    """Real HTTP, remembering each request URL: proves the filters were sent to Zendesk."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[httpx.URL] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.urls.append(request.url)
        return super().handle_request(request)


def test_filters_are_sent_as_filter_params(sim: Simulator) -> None:
    since = middle_time(sim)
    filters = build_filters(since=since, actions=["update"], source_types=["rule"])
    transport = Recording()
    settings = make_settings(sim.url)
    with ZendeskClient(settings, transport=transport) as client, spooled_from_api(settings, filters, client) as files:
        lines = files[0].read_bytes().count(b"\n")
        with open_audit(files, filters) as data:
            count = data.scalar("SELECT count(*) FROM {audit}")
    expected = matching(sim, since, "update", "rule")
    assert lines == count == len(expected)  # the server filtered: nothing was dropped locally
    first = transport.urls[0].params
    assert first.get_list("filter[created_at][]")[0] == since
    assert (first["filter[action]"], first["filter[source_type]"], first["sort"]) == ("update", "rule", "created_at")
    assert len(transport.urls) == -(-len(expected) // 100)


def test_report_from_api_with_actor_name(sim: Simulator) -> None:
    """A name cannot be sent to Zendesk: it is applied locally and the answer is the same."""
    truth = sim.truth()["audit_logs"]
    name = truth[0]["actor_name"]
    expected = sum(1 for record in truth if record["actor_name"] == name)
    result = runner.invoke(
        app, ["report", "activity", "--from-api", "--actor", name.upper(), "-f", "json"], env=env(sim)
    )
    assert result.exit_code == 0, result.output
    import json

    report = json.loads(result.stdout)
    assert report["summary"]["records"] == expected and report["rows"][0]["actor_name"] == name


def test_export_request_then_one_per_minute(sim: Simulator) -> None:
    first = runner.invoke(app, ["export", "request", "--since", "2026-01-01", "--action", "destroy"], env=env(sim))
    assert first.exit_code == 0, first.output
    assert "Zendesk accepted the export (HTTP 202): a CSV will be e-mailed to canary-admin@example.com" in first.stdout
    assert "filter[action]=destroy" in first.stdout
    second = runner.invoke(app, ["export", "request"], env=env(sim))
    assert second.exit_code == 1
    message = second.stderr.strip()
    assert message.count("\n") == 0 and "one audit-log export per minute per account" in message
    assert "Rate limit for Audit log CSV Export exceeded" in message
    wait = int(re.search(r"wait (\d+) s, then try again", message)[1])  # type: ignore[index]
    assert 1 <= wait <= 60


def test_export_request_wait_from_http_date_retry_after() -> None:
    config = sim_config(faults=FaultConfig(retry_after="http-date"))
    with Simulator(config).start() as simulator:
        assert runner.invoke(app, ["export", "request"], env=env(simulator)).exit_code == 0
        second = runner.invoke(app, ["export", "request"], env=env(simulator))
    wait = int(re.search(r"wait (\d+) s", second.stderr)[1])  # type: ignore[index]
    assert second.exit_code == 1 and 1 <= wait <= 61


@pytest.mark.parametrize(
    ("args", "environment", "message"),
    [
        (["export", "request"], {}, "ZENDESK_BASE_URL is not set"),
        (["export", "request", "--actor", "Mallory"], None, "Zendesk's export filters actors by id only"),
        (["export", "csv", "--from-api"], {}, "ZENDESK_BASE_URL is not set"),
    ],
)
def test_api_config_errors(sim: Simulator, args: list[str], environment: dict | None, message: str) -> None:
    result = runner.invoke(app, args, env=env(sim) if environment is None else environment)
    assert result.exit_code == 2 and message in result.stderr


def post_with(response: httpx.Response) -> httpx.Response:
    client = ZendeskClient(make_settings("https://acme.zendesk.com"), transport=httpx.MockTransport(lambda _: response))
    with client:
        return client.post("/api/v2/audit_logs/export", [("filter[action]", "update")])


def test_post_429_without_retry_after_uses_resets() -> None:
    headers = {"Zendesk-RateLimit-audit-logs-export": "total=1; remaining=0; resets=37"}
    with pytest.raises(RequestRejected, match=r"wait 37 s, then try again") as caught:
        post_with(httpx.Response(429, headers=headers, text="Rate limit exceeded"))
    assert "one audit-log export per minute" in str(caught.value)
    with pytest.raises(RequestRejected, match="wait a minute"):
        post_with(httpx.Response(429, text="slow down"))


def test_post_other_outcomes() -> None:
    assert post_with(httpx.Response(202)).status_code == 202
    with pytest.raises(PermissionDenied, match="HTTP 403"):
        post_with(httpx.Response(403, json={"error": "Forbidden"}))
    with pytest.raises(ZendeskError, match=r"HTTP 503\): try again later"):
        post_with(httpx.Response(503))
