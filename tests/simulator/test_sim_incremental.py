"""GET /api/v2/incremental/tickets/cursor: the stream, its end, and its hidden last minute."""

from __future__ import annotations

import base64

import httpx
import pytest

from tests.simulator._support import FakeClock, running
from zdlogs.simulator import SimConfig

PATH = "/api/v2/incremental/tickets/cursor.json"


def walk(client: httpx.Client, params: dict) -> tuple[list[dict], list[dict]]:
    """Follow after_url until end_of_stream; return (tickets, every page body minus tickets)."""
    response = client.get(PATH, params=params)
    tickets, pages = [], []
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        tickets.extend(body.pop("tickets"))
        pages.append(body)
        if body["end_of_stream"]:
            return tickets, pages
        response = client.get(body["after_url"])


def test_stream_ends_with_a_cursor_that_stays_put() -> None:
    config = SimConfig(seed=9, audit_logs=5, tickets=60, incremental_limit=100, clock=FakeClock())
    with running(config) as (sim, client):
        tickets, pages = walk(client, {"start_time": 0, "per_page": 7})
        visible = sim.truth()["ticket_versions"]
        assert sorted(t["id"] for t in tickets) == sorted(tid for tid, _ in visible)
        assert len(tickets) == len({t["id"] for t in tickets})
        keys = [(t["generated_timestamp"], t["id"]) for t in tickets]
        assert keys == sorted(keys)
        assert [p["end_of_stream"] for p in pages] == [False] * (len(pages) - 1) + [True]
        assert pages[0]["before_cursor"] is None and pages[0]["before_url"] is None
        last = pages[-1]
        assert last["after_cursor"] and "cursor=" in last["after_url"]  # present even at end_of_stream
        assert base64.b64decode(last["after_cursor"]).decode() == f"{keys[-1][0]}.0||{keys[-1][1]}|"
        again = client.get(last["after_url"]).json()
        assert again["tickets"] == []
        assert again["end_of_stream"] is True
        assert again["after_cursor"] == last["after_cursor"]  # an empty page does not move the cursor


def test_start_time_too_recent_and_in_future() -> None:
    clock = FakeClock()
    with running(SimConfig(audit_logs=5, tickets=5, clock=clock)) as (_, client):
        now = int(clock.now)
        recent = client.get(PATH, params={"start_time": now - 30})
        assert recent.status_code == 400
        assert recent.json() == {
            "error": "StartTimeTooRecent",
            "description": "Too recent start_time. Use a start_time older than 1 minute",
        }
        future = client.get(PATH, params={"start_time": now + 10})
        assert future.status_code == 400
        assert future.json()["error"] == "InvalidValue"
        assert client.get(PATH, params={"start_time": now - 61}).status_code == 200


@pytest.mark.parametrize("params", [{}, {"start_time": 0, "per_page": 1001}, {"cursor": "bm9wZQ=="}])
def test_bad_requests_are_400(params: dict) -> None:
    with running(SimConfig(audit_logs=5, tickets=5)) as (_, client):
        assert client.get(PATH, params=params).status_code == 400


def test_recent_minute_is_hidden_and_updated_ticket_reappears() -> None:
    clock = FakeClock()
    with running(SimConfig(seed=2, audit_logs=5, tickets=40, incremental_limit=100, clock=clock)) as (sim, client):
        _, pages = walk(client, {"start_time": 0})
        cursor = pages[-1]["after_cursor"]
        clock.advance(5)
        created = sim.create_tickets(2)
        updated = sim.update_tickets(3)
        assert len(updated) == 3
        hidden = client.get(PATH, params={"cursor": cursor}).json()
        assert hidden["tickets"] == [] and hidden["end_of_stream"] is True
        clock.advance(60)
        shown, _ = walk(client, {"cursor": cursor})
        changed = {t["id"]: t["updated_at"] for t in created + updated}
        assert {t["id"]: t["updated_at"] for t in shown} == changed
        versions = sim.truth()["ticket_versions"]
        for ticket in updated:
            assert sum(1 for tid, _ in versions if tid == ticket["id"]) >= 2  # old and new version


def test_deleted_tickets_are_in_the_stream_unless_excluded() -> None:
    clock = FakeClock()
    with running(SimConfig(seed=1, audit_logs=5, tickets=400, clock=clock)) as (_, client):
        everything, _ = walk(client, {"start_time": 0})
        kept, _ = walk(client, {"start_time": 0, "exclude_deleted": "true"})
        deleted = [t for t in everything if t["status"] == "deleted"]
        assert deleted
        assert len(kept) == len(everything) - len(deleted)
