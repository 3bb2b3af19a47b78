"""The pipeline against the simulator over HTTP: a windowed stream's resume point is worked out once per run; each
stream's run is recorded in the state (one write per run), not after a storage failure."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
import structlog

from tests.e2e.helpers import collector_settings, sim_config
from zdlogs.config import Settings
from zdlogs.destinations import Destination, StoredPage, open_destination, open_state_store
from zdlogs.errors import PartialFailure, StorageError
from zdlogs.pipeline import run
from zdlogs.progress import Stop
from zdlogs.simulator import Simulator
from zdlogs.stores import ObjectStore


def test_the_access_log_retention_warning_is_logged_once_per_run(tmp_path: Path) -> None:
    since = (datetime.now(UTC) - timedelta(days=200)).strftime("%Y-%m-%d")
    with Simulator(sim_config(audit_logs=0, tickets=0, access_logs=50)).start() as sim:
        settings = collector_settings(sim.url, tmp_path, resources="access_logs", since=since, backfill_workers=4)
        with structlog.testing.capture_logs() as logs:
            summary = run(settings)
    assert summary.streams[0].status == "ok" and summary.streams[0].records == 50
    assert [entry["event"] for entry in logs].count("access_logs_beyond_retention") == 1


class StoppingAfterFirstPage:
    """A destination that asks the run to stop once it has stored a page (what a signal handler does)."""

    def __init__(self, real: Destination, stop: Stop) -> None:
        self.real, self.stop, self.url = real, stop, real.url

    def deliver(self, page: StoredPage) -> bool:
        written = self.real.deliver(page)
        self.stop.request("SIGTERM", 143)
        return written

    def delivered(self, key: str) -> bool:
        return self.real.delivered(key)


def test_a_stop_asked_mid_stream_ends_the_run_with_the_summary_not_an_error(tmp_path: Path) -> None:
    """A stop after the first page: that page is committed, the stream is ``interrupted``, the streams after it
    are not started, no request is sent after it, and run() returns rather than raise."""
    stop = Stop()
    with Simulator(sim_config(audit_logs=500, tickets=20)).start() as sim:
        settings = collector_settings(sim.url, tmp_path, backfill_workers=1, object_records=0)  # a page an object
        store = open_state_store(settings)
        destination = StoppingAfterFirstPage(open_destination(settings, store), stop)
        summary = run(settings, destination=destination, state_store=store, stop=stop)
        state = orjson.loads((tmp_path / "_zdlogs/state.json").read_bytes())["streams"]
        requests = sim.stats()["requests"]
    assert summary.interrupted == "SIGTERM"
    assert [(item.stream, item.status) for item in summary.streams] == [
        ("audit_logs", "interrupted"),
        ("incremental_tickets", "not started"),
    ]
    assert summary.streams[0].pages == 1 and state["audit_logs"]["pending"] is None
    assert state["audit_logs"]["checkpoint"]["since"] == summary.streams[0].reached  # what it stored, committed
    assert requests == 1
    assert "interrupted by SIGTERM: 100 records stored and checkpointed (audit_logs 100 records up to" in (
        summary.interruption()
    )


class CountingStore:
    """The state store as it is, counting its writes of the state file (``replace``)."""

    def __init__(self, real: ObjectStore) -> None:
        self.real, self.url, self.replaced = real, real.url, 0

    def replace(self, key: str, data: bytes) -> None:
        self.replaced += 1
        self.real.replace(key, data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def _run_counting(settings: Settings) -> tuple[int, dict[str, Any]]:
    store = open_state_store(settings)
    counting = CountingStore(store)
    run(settings, destination=open_destination(settings, store), state_store=counting)  # type: ignore[arg-type]
    return counting.replaced, orjson.loads((Path(settings.output) / "_zdlogs/state.json").read_bytes())["streams"]


def test_each_stream_s_run_is_recorded_and_costs_one_state_write_per_run(tmp_path: Path) -> None:
    """A run with nothing new wrote no state before runs were recorded; now it writes it once, for every stream
    at once, and each stream's last run is there: when, by whom, ok, what it stored and cost."""
    with Simulator(sim_config(audit_logs=300, tickets=40)).start() as sim:
        time.sleep(2.2)  # past the settle second: the history's newest records are all for the first run
        settings = collector_settings(sim.url, tmp_path)
        first_writes, first = _run_counting(settings)
        quiet_writes, quiet = _run_counting(settings)
    pages = sum(entry["last_run"]["pages"] for entry in first.values())
    assert first_writes <= pages + len(first) + 1  # a write per page (write-ahead), a final commit, one record
    assert quiet_writes == 1
    audit, tickets = quiet["audit_logs"], quiet["incremental_tickets"]
    assert first["audit_logs"]["last_run"]["records"] == 300 and first["incremental_tickets"]["last_run"]["records"]
    assert {audit["last_run"]["outcome"], tickets["last_run"]["outcome"]} == {"ok"}
    assert audit["last_run"]["records"] == 0 and audit["last_run"]["requests"] >= 1
    assert audit["last_success"] == audit["last_run"]["finished"] >= first["audit_logs"]["last_run"]["finished"]
    assert audit["last_run"]["by"].endswith(f":{os.getpid()}")
    assert tickets["newest_record"] == first["incremental_tickets"]["newest_record"]  # nothing newer stored
    assert audit["complete_to"] >= first["audit_logs"]["complete_to"]  # the quiet run went to the end again


def test_a_refused_stream_s_run_is_recorded_with_its_error(tmp_path: Path) -> None:
    with Simulator(sim_config(audit_logs=50, tickets=5, access_logs_addon=False)).start() as sim:
        settings = collector_settings(sim.url, tmp_path, resources="audit_logs,access_logs")
        with pytest.raises(PartialFailure):
            run(settings)
    streams = orjson.loads((tmp_path / "_zdlogs/state.json").read_bytes())["streams"]
    refused = streams["access_logs"]
    assert refused["last_run"]["outcome"] == "skipped" and "403" in refused["last_run"]["error"]
    assert "last_success" not in refused and "complete_to" not in refused
    assert streams["audit_logs"]["last_run"]["outcome"] == "ok" and "error" not in streams["audit_logs"]["last_run"]


class FailingDestination:
    """Storage that refuses every page: the run stops with a StorageError."""

    url = "file:///broken"

    def deliver(self, page: StoredPage) -> bool:
        raise StorageError("cannot write (No space left on device)")

    def delivered(self, key: str) -> bool:
        return False


def test_after_a_storage_failure_the_run_writes_the_state_no_more(tmp_path: Path) -> None:
    """The write-ahead entry of the page that failed stays as written (issue 19), and no run record is written
    over it: that write would fail the same way, after another storage timeout of retries."""
    with Simulator(sim_config(audit_logs=50, tickets=5)).start() as sim:
        settings = collector_settings(sim.url, tmp_path, metrics_file=str(tmp_path / "zdlogs.prom"))
        counting = CountingStore(open_state_store(settings))
        with pytest.raises(StorageError):
            run(settings, destination=FailingDestination(), state_store=counting)  # type: ignore[arg-type]
    assert counting.replaced == 1  # the page's write-ahead entry, then nothing
    entry = orjson.loads((tmp_path / "_zdlogs/state.json").read_bytes())["streams"]["audit_logs"]
    assert entry["pending"] is not None and "last_run" not in entry
    assert 'zdlogs_run_outcome{outcome="failed",stream="audit_logs"} 1.0' in (tmp_path / "zdlogs.prom").read_text()
