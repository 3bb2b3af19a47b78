"""The live progress: its ETA from a window's range, its rate, the waits line, and when it is shown at all."""

from __future__ import annotations

import io
import sys

import pytest
from rich.console import Console

from zdlogs import live
from zdlogs.live import LiveProgress, StreamPace, clock_text, describe
from zdlogs.progress import Observer, StreamSummary

DAY = 86400.0
SINCE, UNTIL = "2026-11-01T00:00:00Z", "2026-11-11T00:00:00Z"  # a 10-day window


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def summary(records: int, pages: int, reached: str) -> StreamSummary:
    return StreamSummary(stream="audit_logs", records=records, pages=pages, reached=reached)


def test_the_eta_of_a_window_is_the_time_left_at_the_pace_so_far() -> None:
    pace = StreamPace(live._epoch(SINCE), live._epoch(UNTIL), started=0.0)
    pace.stored(summary(2500, 25, "2026-11-03T12:00:00Z"))  # a quarter of the window in 30 s
    assert pace.fraction() == pytest.approx(0.25)
    assert pace.eta(30.0) == pytest.approx(90.0)
    assert pace.rate(30.0) == pytest.approx(2500 / 30)
    assert describe(pace, 30.0) == "2,500 records · 25 pages · 83/s · ETA 0:01:30"


def test_no_eta_before_a_page_nor_without_a_range_and_none_once_pages_step_back() -> None:
    pace = StreamPace(live._epoch(SINCE), live._epoch(UNTIL), started=0.0)
    assert pace.eta(5.0) is None and describe(pace, 5.0) == "0 records · 0 pages · 0/s"
    pace.stored(summary(100, 1, "2026-11-06T00:00:00Z"))
    assert pace.eta(10.0) == pytest.approx(10.0)
    pace.stored(summary(200, 2, "2026-11-02T00:00:00Z"))  # a parallel backfill's other window
    assert pace.eta(20.0) is None and "ETA" not in describe(pace, 20.0)
    opaque = StreamPace(None, None, started=0.0)
    opaque.stored(summary(100, 1, ""))
    assert opaque.fraction() is None and describe(opaque, 1.0) == "100 records · 1 page · 100/s"


def test_an_export_without_a_checkpoint_starts_its_range_at_its_first_page() -> None:
    pace = StreamPace(None, live._epoch(UNTIL), started=0.0)
    pace.stored(summary(1000, 1, "2026-11-01T00:00:00Z"))
    assert pace.fraction() == 0.0 and pace.eta(1.0) is None
    pace.stored(summary(2000, 2, "2026-11-06T00:00:00Z"))
    assert pace.fraction() == pytest.approx(0.5) and pace.eta(4.0) == pytest.approx(4.0)


def test_clock_text_rounds_up_to_whole_seconds() -> None:
    assert [clock_text(s) for s in (0.2, 59.0, 61.5, 3 * 3600 + 5)] == ["0:00:01", "0:00:59", "0:01:02", "3:00:05"]


def test_the_display_shows_each_stream_and_the_wait_with_its_reason() -> None:
    clock, out = Clock(), io.StringIO()
    progress = LiveProgress(Console(file=out, force_terminal=True, width=120), clock=clock)
    progress.stream_started("audit_logs", SINCE, UNTIL)
    clock.now += 10
    progress.page_stored(summary(1200, 12, "2026-11-02T00:00:00Z"))
    progress.waiting("rate limit: pacing account requests within 50% of the limit", 42.0)
    clock.now += 2
    shown = _render(progress)
    assert "audit_logs" in shown and "1,200 records · 12 pages · 120/s · ETA 0:01:30" in shown
    assert "waiting 0:00:40 (1 wait): rate limit: pacing account requests within 50% of the limit" in shown
    progress.stream_ended(StreamSummary(stream="audit_logs", records=1200, pages=12, status="limited"))
    assert "1,200 records · 12 pages · 100/s · limited" in _render(progress)


def _render(progress: LiveProgress, width: int = 140) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None)
    with console.capture() as captured:
        for renderable in progress.display.get_renderables():
            console.print(renderable)
    return captured.get()


def test_the_display_is_only_for_a_terminal_and_never_for_json_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert live.wanted("auto", Tty()) and live.wanted("console", Tty())
    assert not live.wanted("json", Tty()) and not live.wanted("auto", io.StringIO())
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with live.shown("auto") as observer:
        assert type(observer) is Observer


def test_on_a_narrow_terminal_the_figures_wrap_and_none_is_cut() -> None:
    clock = Clock()
    progress = LiveProgress(Console(file=io.StringIO()), clock=clock)
    progress.stream_started("incremental_ticket_events", SINCE, UNTIL)
    clock.now += 10
    progress.page_stored(
        StreamSummary(stream="incremental_ticket_events", records=1234567, pages=12345, reached="2026-11-02T00:00:00Z")
    )
    for width in (50, 80):
        words = _render(progress, width).split()
        assert "…" not in " ".join(words), width
        assert {"incremental_ticket_events", "1,234,567", "12,345", "123,457/s", "0:01:30"} <= set(words), width
