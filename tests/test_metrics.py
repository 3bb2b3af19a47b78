"""The metrics file: what it holds for a run (per stream figures, outcomes, lag and last success from the state),
written whole by prometheus_client (temp file, rename), every name documented in docs/STATUS.md; a file that
cannot be written is one error line, never an exception over the run's own outcome. Through ``zdlogs run`` as a
process: tests/e2e/test_status.py."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import structlog
from prometheus_client.parser import text_string_to_metric_families

from zdlogs import metrics
from zdlogs.progress import RunSummary, StreamSummary
from zdlogs.state import StateStore
from zdlogs.stores.local import LocalStore

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 12, 2, 12, 0, 0, tzinfo=UTC)


def _run(tmp_path: Path) -> tuple[RunSummary, StateStore]:
    state = StateStore(LocalStore(tmp_path / "out"), "_zdlogs/state.json")
    state.record_run(
        "audit_logs", {"finished": "2026-12-02T11:59:00Z", "outcome": "ok"}, complete_to="2026-12-02T11:50:00Z"
    )
    state.record_run(
        "users", {"finished": "2026-12-02T10:00:00Z", "outcome": "ok"}, newest_record="2026-12-02T09:00:00Z"
    )
    state.record_run("users", {"finished": "2026-12-02T11:59:30Z", "outcome": "failed", "error": "HTTP 500"})
    audit = StreamSummary("audit_logs", records=1234567, pages=12346, requests=12350, rate_limited=3, retries=4)
    users = StreamSummary("users", status="failed", requests=2, retries=3, error="HTTP 500")
    return RunSummary("file:///out", [audit, users, StreamSummary("organizations", status="not started")]), state


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_the_file_holds_the_run_s_figures_and_each_stream_s_lag_and_last_success(tmp_path: Path) -> None:
    summary, state = _run(tmp_path)
    path = tmp_path / "zdlogs.prom"
    metrics.write(str(path), summary, state, NOW)
    got = _samples(path.read_text())
    audit, users = (("stream", "audit_logs"),), (("stream", "users"),)
    assert got[("zdlogs_run_records", audit)] == 1234567 and got[("zdlogs_run_pages", audit)] == 12346
    assert (got[("zdlogs_run_requests", audit)], got[("zdlogs_run_rate_limited", audit)]) == (12350, 3)
    assert got[("zdlogs_run_retries", users)] == 3
    assert got[("zdlogs_run_outcome", (("outcome", "failed"), *users))] == 1
    assert got[("zdlogs_run_outcome", (("outcome", "ok"), *users))] == 0
    assert got[("zdlogs_run_outcome", (("outcome", "not started"), ("stream", "organizations")))] == 1
    assert got[("zdlogs_lag_seconds", audit)] == 600  # from the last complete run's end
    assert got[("zdlogs_lag_seconds", users)] == 3 * 3600  # the newest record stored: the failed run added none
    assert ("zdlogs_lag_seconds", (("stream", "organizations"),)) not in got  # never collected: no lag to give
    success = datetime(2026, 12, 2, 10, 0, 0, tzinfo=UTC).timestamp()
    assert got[("zdlogs_last_success_timestamp_seconds", users)] == success  # the failed run did not move it
    assert got[("zdlogs_run_timestamp_seconds", ())] == NOW.timestamp()
    assert got[("zdlogs_pending_entries", audit)] == 0


def test_the_file_is_replaced_whole_and_no_temp_file_stays(tmp_path: Path) -> None:
    summary, state = _run(tmp_path)
    path = tmp_path / "zdlogs.prom"
    path.write_text("old\n")
    metrics.write(str(path), summary, state, NOW)
    assert sorted(item.name for item in tmp_path.iterdir()) == ["out", "zdlogs.prom"]
    assert path.read_text().startswith("# HELP zdlogs_run_records")


def test_no_path_writes_nothing_and_a_file_that_cannot_be_written_is_one_error_line(tmp_path: Path) -> None:
    summary, state = _run(tmp_path)
    with structlog.testing.capture_logs() as logs:
        metrics.write("", summary, state, NOW)
        metrics.write(str(tmp_path / "removed-since-the-start" / "zdlogs.prom"), summary, state, NOW)
    assert [(entry["event"], entry["log_level"]) for entry in logs] == [("metrics_not_written", "error")]
    assert "ZDLOGS_METRICS_FILE" in logs[0]["fix"] and logs[0]["error"] == "No such file or directory"
    assert sorted(item.name for item in tmp_path.iterdir()) == ["out"]


def test_every_metric_is_documented(tmp_path: Path) -> None:
    summary, state = _run(tmp_path)
    names = {family.name for family in metrics.registry(summary, state, NOW).collect()}
    documented = (ROOT / "docs" / "STATUS.md").read_text()
    assert len(names) == 11 and [name for name in names if f"| `{name}` |" not in documented] == []
