"""--from-api (analysis/api_input.py) against the bundled simulator over real HTTP: the filters go to Zendesk as
``filter[...]`` parameters and what comes back is read exactly like collected data."""

from __future__ import annotations

import csv
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from tests.analysis.conftest import env
from tests.conftest import make_settings
from zdlogs.analysis.api_input import spooled_from_api
from zdlogs.analysis.engine import open_audit
from zdlogs.analysis.filters import build_filters
from zdlogs.cli import app
from zdlogs.simulator import Simulator
from zdlogs.zendesk.client import ZendeskClient

runner = CliRunner()


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


@pytest.mark.parametrize(
    ("args", "environment", "message"),
    [
        (["export", "csv", "--from-api"], {}, "ZENDESK_BASE_URL is not set"),
        (["report", "activity", "--from-api"], {}, "ZENDESK_BASE_URL is not set"),
    ],
)
def test_from_api_config_errors(sim: Simulator, args: list[str], environment: dict | None, message: str) -> None:
    result = runner.invoke(app, args, env=env(sim) if environment is None else environment)
    assert result.exit_code == 2 and message in result.stderr
