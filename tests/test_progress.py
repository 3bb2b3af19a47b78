"""A run's progress: the failed streams of a summary, and the limits that pause a stream."""

from __future__ import annotations

from zdlogs.progress import Deadline, Limits, RunSummary, StreamSummary


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
