"""Through the simulator over real HTTP: every record collected exactly once, across runs and limits."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.e2e.helpers import audit_ids, collector_settings, duplicates, sim_config, ticket_versions
from zdlogs.pipeline import RunSummary, run
from zdlogs.simulator import FaultConfig, Simulator


class Appender(threading.Thread):
    """New activity arriving while the collector runs."""

    def __init__(self, sim: Simulator):
        super().__init__(daemon=True)
        self.sim, self.stop = sim, threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.02):
            self.sim.append_audit_logs(2)
            self.sim.update_tickets(1)


def drain(settings: object, runs: int = 30) -> list[RunSummary]:
    """Run until no stream is paused by a limit (what the next scheduled runs would do)."""
    time.sleep(2.2)  # past the settle delay and the simulator's recent-second exclusion
    summaries = []
    for _ in range(runs):
        summaries.append(run(settings))  # type: ignore[arg-type]
        if all(item.status == "ok" for item in summaries[-1].streams):
            return summaries
    raise AssertionError("collection did not catch up")


def assert_complete(sim: Simulator, output: Path, tickets: bool = True) -> None:
    """Every audit record stored exactly once; every ticket's latest version stored, none twice."""
    truth = sim.truth()
    got = audit_ids(output)
    assert duplicates(got) == []
    assert set(got) == {record["id"] for record in truth["audit_logs"]}
    if not tickets:
        return
    versions = ticket_versions(output)
    assert duplicates(versions) == []
    every_version = {tuple(item) for item in truth["ticket_versions"]}
    assert set(versions) <= every_version
    latest = {}
    for ticket_id, updated in truth["ticket_versions"]:
        latest[ticket_id] = max(latest.get(ticket_id, updated), updated)
    assert set(latest.items()) <= set(versions), "the latest version of some ticket was not collected"


def test_ten_runs_with_records_arriving_between_and_during_runs(tmp_path: Path) -> None:
    with Simulator(sim_config(audit_logs=700, tickets=120)).start() as sim:
        settings = collector_settings(sim.url, tmp_path, max_pages=3)
        appender = Appender(sim)
        appender.start()
        for _ in range(10):
            run(settings)
            sim.append_audit_logs(7)
            sim.create_tickets(2)
            sim.update_tickets(3)
        appender.stop.set()
        appender.join()
        drain(settings)
        assert_complete(sim, tmp_path)


def test_max_pages_pauses_and_the_next_run_continues_without_gap_or_repeat(tmp_path: Path) -> None:
    with Simulator(sim_config(audit_logs=750, tickets=10)).start() as sim:
        settings = collector_settings(sim.url, tmp_path, max_pages=2, resources="audit_logs")
        ordered = [record["id"] for record in sim.truth()["audit_logs"]]
        collected = 0
        for _ in range(4):
            summary = run(settings).streams[0]
            assert summary.status == "limited" and summary.pages == 2 and summary.requests == 2
            collected += summary.records
            got = audit_ids(tmp_path)
            assert duplicates(got) == []
            assert set(got) == set(ordered[:collected]), "not a gap-free prefix of the history"
        drain(settings)
        assert_complete(sim, tmp_path, tickets=False)


def test_a_quiet_run_costs_one_request_per_stream(tmp_path: Path) -> None:
    with Simulator(sim_config(audit_logs=300, tickets=50)).start() as sim:
        settings = collector_settings(sim.url, tmp_path)
        drain(settings)
        quiet = run(settings)
        assert [(item.requests, item.records) for item in quiet.streams] == [(1, 0), (1, 0)]


def test_pages_written_within_one_second_never_overwrite_each_other(tmp_path: Path) -> None:
    with Simulator(sim_config(audit_logs=1000, tickets=0)).start() as sim:
        settings = collector_settings(sim.url, tmp_path, resources="audit_logs", object_records=0)  # a page an object
        summary = run(settings).streams[0]
        files = list((tmp_path / "zendesk/crm/audit_logs").rglob("*.ndjson"))
        assert summary.seconds < summary.objects  # many pages per second...
        assert len(files) == summary.objects == summary.pages  # ...and one object per page
        assert sum(audit_ids(tmp_path).values()) == 1000


def test_gzip_output_holds_the_same_records(tmp_path: Path) -> None:
    with Simulator(sim_config(audit_logs=250, tickets=30)).start() as sim:
        run(collector_settings(sim.url, tmp_path, compress="gzip"))
        assert list((tmp_path / "zendesk/crm").rglob("*.ndjson")) == []
        assert set(audit_ids(tmp_path)) == {record["id"] for record in sim.truth()["audit_logs"]}


def test_state_lives_outside_the_data_prefix(tmp_path: Path) -> None:
    with Simulator(sim_config(audit_logs=50, tickets=5)).start() as sim:
        run(collector_settings(sim.url, tmp_path))
        data_files = [p.name for p in (tmp_path / "zendesk/crm").rglob("*") if p.is_file()]
        assert data_files and all(".ndjson" in name for name in data_files)
        assert (tmp_path / "_zdlogs/state.json").exists()


def test_first_run_uses_lookback_and_since_backfills_everything(tmp_path: Path) -> None:
    with Simulator(sim_config(audit_logs=400, tickets=0, history_days=10)).start() as sim:
        truth = sim.truth()["audit_logs"]
        recent = run(collector_settings(sim.url, tmp_path / "recent", lookback_seconds=86400, resources="audit_logs"))
        day_ago = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert recent.streams[0].records == sum(1 for r in truth if r["created_at"] >= day_ago)
        since = (datetime.now(UTC) - timedelta(days=11)).date().isoformat()
        full = run(
            collector_settings(sim.url, tmp_path / "full", lookback_seconds=60, since=since, resources="audit_logs")
        )
        assert full.streams[0].records == len(truth)


def test_max_runtime_stops_starting_pages_and_the_next_run_continues(tmp_path: Path) -> None:
    slow = FaultConfig(slow_rate=1.0, slow_seconds=0.2)
    with Simulator(sim_config(audit_logs=900, tickets=0, faults=slow)).start() as sim:
        settings = collector_settings(sim.url, tmp_path, max_runtime=0.5, resources="audit_logs")
        first = run(settings).streams[0]
        assert first.status == "limited" and 1 <= first.pages <= 4
        sim.set_faults(FaultConfig())
        drain(collector_settings(sim.url, tmp_path, resources="audit_logs"))
        assert_complete(sim, tmp_path, tickets=False)
