"""GET /api/v2/access_logs: JSON:API paging and errors, retention, its own rate limit, the add-on gate."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.simulator._support import T0, FakeClock, running
from zdlogs.simulator import FaultConfig, SimConfig, Simulator

PATH = "/api/v2/access_logs"
BASE = "https://acme.zendesk.com"
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RATE_HEADERS = ("x-rate-limit", "x-rate-limit-remaining", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset")


def local(sim: Simulator, url: str) -> str:
    """A link on the configured link base, pointed back at the simulator's socket."""
    assert url.startswith(f"{BASE}{PATH}?"), url
    return sim.url + url.removeprefix(BASE)


def walk(sim: Simulator, client: httpx.Client, params: dict | list) -> tuple[list[dict], list[dict]]:
    """Follow links.next while meta.has_more; return (records, every body with its records' count instead)."""
    response = client.get(PATH, params=params)
    records, pages = [], []
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        page = body.pop("access_logs")
        records.extend(page)
        pages.append({**body, "size": len(page)})
        if not body["meta"]["has_more"]:
            return records, pages
        response = client.get(local(sim, body["links"]["next"]))


def ulid_ms(ulid: str) -> int:
    value = 0
    for char in ulid[:10]:
        value = value * 32 + CROCKFORD.index(char)
    return value


def epoch(stamp: str) -> int:
    return int(datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())


@pytest.fixture(scope="module")
def sim_client():
    config = SimConfig(seed=4, access_logs=6000, audit_logs=5, tickets=5, link_base_url=BASE, clock=FakeClock())
    with running(config) as pair:
        yield pair


def test_walk_at_the_largest_page_size_returns_every_record_once_in_order(sim_client) -> None:
    sim, client = sim_client
    truth = sim.truth()["access_logs"]
    assert len(truth) == 6000
    records, pages = walk(sim, client, {"page[size]": 2500})
    assert [p["size"] for p in pages] == [2500, 2500, 1000]
    assert records == truth
    keys = [(r["timestamp"], r["id"]) for r in records]
    assert keys == sorted(keys) and [r["id"] for r in records] == sorted(r["id"] for r in records)
    assert max(Counter(r["timestamp"] for r in records).values()) >= 3  # several records share a second
    for record in records[:200]:
        assert len(record["id"]) == 26 and set(record["id"]) <= set(CROCKFORD)
        assert ulid_ms(record["id"]) // 1000 == epoch(record["timestamp"])  # the id encodes the millisecond
    assert set(records[0]) == {
        "authorization_type", "bytes_sent", "category", "client", "graphql", "id", "ip_address", "method",
        "referer", "status", "summary", "timestamp", "url", "user_id",
    }  # fmt: skip
    assert {r["authorization_type"] for r in records} == {"session", "basic", "bearer"}
    assert all(r["graphql"] is None and r["url"].startswith("/api/v2/") for r in records)
    last = pages[-1]
    assert last["meta"]["has_more"] is False
    assert last["meta"]["after_cursor"] is not None  # set on the last page too: stop on has_more
    beyond = client.get(local(sim, last["links"]["next"])).json()
    assert beyond == {
        "access_logs": [],
        "links": {"next": None, "prev": None},
        "meta": {"after_cursor": None, "before_cursor": None, "has_before": False, "has_more": False},
    }


def test_links_are_absolute_on_the_link_base_and_repeat_the_query(sim_client) -> None:
    sim, client = sim_client
    params = {"page[size]": 40, "filter[user_id]": "381204556701", "sort": "-created_at"}
    first = client.get(PATH, params=params).json()
    assert first["meta"]["has_before"] is False and first["links"]["prev"] is None
    next_url = httpx.URL(first["links"]["next"])
    assert str(next_url).startswith(f"{BASE}{PATH}?")
    assert dict(next_url.params) == {
        **{k: str(v) for k, v in params.items()},
        "page[after]": first["meta"]["after_cursor"],
    }
    second = client.get(local(sim, first["links"]["next"])).json()
    assert second["meta"]["has_before"] is True
    back = client.get(local(sim, second["links"]["prev"])).json()
    assert [r["id"] for r in back["access_logs"]] == [r["id"] for r in first["access_logs"]]
    synonym = client.get(PATH, params={**params, "filter[after]": first["meta"]["after_cursor"]}).json()
    assert synonym["access_logs"] == second["access_logs"]  # the reference's filter[after] works too


