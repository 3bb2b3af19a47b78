"""GET /api/v2/audit_logs: cursor and offset pagination, filters, show, export."""

from __future__ import annotations

import base64

import httpx
import orjson
import pytest

from tests.simulator._support import FakeClock, running
from zdlogs.simulator import SimConfig


def walk(client: httpx.Client, params: dict | list) -> tuple[list[dict], list[dict]]:
    """Follow links.next while has_more; return (records, every meta seen)."""
    response = client.get("/api/v2/audit_logs", params=params)
    records, metas = [], []
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        records.extend(body["audit_logs"])
        metas.append({**body["meta"], "next": body["links"]["next"]})
        if not body["meta"]["has_more"]:
            return records, metas
        response = client.get(body["links"]["next"])


@pytest.fixture(scope="module")
def sim_client():
    with running(SimConfig(seed=3, audit_logs=1200, tickets=5, clock=FakeClock())) as pair:
        yield pair


def test_ascending_filtered_walk_returns_each_window_record_once(sim_client) -> None:
    sim, client = sim_client
    truth = sim.truth()["audit_logs"]
    start, end = truth[200]["created_at"], truth[900]["created_at"]
    wanted = [
        r for r in truth if start <= r["created_at"] <= end and r["action"] in ("update", "login")
    ]  # both bounds inclusive
    params = [
        ("page[size]", "50"),
        ("sort", "created_at"),
        ("filter[created_at][]", start),
        ("filter[created_at][]", end),
        ("filter[action][]", "update"),
        ("filter[action][]", "login"),
    ]
    records, metas = walk(client, params)
    assert [r["id"] for r in records] == [r["id"] for r in wanted]
    assert len(metas) == -(-len(wanted) // 50)
    last = metas[-1]
    assert last["has_more"] is False
    assert last["after_cursor"] is not None  # Zendesk quirk: stop on has_more, not on a null cursor
    assert last["next"] is not None
    beyond = client.get(last["next"]).json()
    assert beyond["audit_logs"] == []
    assert beyond["meta"] == {"has_more": False, "after_cursor": None, "before_cursor": None}
    assert beyond["links"] == {"next": None, "prev": None}


def test_cursor_links_repeat_every_query_parameter(sim_client) -> None:
    _, client = sim_client
    params = {"page[size]": 7, "sort": "created_at", "filter[source_type]": "rule"}
    body = client.get("/api/v2/audit_logs.json", params=params).json()
    next_url = httpx.URL(body["links"]["next"])
    assert next_url.path == "/api/v2/audit_logs.json"
    assert dict(next_url.params) == {
        "page[size]": "7",
        "sort": "created_at",
        "filter[source_type]": "rule",
        "page[after]": body["meta"]["after_cursor"],
    }
    second = client.get(body["links"]["next"]).json()
    back = client.get(second["links"]["prev"]).json()
    assert [r["id"] for r in back["audit_logs"]] == [r["id"] for r in body["audit_logs"]]
    cursor = orjson.loads(base64.b64decode(body["meta"]["after_cursor"]))
    assert cursor["o"] == "created_at,id"


def test_default_order_is_newest_first(sim_client) -> None:
    sim, client = sim_client
    truth = sim.truth()["audit_logs"]
    body = client.get("/api/v2/audit_logs", params={"page[size]": 100}).json()
    assert [r["id"] for r in body["audit_logs"]] == [r["id"] for r in reversed(truth[-100:])]
    offset = client.get("/api/v2/audit_logs").json()
    assert offset["audit_logs"][0]["id"] == truth[-1]["id"]


def test_page_size_over_100_is_rejected_not_clamped(sim_client) -> None:
    _, client = sim_client
    response = client.get("/api/v2/audit_logs", params={"page[size]": 101})
    assert response.status_code == 400
    assert response.json() == {
        "error": "InvalidPaginationParameter",
        "description": "page[size] cannot be greater than 100",
    }


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"page[after]": "not-a-cursor"}, "InvalidPaginationParameter"),
        ([("filter[created_at][]", "2026-01-01T00:00:00Z")], "InvalidValue"),
        ([("filter[created_at][]", "yesterday"), ("filter[created_at][]", "2026-01-01T00:00:00Z")], "InvalidValue"),
        ({"filter[source_id]": "5"}, "InvalidValue"),
        ({"page[size]": 10, "sort": "id"}, "InvalidValue"),
    ],
)
def test_bad_requests_are_400(sim_client, params, error) -> None:
    _, client = sim_client
    response = client.get("/api/v2/audit_logs", params=params)
    assert response.status_code == 400
    assert response.json()["error"] == error


