"""The pipeline against the simulator over HTTP: a windowed stream's resume point is worked out once per run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import structlog

from tests.e2e.helpers import collector_settings, sim_config
from zdlogs.destinations import Destination, StoredPage, open_destination, open_state_store
from zdlogs.pipeline import run
from zdlogs.progress import Stop
from zdlogs.simulator import Simulator


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
        settings = collector_settings(sim.url, tmp_path, backfill_workers=1)
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