def test_default_page_size_filters_and_descending_sort(sim_client) -> None:
    sim, client = sim_client
    truth = sim.truth()["access_logs"]
    assert len(client.get(PATH).json()["access_logs"]) == 1000
    start, end = truth[1000]["timestamp"], truth[3000]["timestamp"]
    user = truth[1500]["user_id"]
    wanted = [r for r in truth if start <= r["timestamp"] <= end and r["user_id"] == user]  # both bounds inclusive
    assert wanted and wanted[0]["timestamp"] >= start
    params = {"filter[start]": start, "filter[end]": end, "filter[user_id]": user, "page[size]": 25}
    ascending, _ = walk(sim, client, params)
    assert ascending == wanted
    descending, _ = walk(sim, client, {**params, "sort": "-created_at"})
    assert descending == wanted[::-1]
    window, _ = walk(sim, client, {"filter[start]": start, "filter[end]": start, "page[size]": 2500})
    assert window == [r for r in truth if r["timestamp"] == start]
    path = "/api/v2/users"  # listed with and without query strings
    by_path, _ = walk(sim, client, {"filter[path]": path, "page[size]": 2500})
    assert by_path == [r for r in truth if r["url"].split("?")[0] == path]
    assert len({r["url"] for r in by_path}) > 1


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"page[size]": 2501}, "max allowed page size is 2500"),
        ({"page[size]": 0}, "page[size] must be greater than 0"),
        ({"page[size]": "ten"}, "page[size] must be an integer"),
        ({"filter[start]": "2026-01-01"}, "filter[start] must be a UTC time formatted as YYYY-MM-DDTHH:MM:SSZ"),
        (
            {"filter[end]": "2026-01-01T00:00:00+01:00"},
            "filter[end] must be a UTC time formatted as YYYY-MM-DDTHH:MM:SSZ",
        ),
        ({"filter[start]": "2026-13-01T00:00:00Z"}, "filter[start] is not a valid time"),
        ({"page[after]": "bm9wZQ"}, "page[after] is not a valid cursor"),
        ({"sort": "id"}, "sort must be created_at or -created_at"),
        ({"filter[user_id]": "me"}, "filter[user_id] must be an integer"),
    ],
)
def test_bad_parameters_are_jsonapi_400s(sim_client, params: dict, detail: str) -> None:
    _, client = sim_client
    response = client.get(PATH, params=params)
    assert response.status_code == 400
    assert response.json() == {"errors": [{"detail": detail, "title": "Malformed query params"}]}


