"""The pipeline against the simulator over HTTP: a windowed stream's resume point is worked out once per run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import structlog

from tests.e2e.helpers import collector_settings, sim_config
from zdlogs.pipeline import run
from zdlogs.simulator import Simulator


def test_the_access_log_retention_warning_is_logged_once_per_run(tmp_path: Path) -> None:
    since = (datetime.now(UTC) - timedelta(days=200)).strftime("%Y-%m-%d")
    with Simulator(sim_config(audit_logs=0, tickets=0, access_logs=50)).start() as sim:
        settings = collector_settings(sim.url, tmp_path, resources="access_logs", since=since, backfill_workers=4)
        with structlog.testing.capture_logs() as logs:
            summary = run(settings)
    assert summary.streams[0].status == "ok" and summary.streams[0].records == 50
    assert [entry["event"] for entry in logs].count("access_logs_beyond_retention") == 1
