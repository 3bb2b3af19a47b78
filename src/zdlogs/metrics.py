"""``zdlogs run --metrics-file PATH`` (``ZDLOGS_METRICS_FILE``): the run's figures in the Prometheus text format,
for node_exporter's textfile collector, written once the run ends by ``prometheus_client`` (into a temp file
beside PATH, then renamed over it: the collector never reads half a file).

Per stream (label ``stream``): what this run did (records stored, pages, requests, 429 answers, retries,
seconds, and its outcome as one series per possible outcome, 1 on the one it had) and, from the state, how
far behind it is (the lag ``zdlogs status`` shows), its pending write-ahead entries and when its last
successful run ended. Every name and its meaning: docs/STATUS.md.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import TYPE_CHECKING

import structlog

from zdlogs.config import env_name
from zdlogs.progress import RunSummary, StreamSummary
from zdlogs.state import StateStore
from zdlogs.times import parse_utc, utc_now

if TYPE_CHECKING:  # prometheus_client is imported by a run that writes the file, when it writes it
    from prometheus_client import CollectorRegistry

log = structlog.get_logger("zdlogs.metrics")

OUTCOMES = ("ok", "limited", "interrupted", "not started", "failed", "skipped")  # StreamSummary.status
RUN_FIGURES = {  # StreamSummary field -> (metric, help)
    "records": ("zdlogs_run_records", "Records stored by the run that wrote this file"),
    "pages": ("zdlogs_run_pages", "Pages stored by the run"),
    "requests": ("zdlogs_run_requests", "Requests the run made to Zendesk"),
    "rate_limited": ("zdlogs_run_rate_limited", "Answers 429 (rate limited) the run got from Zendesk"),
    "retries": ("zdlogs_run_retries", "Requests the run retried"),
    "seconds": ("zdlogs_run_duration_seconds", "Seconds the run spent on the stream"),
}


def write(path: str, summary: RunSummary, state: StateStore, now: datetime | None = None) -> None:
    """Write the metrics of the run that just ended to ``path`` (nothing when it is empty). A file that cannot
    be written is one error line: the run itself went as it went, and its exit code says so."""
    if not path:
        return
    from prometheus_client import write_to_textfile

    try:
        write_to_textfile(os.path.expanduser(path), registry(summary, state, now or utc_now()))
    except OSError as exc:
        fix = f"free space or fix the permissions of its directory, or change {env_name('metrics_file')}"
        log.error("metrics_not_written", path=path, error=exc.strerror or str(exc), fix=fix)


def registry(summary: RunSummary, state: StateStore, now: datetime) -> CollectorRegistry:
    """The metrics of the run: what it did per stream, and each stream's lag and last success from the state."""
    from prometheus_client import CollectorRegistry, Gauge

    metrics = CollectorRegistry(auto_describe=True)
    figures = {field: Gauge(name, text, ["stream"], registry=metrics) for field, (name, text) in RUN_FIGURES.items()}
    outcome = Gauge(
        "zdlogs_run_outcome", "1 for the outcome the run had on the stream", ["stream", "outcome"], registry=metrics
    )
    for item in summary.streams:
        for field, gauge in figures.items():
            gauge.labels(stream=item.stream).set(getattr(item, field))
        for name in OUTCOMES:
            outcome.labels(stream=item.stream, outcome=name).set(int(item.status == name))
    _state_figures(metrics, summary.streams, state, now)
    ended = Gauge(
        "zdlogs_run_timestamp_seconds", "When the run that wrote this file ended (Unix time)", registry=metrics
    )
    ended.set(now.timestamp())
    return metrics


def _state_figures(metrics: CollectorRegistry, streams: list[StreamSummary], state: StateStore, now: datetime) -> None:
    """Lag, pending entries and last success of each stream of the run, as ``zdlogs status`` reads them."""
    from prometheus_client import Gauge

    from zdlogs.status import stream_status  # zdlogs status' module: a run without a metrics file needs none of it

    lag = Gauge(
        "zdlogs_lag_seconds", "Seconds from how far the stream is collected to now", ["stream"], registry=metrics
    )
    pending = Gauge("zdlogs_pending_entries", "Write-ahead entries the next run settles", ["stream"], registry=metrics)
    success = Gauge(
        "zdlogs_last_success_timestamp_seconds",
        "When the last successful run of the stream ended (Unix time)",
        ["stream"],
        registry=metrics,
    )
    for item in streams:
        status = stream_status(item.stream, state.recorded(item.stream), now, None)
        if status.lag_seconds is not None:
            lag.labels(stream=item.stream).set(status.lag_seconds)
        pending.labels(stream=item.stream).set(status.pending)
        if status.last_success:
            success.labels(stream=item.stream).set(parse_utc(status.last_success).timestamp())
