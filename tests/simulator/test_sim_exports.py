"""Incremental exports beyond tickets: ticket events and organizations (time-based), users (cursor-based)."""

from __future__ import annotations

import base64

import httpx
import pytest

from tests.simulator._support import T0, FakeClock, running
from zdlogs.simulator import SimConfig, Simulator
from zdlogs.simulator._generate import ADMINS, AGENTS, parse_iso

EVENTS = "/api/v2/incremental/ticket_events"
USERS = "/api/v2/incremental/users/cursor"
ORGS = "/api/v2/incremental/organizations"
CURSOR_HEADER = "Zendesk-RateLimit-incremental-exports-cursor"
NOW = int(T0)


def time_walk(client: httpx.Client, path: str, params: dict) -> tuple[list[dict], list[int]]:
    """Follow next_page until end_of_stream, as a correct collector does; return (pages, start_times asked).

    A full page that does not advance (end_time == start_time) holds the whole of that second,
    so the walk moves on to the next second instead of asking for the same page forever.
    """
    response = client.get(path, params=params)
    pages, starts = [], [int(params["start_time"])]
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body)
        if body["end_of_stream"]:
            return pages, starts
        next_url = httpx.URL(body["next_page"])
        assert next_url.params["start_time"] == str(body["end_time"])
        if body["end_time"] == starts[-1]:
            next_url = next_url.copy_set_param("start_time", str(body["end_time"] + 1))
        starts.append(int(next_url.params["start_time"]))
        response = client.get(str(next_url))


def cursor_walk(client: httpx.Client, params: dict) -> tuple[list[dict], list[httpx.Response]]:
    """Follow after_url until end_of_stream; return (users, responses)."""
    response = client.get(USERS, params=params)
    users, responses = [], []
    while True:
        assert response.status_code == 200, response.text
        responses.append(response)
        body = response.json()
        users.extend(body["users"])
        if body["end_of_stream"]:
            return users, responses
        response = client.get(body["after_url"])


# ------------------------------------------------------------------ ticket events


def test_ticket_events_pages_repeat_their_boundary_second() -> None:
    config = SimConfig(seed=2, audit_logs=5, tickets=300, incremental_limit=1000, clock=FakeClock())
    with running(config) as (sim, client):
        pages, starts = time_walk(client, EVENTS, {"start_time": 0, "per_page": 9})
        truth = sim.truth()["ticket_events"]
        events = [e for page in pages for e in page["ticket_events"]]
        assert sorted({e["id"] for e in events}) == truth
        assert len(events) > len(truth)  # the duplicates a collector must drop
        for page, start, following, next_start in zip(pages, starts, pages[1:], starts[1:], strict=False):
            items = page["ticket_events"]
            assert page["count"] == len(items) >= 9
            assert page["end_time"] == items[-1]["timestamp"] and items[0]["timestamp"] >= start
            keys = [(e["timestamp"], e["id"]) for e in items]
            assert keys == sorted(keys)
            if next_start == page["end_time"]:  # next_page restarts at end_time, inclusive: that second repeats
                boundary = [e["id"] for e in items if e["timestamp"] == page["end_time"]]
                assert [e["id"] for e in following["ticket_events"][: len(boundary)]] == boundary
        skipped = [s for page, s in zip(pages, starts[1:], strict=False) if s != page["end_time"]]
        assert len(skipped) == 1  # the bulk-update second alone fills more than a page
        last = pages[-1]
        assert last["end_of_stream"] is True and last["count"] < 9
        assert last["next_page"].startswith(f"{sim.url}{EVENTS}?")  # never null, even at the end
        again = client.get(last["next_page"]).json()
        assert again["ticket_events"] == [e for e in last["ticket_events"] if e["timestamp"] == last["end_time"]]
        assert httpx.URL(last["next_page"]).params["per_page"] == "9"


def test_a_crowded_second_stretches_the_page_and_can_fill_it_alone() -> None:
    clock = FakeClock()
    config = SimConfig(audit_logs=5, tickets=0, incremental_limit=100, clock=clock)
    with running(config) as (sim, client):
        sim.create_tickets(3)
        clock.advance(5)
        sim.create_tickets(25)  # 25 events in one second
        clock.advance(5)
        sim.create_tickets(4)
        clock.advance(61)
        first = client.get(EVENTS, params={"start_time": NOW, "per_page": 10}).json()
        assert first["count"] == 28  # 3 + the whole crowded second, past per_page
        assert first["end_time"] == NOW + 5 and first["end_of_stream"] is False
        second = client.get(first["next_page"]).json()
        assert second["count"] == 25 and second["end_time"] == NOW + 5  # the same second again, alone
        assert second["ticket_events"] == first["ticket_events"][3:]
        assert second["end_of_stream"] is False
        rest = client.get(EVENTS, params={"start_time": NOW + 6, "per_page": 10}).json()
        assert rest["count"] == 4 and rest["end_of_stream"] is True
        empty = client.get(EVENTS, params={"start_time": NOW + 11, "per_page": 10}).json()
        assert empty == {
            "ticket_events": [],
            "next_page": f"{sim.url}{EVENTS}?per_page=10&start_time={NOW + 11}",
            "count": 0,
            "end_time": NOW + 11,
            "end_of_stream": True,
        }


