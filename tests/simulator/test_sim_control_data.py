"""Control endpoints, determinism, the shape of the generated history, and scale."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime

import httpx

from tests.simulator._support import FakeClock, running
from zdlogs.simulator import SimConfig, Simulator


def test_control_endpoints_append_truth_faults_and_stats() -> None:
    clock = FakeClock()
    with running(SimConfig(audit_logs=10, tickets=10, clock=clock)) as (sim, client):
        control = httpx.Client(base_url=sim.url)  # no credentials: control endpoints need none
        appended = control.post("/_sim/append", json={"audit_logs": 4, "tickets_created": 2, "tickets_updated": 1})
        assert appended.status_code == 200
        body = appended.json()
        assert [len(body[k]) for k in ("audit_logs", "tickets_created", "tickets_updated")] == [4, 2, 1]
        assert len({r["created_at"] for r in body["audit_logs"]}) == 1  # one second, several records
        truth = control.get("/_sim/truth").json()
        assert len(truth["audit_logs"]) == 14
        assert truth["audit_logs"][-4:] == body["audit_logs"]
        assert control.post("/_sim/append", json={"audit_logs": -1}).status_code == 400

        assert control.post("/_sim/faults", json={"error_rate": 1.0}).status_code == 200
        assert client.get("/api/v2/audit_logs").status_code >= 500
        assert control.get("/_sim/stats").status_code == 200  # never faulted
        assert control.post("/_sim/faults", json={"bogus": 1}).status_code == 400
        assert control.post("/_sim/faults", json={"error_rate": 2}).status_code == 400
        control.post("/_sim/faults", json={})
        assert client.get("/api/v2/audit_logs").status_code == 200

        stats = control.get("/_sim/stats").json()
        assert stats["requests"] == 2  # control calls are not counted
        assert stats["by_path"] == {"/api/v2/audit_logs": 2}
        assert stats["faults"]["error"] == 1
        assert stats["authorized_requests"] == 1
        reset = control.post("/_sim/reset-stats").json()
        assert reset["requests"] == 0 and reset["by_status"] == {}
        control.close()


def test_past_created_at_inserts_a_late_record_inside_an_old_second() -> None:
    with running(SimConfig(audit_logs=50, tickets=5, clock=FakeClock())) as (sim, client):
        old = sim.truth()["audit_logs"][20]
        late = sim.append_audit_logs(1, datetime.fromisoformat(old["created_at"]))[0]
        assert late["created_at"] == old["created_at"]
        assert late["id"] == max(r["id"] for r in sim.truth()["audit_logs"])  # newest id, old timestamp
        params = [("filter[created_at][]", old["created_at"])] * 2 + [("page[size]", "100")]
        same_second = client.get("/api/v2/audit_logs", params=params).json()["audit_logs"]
        assert late["id"] in {r["id"] for r in same_second}


def test_background_appender_adds_records_and_ticket_versions_while_running() -> None:
    config = SimConfig(audit_logs=10, tickets=20, append_interval=0.05, append_batch=2, recent_exclusion_seconds=0)
    with Simulator(config) as sim:
        deadline = time.monotonic() + 5
        while len(sim.truth()["audit_logs"]) < 16 and time.monotonic() < deadline:
            time.sleep(0.05)
        truth = sim.truth()
    assert len(truth["audit_logs"]) >= 16
    assert len(truth["ticket_versions"]) > 20


def test_blocking_serve_forever_can_be_stopped_from_another_thread() -> None:
    sim = Simulator(SimConfig(audit_logs=5, tickets=5))
    server = threading.Thread(target=sim.serve_forever, daemon=True)
    server.start()
    assert httpx.get(f"{sim.url}/_sim/stats").status_code == 200
    sim.stop()
    server.join(timeout=5)
    assert not server.is_alive()
    try:
        httpx.get(f"{sim.url}/_sim/stats", timeout=1)
    except httpx.TransportError:
        pass
    else:
        raise AssertionError("simulator still answering after stop()")


def test_same_seed_and_clock_give_the_same_account() -> None:
    def account(seed: int) -> dict:
        config = SimConfig(seed=seed, audit_logs=300, tickets=30, clock=FakeClock(), link_base_url="https://acme.test")
        with Simulator(config) as sim:
            sim.append_audit_logs(3)
            sim.update_tickets(2)
            return sim.truth()

    first = account(7)
    assert first == account(7)
    assert first["audit_logs"] != account(8)["audit_logs"]


def test_history_has_what_analysts_and_dedupe_tests_need() -> None:
    sim = Simulator(SimConfig(seed=42, audit_logs=3000, tickets=5, clock=FakeClock()))
    try:
        records = sim.truth()["audit_logs"]
    finally:
        sim.stop()
    assert len(records) == 3000
    keys = [(r["created_at"], r["id"]) for r in records]
    assert keys == sorted(keys) and [r["id"] for r in records] == sorted(r["id"] for r in records)
    assert {r["action"] for r in records} == {"create", "update", "destroy", "login", "exported"}
    assert {"user", "rule", "account_setting", "apitoken", "zendesk/app_market/app"} <= {
        r["source_type"] for r in records
    }
    admins = {r["actor_name"] for r in records if r["source_type"] == "rule" and r["actor_id"] > 0}
    assert len(admins) >= 5
    assert {r["source_label"].split(":")[0] for r in records if r["source_type"] == "rule"} >= {
        "Trigger",
        "Macro",
        "Automation",
        "View",
    }
    system = [r for r in records if r["actor_id"] == -1]
    assert system and all(r["actor_name"] == "Zendesk" and r["ip_address"] is None for r in system)
    assert any(r["change_description"] == "Role changed from Agent to Administrator" for r in records)
    per_second = Counter(r["created_at"] for r in records)
    assert sum(1 for n in per_second.values() if 2 <= n <= 5) >= 100
    off_hours = [r for r in records if _off_hours(r["created_at"])]
    assert 0.03 * len(records) < len(off_hours) < 0.4 * len(records)
    incident = [r for r in records if r["ip_address"] == "192.0.2.66"]
    assert len(incident) >= 20 and len({r["actor_id"] for r in incident}) == 1
    span = _epoch(incident[-1]["created_at"]) - _epoch(incident[0]["created_at"])
    assert span <= 20 * 60


def test_200k_records_generate_quickly_and_serve_correct_pages() -> None:
    started = time.perf_counter()
    config = SimConfig(seed=1, audit_logs=200_000, tickets=1000, clock=FakeClock())
    with running(config) as (sim, client):
        generated = time.perf_counter() - started
        truth = sim.truth()["audit_logs"]
        middle = truth[100_000]["created_at"]
        started = time.perf_counter()
        newest = client.get("/api/v2/audit_logs", params={"page[size]": 100}).json()
        params = [("filter[created_at][]", middle), ("filter[created_at][]", truth[-1]["created_at"])]
        window = client.get("/api/v2/audit_logs", params=[*params, ("page[size]", "100"), ("sort", "created_at")])
        following = client.get(window.json()["links"]["next"]).json()
        served = time.perf_counter() - started
    print(f"\n200k audit logs generated in {generated:.2f}s; 3 pages served in {served * 1000:.1f} ms")
    assert [r["id"] for r in newest["audit_logs"]] == [r["id"] for r in reversed(truth[-100:])]
    first_in_window = next(i for i, r in enumerate(truth) if r["created_at"] == middle)
    expected = truth[first_in_window : first_in_window + 200]
    assert [r["id"] for r in window.json()["audit_logs"] + following["audit_logs"]] == [r["id"] for r in expected]


def _epoch(stamp: str) -> float:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


def _off_hours(stamp: str) -> bool:
    moment = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")
    return moment.weekday() >= 5 or not 8 <= moment.hour < 18