def test_cursor_of_the_other_sort_order_is_refused(sim_client) -> None:
    _, client = sim_client
    ascending = client.get(PATH, params={"page[size]": 5}).json()
    response = client.get(PATH, params={"page[after]": ascending["meta"]["after_cursor"], "sort": "-created_at"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["title"] == "Malformed query params"


def test_only_the_last_90_days_are_returned() -> None:
    clock = FakeClock()
    config = SimConfig(seed=8, access_logs=3000, audit_logs=5, tickets=5, history_days=150, clock=clock)
    with running(config) as (sim, client):
        kept = sim.truth()["access_logs"]
        oldest = T0 - 90 * 86400
        assert 1000 < len(kept) < 3000  # some of the 150 days of history are past retention
        assert all(epoch(r["timestamp"]) >= oldest for r in kept)
        records, _ = walk(sim, client, {"page[size]": 2500})
        assert records == kept
        early = client.get(PATH, params={"filter[end]": kept[0]["timestamp"], "page[size]": 2500}).json()
        assert early["access_logs"] == [r for r in kept if r["timestamp"] == kept[0]["timestamp"]]
        moment = datetime.fromtimestamp(T0, UTC)
        too_old = sim.append_access_logs(2, moment - timedelta(days=91))
        late = sim.append_access_logs(2, moment - timedelta(days=89))
        ids = {r["id"] for r in walk(sim, client, {"page[size]": 2500})[0]}
        assert {r["id"] for r in late} <= ids and not {r["id"] for r in too_old} & ids
        clock.advance(30 * 86400)  # a month later, another month of history has expired
        assert len(walk(sim, client, {"page[size]": 2500})[0]) < len(ids)


def test_own_limit_outside_the_account_budget_and_a_date_time_reset() -> None:
    clock = FakeClock()  # 10 s into a 60 s window
    config = SimConfig(audit_logs=5, tickets=5, access_logs=20, access_logs_limit=3, account_limit=2, clock=clock)
    with running(config) as (sim, client):
        for _ in range(3):
            allowed = client.get(PATH, params={"page[size]": 5})
            assert allowed.status_code == 200
            assert not [h for h in RATE_HEADERS if h in allowed.headers]
        assert client.get("/api/v2/audit_logs").status_code == 200  # the account budget is untouched
        assert client.get("/api/v2/audit_logs").status_code == 200
        assert client.get("/api/v2/audit_logs").status_code == 429  # ...and real
        refused = client.get(PATH)
        assert refused.status_code == 429
        assert refused.json() == {
            "errors": [{"detail": "Use RateLimit-Reset header to backoff on retries", "title": "Too many requests"}]
        }
        assert refused.headers["ratelimit-reset"] == "2026-01-01T00:01:00Z"  # when the window ends
        assert "retry-after" not in refused.headers
        assert not [h for h in RATE_HEADERS[:4] if h in refused.headers]
        assert sim.stats()["rate_limited"] == 2
        clock.advance(50)
        assert client.get(PATH).status_code == 200


def test_injected_rate_limit_looks_like_the_access_logs_own() -> None:
    faults = FaultConfig(rate_limit_rate=1.0, retry_after_seconds=30)
    with running(SimConfig(audit_logs=5, tickets=5, access_logs=5, faults=faults, clock=FakeClock())) as (_, client):
        refused = client.get(PATH)
        assert refused.status_code == 429
        assert refused.json()["errors"][0]["title"] == "Too many requests"
        assert refused.headers["ratelimit-reset"] == "2026-01-01T00:00:40Z"
        assert "retry-after" not in refused.headers


def test_without_the_addon_403_and_other_errors_are_jsonapi() -> None:
    config = SimConfig(audit_logs=5, tickets=5, access_logs=5, access_logs_addon=False, clock=FakeClock())
    with running(config) as (sim, client):
        forbidden = client.get(PATH)
        assert forbidden.status_code == 403
        assert forbidden.json() == {
            "errors": [
                {
                    "detail": "Access logs require the Advanced Data Privacy and Protection add-on",
                    "title": "Authorization failed",
                }
            ]
        }
        unauthenticated = httpx.get(f"{sim.url}{PATH}.json", auth=("nobody@example.com/token", "wrong"))
        assert unauthenticated.status_code == 401
        assert unauthenticated.json() == {
            "errors": [{"detail": "Please use valid credentials", "title": "Authentication failed"}]
        }
        assert "x-rate-limit" not in unauthenticated.headers
        missing = client.get(f"{PATH}/01H6PWD1WQFC6EYJCJWFJ59EVE")
        assert missing.status_code == 404
        assert missing.json()["errors"][0]["title"] == "Not found"


def test_append_over_control_and_truth() -> None:
    clock = FakeClock()
    with running(SimConfig(audit_logs=5, tickets=5, access_logs=50, clock=clock)) as (sim, client):
        control = httpx.Client(base_url=sim.url)
        added = control.post("/_sim/append", json={"access_logs": 4}).json()["access_logs"]
        assert len(added) == 4 and {r["timestamp"] for r in added} == {"2026-01-01T00:00:10Z"}
        truth = control.get("/_sim/truth").json()["access_logs"]
        assert len(truth) == 54 and truth[-4:] == added
        newest = client.get(PATH, params={"filter[start]": "2026-01-01T00:00:10Z"}).json()["access_logs"]
        assert newest == added
        old = truth[10]
        late = control.post("/_sim/append", json={"access_logs": 1, "created_at": old["timestamp"]}).json()
        assert late["access_logs"][0]["timestamp"] == old["timestamp"]
        same_second = client.get(PATH, params={"filter[start]": old["timestamp"], "filter[end]": old["timestamp"]})
        assert late["access_logs"][0] in same_second.json()["access_logs"]
        assert control.post("/_sim/append", json={"access_logs": -1}).status_code == 400
        assert len(sim.truth()["access_logs"]) == 55
        control.close()


def test_100k_access_logs_page_by_bisect() -> None:
    started = time.perf_counter()
    config = SimConfig(seed=3, access_logs=100_000, audit_logs=5, tickets=5, clock=FakeClock())
    with running(config) as (sim, client):
        generated = time.perf_counter() - started
        truth = sim.truth()["access_logs"]
        middle = truth[50_000]["timestamp"]
        started = time.perf_counter()
        page = client.get(PATH, params={"filter[start]": middle, "page[size]": 2500}).json()
        following = client.get(page["links"]["next"]).json()
        served = time.perf_counter() - started
    print(f"\n100k access logs generated in {generated:.2f}s; 2 pages of 2500 served in {served * 1000:.0f} ms")
    first = next(i for i, r in enumerate(truth) if r["timestamp"] == middle)
    assert page["access_logs"] + following["access_logs"] == truth[first : first + 5000]