def test_comment_events_sideload_puts_the_comment_in_child_events() -> None:
    clock = FakeClock()
    config = SimConfig(seed=6, audit_logs=5, tickets=0, incremental_limit=100, clock=clock)
    with running(config) as (sim, client):
        created = sim.create_tickets(6)
        clock.advance(1)
        updated = sim.update_tickets(6)
        clock.advance(61)
        plain = client.get(EVENTS, params={"start_time": NOW}).json()["ticket_events"]
        full = client.get(EVENTS, params={"start_time": NOW, "include": "comment_events"}).json()["ticket_events"]
        assert [e["id"] for e in plain] == [e["id"] for e in full] and len(plain) == 12
        creation = plain[0]
        assert creation["event_type"] == "Audit" and creation["ticket_id"] == created[0]["id"]
        assert set(creation) == {
            "id", "ticket_id", "timestamp", "created_at", "updater_id", "via", "system", "metadata", "event_type",
            "merged_ticket_ids", "child_events",
        }  # fmt: skip
        assert creation["created_at"] == "2026-01-01T00:00:10Z" and creation["timestamp"] == NOW
        assert {"event_type": "Create", "status": "new"}.items() <= creation["child_events"][1].items()
        children = [c for e in plain for c in e["child_events"]]
        assert len({c["id"] for c in children} | {e["id"] for e in plain}) == len(children) + len(plain)
        changes = [c for e in plain[6:] for c in e["child_events"] if c["event_type"] == "Change"]
        before = {t["id"]: t["status"] for t in created}
        after = {t["id"]: t["status"] for t in updated}
        for event in plain[6:]:
            status = next(c for c in event["child_events"] if "status" in c)
            assert status["event_type"] == "Change" and status["via_reference_id"] is None
            assert status["previous_value"] == before[event["ticket_id"]]
            assert status["status"] == after[event["ticket_id"]]
        assert changes and all("previous_value" in c for c in changes)
        commented = 0
        for stub_event, full_event in zip(plain, full, strict=True):
            stubs = [c for c in stub_event["child_events"] if c["event_type"] == "Comment"]
            comments = [c for c in full_event["child_events"] if c["event_type"] == "Comment"]
            assert [c["id"] for c in stubs] == [c["id"] for c in comments]
            for stub, comment in zip(stubs, comments, strict=True):
                commented += 1
                assert stub["comment_present"] is True and stub["comment_public"] == comment["public"]
                assert "body" not in stub
                assert comment["body"] and comment["html_body"].startswith("<div")
                assert comment["audit_id"] == full_event["id"] and comment["attachments"] == []
                assert comment["author_id"] == full_event["updater_id"]
            assert [c for c in stub_event["child_events"] if c["event_type"] != "Comment"] == [
                c for c in full_event["child_events"] if c["event_type"] != "Comment"
            ]
        assert 6 < commented < 12  # every creation carries its description, some updates comment


def test_ticket_events_hide_the_recent_minute_and_refuse_a_start_inside_it() -> None:
    clock = FakeClock()
    with running(SimConfig(audit_logs=5, tickets=20, incremental_limit=100, clock=clock)) as (sim, client):
        before = sim.truth()["ticket_events"]
        sim.create_tickets(2)
        sim.update_tickets(3)
        assert sim.truth()["ticket_events"] == before  # not visible yet
        hidden = client.get(EVENTS, params={"start_time": NOW - 61}).json()
        recent = client.get(EVENTS, params={"start_time": NOW - 30})
        assert recent.status_code == 400
        assert recent.json()["error"] == "StartTimeTooRecent"
        assert client.get(EVENTS, params={"start_time": NOW + 5}).json()["error"] == "InvalidValue"
        assert client.get(EVENTS).status_code == 400
        assert client.get(EVENTS, params={"start_time": 0, "per_page": 1001}).status_code == 400
        clock.advance(60)
        shown = client.get(f"{EVENTS}.json", params={"start_time": NOW}).json()
        new = [e["id"] for e in shown["ticket_events"]]
        assert len(new) == 5 and not {e["id"] for e in hidden["ticket_events"]} & set(new)
        assert sim.truth()["ticket_events"] == before + new


