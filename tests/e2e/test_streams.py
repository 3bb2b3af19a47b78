"""Every issue-8 stream through the simulator over real HTTP: complete, no duplicate, across runs and quirks."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.e2e.helpers import collector_env, collector_settings, duplicates, read_records, sim_config, zdlogs
from tests.e2e.test_exactly_once import drain
from zdlogs.pipeline import run
from zdlogs.simulator import Simulator

NEW_STREAMS = ["access_logs", "ticket_events", "users", "organizations"]


def stored(output: Path, stream: str, *fields: str) -> Counter:
    return Counter(tuple(record[name] for name in fields) for record in read_records(output, stream))


def assert_versions_complete(got: Counter, versions: list[list]) -> None:
    """No version twice, none invented, and the latest version of every record collected."""
    assert duplicates(got) == []
    assert set(got) <= {tuple(item) for item in versions}
    latest: dict = {}
    for record_id, updated in versions:
        latest[record_id] = max(latest.get(record_id, updated), updated)
    assert set(latest.items()) <= set(got)


def assert_new_streams_complete(sim: Simulator, output: Path) -> None:
    truth = sim.truth()
    access = stored(output, "access_logs", "id")
    assert duplicates(access) == [] and {key[0] for key in access} == {r["id"] for r in truth["access_logs"]}
    events = stored(output, "ticket_events", "id")
    assert duplicates(events) == [] and {key[0] for key in events} == set(truth["ticket_events"])
    assert_versions_complete(stored(output, "users", "id", "updated_at"), truth["user_versions"])
    assert_versions_complete(stored(output, "organizations", "id", "updated_at"), truth["organization_versions"])


def test_runs_with_activity_between_them_collect_every_new_stream_once(tmp_path: Path) -> None:
    config = sim_config(audit_logs=50, tickets=80, access_logs=6000, users=60, organizations=20)
    with Simulator(config).start() as sim:
        settings = collector_settings(sim.url, tmp_path, resources=NEW_STREAMS, max_pages=2)
        for _ in range(4):
            run(settings)
            sim.append_access_logs(40)
            sim.create_tickets(3)
            sim.update_tickets(5)
            sim.create_users(2)
            sim.update_users(4)
            sim.create_organizations(1)
            sim.update_organizations(2)
        drain(settings)
        assert_new_streams_complete(sim, tmp_path)
        assert len(read_records(tmp_path, "access_logs")) > 2500  # more than one access-log page per window


def test_a_burst_longer_than_a_page_in_one_second_is_collected_once(tmp_path: Path) -> None:
    """1,500 ticket events in one second: Zendesk stretches the page over the second, then repeats it."""
    with Simulator(sim_config(audit_logs=10, tickets=20, access_logs=10, users=10, organizations=5)).start() as sim:
        settings = collector_settings(sim.url, tmp_path, resources=["ticket_events"])
        run(settings)
        sim.create_tickets(1500)
        drain(settings)
        events = stored(tmp_path, "ticket_events", "id")
        assert duplicates(events) == [] and {key[0] for key in events} == set(sim.truth()["ticket_events"])
        assert len(events) >= 1520


def test_the_access_log_limit_and_its_date_time_reset_are_waited_out(tmp_path: Path) -> None:
    config = sim_config(access_logs=8000, access_logs_limit=2, rate_window_seconds=2)
    with Simulator(config).start() as sim:
        settings = collector_settings(sim.url, tmp_path, resources=["access_logs"])
        summary = run(settings)
        assert summary.streams[0].rate_limited >= 1 and summary.streams[0].status == "ok"
        truth = {record["id"] for record in sim.truth()["access_logs"]}
        assert Counter(r["id"] for r in read_records(tmp_path, "access_logs")) == Counter(truth)


def test_an_access_log_backfill_far_back_runs_in_parallel_windows_from_the_retention_edge(tmp_path: Path) -> None:
    config = sim_config(access_logs=5000, history_days=80)
    with Simulator(config).start() as sim:
        since = datetime.now(UTC) - timedelta(days=200)
        settings = collector_settings(sim.url, tmp_path, resources=["access_logs"], since=since, backfill_workers=4)
        run(settings)
        drain(settings)
        got = Counter(r["id"] for r in read_records(tmp_path, "access_logs"))
        assert duplicates(got) == [] and set(got) == {r["id"] for r in sim.truth()["access_logs"]}
        assert sim.stats()["requests"] > 4  # one probe for the oldest record, then the windows


def test_no_access_log_add_on_is_one_clear_line_and_the_other_streams_go_on(tmp_path: Path) -> None:
    with Simulator(sim_config(access_logs_addon=False, users=30, organizations=5)).start() as sim:
        env = collector_env(sim.url, tmp_path, RESOURCES="access_logs,users,organizations")
        result = zdlogs("--log-format", "json", "run", env=env)
        assert result.returncode == 4, result.stderr
        errors = [line for line in result.stderr.splitlines() if "Advanced Data Privacy and Protection" in line]
        assert errors and all("Traceback" not in line for line in result.stderr.splitlines())
        assert '"stream_failed"' in errors[0] or "stream_failed" in errors[0]
        assert_versions_complete(stored(tmp_path, "users", "id", "updated_at"), sim.truth()["user_versions"])
        assert not (tmp_path / "zendesk/crm/access_logs").exists()