def test_cursor_from_another_sort_order_is_refused(sim_client) -> None:
    _, client = sim_client
    ascending = client.get("/api/v2/audit_logs", params={"page[size]": 5, "sort": "created_at"}).json()
    response = client.get("/api/v2/audit_logs", params={"page[after]": ascending["meta"]["after_cursor"]})
    assert response.status_code == 400


def test_created_at_filter_without_brackets_and_other_filters(sim_client) -> None:
    sim, client = sim_client
    truth = sim.truth()["audit_logs"]
    start, end = truth[10]["created_at"], truth[600]["created_at"]
    system = [r for r in truth if start <= r["created_at"] <= end and r["actor_id"] == -1]
    params = [("filter[created_at]", start), ("filter[created_at]", end), ("filter[actor_id]", "-1")]
    records, _ = walk(client, [*params, ("page[size]", "100"), ("sort", "created_at")])
    assert records == system and system
    assert all(r["ip_address"] is None for r in records)
    target = next(r for r in truth if r["source_type"] == "user")
    by_source = [("filter[source_type]", "user"), ("filter[source_id]", str(target["source_id"]))]
    found, _ = walk(client, [*by_source, ("page[size]", "100")])
    assert target["id"] in {r["id"] for r in found}
    assert {r["source_id"] for r in found} == {target["source_id"]}


def test_offset_pagination_counts_links_and_shifts_when_records_arrive() -> None:
    with running(SimConfig(seed=5, audit_logs=250, tickets=5, clock=FakeClock())) as (sim, client):
        first = client.get("/api/v2/audit_logs.json", params={"per_page": 100}).json()
        assert first["count"] == 250
        assert first["previous_page"] is None
        assert httpx.URL(first["next_page"]).params["page"] == "2"
        third = client.get(first["next_page"].replace("page=2", "page=3")).json()
        assert len(third["audit_logs"]) == 50 and third["next_page"] is None
        sim.append_audit_logs(5)
        second = client.get(first["next_page"]).json()
        # newest-first offset pages shift: page 2 now starts with the last 5 of the old page 1
        assert [r["id"] for r in second["audit_logs"][:5]] == [r["id"] for r in first["audit_logs"][-5:]]
        ascending = client.get("/api/v2/audit_logs", params={"sort_order": "asc", "per_page": 3}).json()
        assert [r["id"] for r in ascending["audit_logs"]] == [r["id"] for r in sim.truth()["audit_logs"][:3]]


def test_show_and_not_found(sim_client) -> None:
    sim, client = sim_client
    record = sim.truth()["audit_logs"][42]
    assert client.get(f"/api/v2/audit_logs/{record['id']}.json").json() == {"audit_log": record}
    assert client.get(f"/api/v2/audit_logs/{record['id']}").status_code == 200
    missing = client.get("/api/v2/audit_logs/1.json")
    assert missing.status_code == 404
    assert missing.json() == {"error": "RecordNotFound", "description": "Not found"}


def test_export_accepts_one_request_per_minute() -> None:
    clock = FakeClock()
    with running(SimConfig(audit_logs=5, tickets=5, clock=clock)) as (_, client):
        accepted = client.post("/api/v2/audit_logs/export", params={"filter[action]": "login"})
        assert accepted.status_code == 202
        assert accepted.content == b""
        clock.advance(20)
        refused = client.post("/api/v2/audit_logs/export")
        assert refused.status_code == 429
        assert refused.headers["content-type"].startswith("text/plain")
        assert refused.text == "Rate limit for Audit log CSV Export exceeded. Please wait 1 minute and try again."
        assert refused.headers["Retry-After"] == "40"
        assert refused.headers["Zendesk-RateLimit-audit-logs-export"] == "total=1; remaining=0; resets=40"
        clock.advance(40)
        assert client.post("/api/v2/audit_logs/export").status_code == 202


def test_link_base_url_is_used_in_every_link_and_record_url() -> None:
    config = SimConfig(audit_logs=30, tickets=5, link_base_url="https://evil.example/", recent_exclusion_seconds=0)
    with running(config) as (_, client):
        cursor = client.get("/api/v2/audit_logs", params={"page[size]": 5}).json()
        assert cursor["links"]["next"].startswith("https://evil.example/api/v2/audit_logs?")
        assert cursor["audit_logs"][0]["url"].startswith("https://evil.example/api/v2/audit_logs/")
        offset = client.get("/api/v2/audit_logs", params={"per_page": 5}).json()
        assert offset["next_page"].startswith("https://evil.example/")
        tickets = client.get("/api/v2/incremental/tickets/cursor", params={"start_time": 0}).json()
        assert tickets["after_url"].startswith("https://evil.example/api/v2/incremental/tickets/cursor?")