def test_ticket_events_count_against_the_incremental_limit() -> None:
    with running(SimConfig(audit_logs=5, tickets=5, incremental_limit=2, clock=FakeClock())) as (_, client):
        assert [client.get(EVENTS, params={"start_time": 0}).status_code for _ in range(3)] == [200, 200, 429]
        refused = client.get(ORGS, params={"start_time": 0})
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "50"
        assert refused.text == "Number of allowed incremental export API requests per minute exceeded"


# ------------------------------------------------------------------ users


def test_users_cursor_walk_ends_with_a_cursor_and_includes_the_staff() -> None:
    config = SimConfig(seed=3, audit_logs=5, tickets=5, users=90, incremental_limit=100, clock=FakeClock())
    with running(config) as (sim, client):
        users, responses = cursor_walk(client, {"start_time": 0, "per_page": 8})
        truth = sim.truth()["user_versions"]
        assert [[u["id"], u["updated_at"]] for u in users] == truth and len(users) == 90
        bodies = [r.json() for r in responses]
        assert [b["end_of_stream"] for b in bodies] == [False] * (len(bodies) - 1) + [True]
        assert bodies[0]["before_cursor"] is None and bodies[1]["before_cursor"] == bodies[0]["after_cursor"]
        last = bodies[-1]
        assert last["after_cursor"] and "cursor=" in last["after_url"]  # present even at end_of_stream
        assert base64.b64decode(last["after_cursor"]).decode() == f"{_epoch(users[-1])}.0||{users[-1]['id']}|"
        roles = {u["id"]: u["role"] for u in users}
        assert {p.id for p in ADMINS} <= {uid for uid, role in roles.items() if role == "admin"}
        assert {p.id for p in AGENTS} <= {uid for uid, role in roles.items() if role == "agent"}
        assert sum(role == "end-user" for role in roles.values()) == 90 - len(ADMINS) - len(AGENTS) - 1
        access_users = {r["user_id"] for r in sim.truth()["access_logs"]}
        assert access_users and access_users <= set(roles)  # ids line up across streams
        assert set(users[0]) == {
            "id", "url", "name", "email", "role", "role_type", "custom_role_id", "active", "suspended",
            "organization_id", "created_at", "updated_at", "last_login_at", "two_factor_auth_enabled", "tags",
        }  # fmt: skip


def _epoch(user: dict) -> int:
    return parse_iso(user["updated_at"])


def test_an_updated_user_moves_to_the_end_of_the_stream() -> None:
    clock = FakeClock()
    config = SimConfig(seed=5, audit_logs=5, tickets=5, users=40, incremental_limit=100, clock=clock)
    with running(config) as (sim, client):
        _, responses = cursor_walk(client, {"start_time": 0})
        cursor = responses[-1].json()["after_cursor"]
        clock.advance(5)
        updated = sim.update_users(3)
        created = sim.create_users(2)
        assert len(updated) == 3 and all(u["updated_at"] == "2026-01-01T00:00:15Z" for u in updated + created)
        assert ADMINS[0].id not in {u["id"] for u in updated}  # the owner is never demoted or suspended
        hidden = client.get(USERS, params={"cursor": cursor}).json()
        assert hidden["users"] == [] and hidden["end_of_stream"] is True
        clock.advance(60)
        shown, _ = cursor_walk(client, {"cursor": cursor})
        assert sorted(u["id"] for u in shown) == sorted(u["id"] for u in updated + created)
        versions = sim.truth()["user_versions"]
        for user in updated:
            assert [v for v in versions if v[0] == user["id"]][-1] == [user["id"], user["updated_at"]]
            assert sum(1 for v in versions if v[0] == user["id"]) == 2  # the old and the new version


def test_users_cursor_has_its_own_limit_and_header_on_top_of_the_incremental_one() -> None:
    clock = FakeClock()  # 10 s into a 60 s window
    config = SimConfig(audit_logs=5, tickets=5, users=30, incremental_limit=100, users_cursor_limit=2, clock=clock)
    with running(config) as (_, client):
        headers = [client.get(USERS, params={"start_time": 0}).headers[CURSOR_HEADER] for _ in range(2)]
        assert headers == ["total=2; remaining=1; resets=50", "total=2; remaining=0; resets=50"]
        refused = client.get(USERS, params={"start_time": 0})
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "50"
        assert refused.headers[CURSOR_HEADER] == "total=2; remaining=0; resets=50"
        tickets = client.get("/api/v2/incremental/tickets/cursor", params={"start_time": 0})
        assert tickets.status_code == 200 and CURSOR_HEADER not in tickets.headers
        clock.advance(50)
        assert client.get(f"{USERS}.json", params={"start_time": 0}).status_code == 200
    config = SimConfig(audit_logs=5, tickets=5, users=30, incremental_limit=1, clock=FakeClock())
    with running(config) as (_, client):
        assert client.get(USERS, params={"start_time": 0}).headers[CURSOR_HEADER].startswith("total=20; remaining=19")
        refused = client.get(USERS, params={"start_time": 0})  # the incremental family's limit comes first
        assert refused.status_code == 429
        assert refused.headers[CURSOR_HEADER] == "total=20; remaining=19; resets=50"  # not counted


