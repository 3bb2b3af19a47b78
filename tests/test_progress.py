"""A run's progress: the failed streams of a summary, and the limits that pause a stream."""

from __future__ import annotations

import threading
import time

import pytest

from zdlogs.errors import Interrupted
from zdlogs.progress import Deadline, Limits, RunSummary, Stop, StreamSummary


def test_failed_and_skipped_streams_are_the_failures() -> None:
    summary = RunSummary("file:///x", [StreamSummary("a"), StreamSummary("b", "failed"), StreamSummary("c", "skipped")])
    assert [item.stream for item in summary.failed] == ["b", "c"]


def test_max_pages_and_the_deadline_pause_a_stream() -> None:
    item = StreamSummary("audit_logs", pages=2)
    assert Limits(5, Deadline(None)).budget(item) == 3 and not Limits(5, Deadline(None)).reached(item)
    assert Limits(2, Deadline(None)).reached(item) and item.status == "limited"
    now = [0.0]
    late = StreamSummary("audit_logs")
    deadline = Deadline(10, clock=lambda: now[0])
    assert not Limits(100, deadline).reached(late)
    now[0] = 10.0
    assert Limits(100, deadline).reached(late) and late.status == "limited"


def test_without_max_pages_only_the_deadline_pauses_and_the_limit_hit_is_named() -> None:
    item = StreamSummary("audit_logs", pages=10_000)
    unlimited = Limits(None, Deadline(None))
    assert unlimited.budget(item) is None and not unlimited.reached(item) and item.status == "ok"
    limits = Limits(3, Deadline(None))
    assert limits.reached(StreamSummary("users", pages=3)) and limits.hit == "MAX_PAGES=3"
    now = [0.0]
    timed = Limits(None, Deadline(30, clock=lambda: now[0]))
    now[0] = 31.0
    assert timed.reached(StreamSummary("users")) and timed.hit == "ZDLOGS_MAX_RUNTIME=30"


def test_a_stop_ends_a_wait_at_once_and_every_later_check_raises() -> None:
    stop = Stop()
    stop.sleep(0.01)  # not asked: a plain wait
    threading.Timer(0.1, stop.request, ("SIGTERM", 143)).start()
    started = time.monotonic()
    with pytest.raises(Interrupted, match="stopped by SIGTERM") as caught:
        stop.sleep(60)
    assert time.monotonic() - started < 5 and caught.value.exit_code == 143
    with pytest.raises(Interrupted):
        stop.check()
    item = StreamSummary("audit_logs")
    assert Limits(None, Deadline(None), stop).reached(item) and item.status == "interrupted"


def test_only_the_main_threads_calls_may_be_ended_by_the_signal_handler() -> None:
    stop, seen = Stop(), []

    def worker_call() -> None:
        with stop.abortable():
            seen.append(stop.interrupt_now)

    with stop.abortable():
        assert stop.interrupt_now
        worker = threading.Thread(target=worker_call)
        worker.start()
        worker.join()
        assert stop.interrupt_now  # a worker's call does not clear the main thread's flag...
    assert not stop.interrupt_now
    worker = threading.Thread(target=worker_call)
    worker.start()
    worker.join()
    assert seen == [True, False]  # ...nor sets it


def test_the_interrupted_line_says_how_far_each_stream_got_and_what_the_next_run_does() -> None:
    summary = RunSummary(
        "file:///x",
        [
            StreamSummary("audit_logs", "ok", records=1200, reached="2026-11-25T10:00:00Z"),
            StreamSummary("incremental_tickets", "interrupted", records=3000, reached="2026-11-20T08:00:00Z"),
            StreamSummary("users", "not started"),
        ],
        interrupted="SIGINT",
    )
    assert summary.interruption() == (
        "interrupted by SIGINT: 4,200 records stored and checkpointed (audit_logs 1,200 records up to "
        "2026-11-25T10:00:00Z, complete; incremental_tickets 3,000 records up to 2026-11-20T08:00:00Z; "
        "users not started); the next run continues from there"
    )