@pytest.mark.parametrize("params", [{}, {"start_time": 0, "per_page": 1001}, {"cursor": "bm9wZQ=="}])
def test_users_cursor_bad_requests_are_400(params: dict) -> None:
    with running(SimConfig(audit_logs=5, tickets=5, clock=FakeClock())) as (_, client):
        assert client.get(USERS, params=params).status_code == 400


# ------------------------------------------------------------------ organizations


def test_organizations_time_walk_and_an_edit_moves_one_to_the_end() -> None:
    clock = FakeClock()
    config = SimConfig(seed=9, audit_logs=5, tickets=5, organizations=23, incremental_limit=100, clock=clock)
    with running(config) as (sim, client):
        pages, _ = time_walk(client, f"{ORGS}.json", {"start_time": 0, "per_page": 4})
        orgs = {o["id"]: o for page in pages for o in page["organizations"]}
        truth = sim.truth()["organization_versions"]
        assert sorted([i, o["updated_at"]] for i, o in orgs.items()) == sorted(truth)
        assert len(orgs) == 23 and min(orgs) == 360010000001
        assert sum(p["count"] for p in pages) > 23  # boundary seconds were sent twice
        assert orgs[360010000001]["name"] == "Globex Corporation"
        keys = [(o["updated_at"], o["id"]) for page in pages for o in page["organizations"]]
        assert keys == sorted(keys)
        assert set(orgs[360010000001]) == {
            "id", "url", "name", "domain_names", "group_id", "shared_tickets", "shared_comments", "external_id",
            "details", "notes", "tags", "organization_fields", "created_at", "updated_at", "deleted_at",
        }  # fmt: skip
        clock.advance(5)
        edited = sim.update_organizations(2)
        added = sim.create_organizations(1)
        assert added[0]["id"] == 360010000024
        hidden = client.get(ORGS, params={"start_time": NOW - 55}).json()["organizations"]
        assert not [o for o in hidden if o["updated_at"] == "2026-01-01T00:00:15Z"]  # the recent minute
        clock.advance(60)
        later = client.get(ORGS, params={"start_time": NOW}).json()
        assert [o["id"] for o in later["organizations"]] == sorted(o["id"] for o in edited + added)
        assert later["end_time"] == NOW + 5
        for org in edited:
            assert org != orgs[org["id"]] and org["updated_at"] == "2026-01-01T00:00:15Z"
        versions = sim.truth()["organization_versions"]
        assert len(versions) == 23 + 3


def test_append_control_covers_every_new_kind_and_truth_grows() -> None:
    clock = FakeClock()
    config = SimConfig(audit_logs=5, tickets=10, users=25, organizations=5, access_logs=5, clock=clock)
    with Simulator(config) as sim, httpx.Client(base_url=sim.url) as control:
        before = control.get("/_sim/truth").json()
        counts = {
            "users_created": 2,
            "users_updated": 3,
            "organizations_created": 1,
            "organizations_updated": 2,
            "tickets_created": 2,
            "tickets_updated": 1,
        }
        created = {name: n for name, n in counts.items() if name.endswith("_created")}
        updates = {name: n for name, n in counts.items() if name not in created}
        first = control.post("/_sim/append", json=created).json()
        clock.advance(61)  # creations become visible before any update can supersede them
        second = control.post("/_sim/append", json=updates).json()
        assert {name: len(first[name]) for name in created} == created
        assert {name: len(second[name]) for name in updates} == updates
        assert first["audit_logs"] == first["access_logs"] == first["users_updated"] == []
        assert control.post("/_sim/append", json={"users_created": 1, "organizations_updated": "x"}).status_code == 400
        clock.advance(61)
        after = control.get("/_sim/truth").json()
        assert len(after["user_versions"]) == len(before["user_versions"]) + 5  # the 400 added nothing
        assert len(after["organization_versions"]) == len(before["organization_versions"]) + 3
        assert len(after["ticket_events"]) == len(before["ticket_events"]) + 3
        assert after["ticket_events"] == sorted(after["ticket_events"])
        assert control.get("/_sim/summary").json() == {
            "audit_logs": 5,
            "access_logs": 5,
            "ticket_events": len(after["ticket_events"]),
            "tickets": 12,
            "users": 27,
            "organizations": 6,
        }
        for key in ("audit_logs", "ticket_versions"):
            assert key in after  # the older keys are still there
