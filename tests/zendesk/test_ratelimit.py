"""Pacing from the rate-limit headers, with a fake clock (no sleeping), and the Pacer shared by the parallel
backfill's workers: never more than our share in any minute."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from zdlogs.zendesk.ratelimit import Pacer, parse_reset, server_wait

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_our_share_of_the_incremental_limit_is_never_exceeded_in_a_minute() -> None:
    time = FakeTime()
    pacer = Pacer(share=0.5, incremental_limit=10, clock=time.clock, sleep=time.sleep)
    for _ in range(5):
        pacer.before("incremental")
    assert time.slept == []
    pacer.before("incremental")  # the sixth within the minute waits for the first to leave the window
    assert time.slept == [60.0]


def test_account_budget_learned_from_headers_caps_our_share() -> None:
    time = FakeTime()
    pacer = Pacer(share=0.1, incremental_limit=10, clock=time.clock, sleep=time.sleep)
    pacer.after({"x-rate-limit": "200", "x-rate-limit-remaining": "199", "ratelimit-reset": "30"})
    for _ in range(20):
        pacer.before("account")
    assert time.slept == []
    pacer.before("account")
    assert len(time.slept) == 1 and time.slept[0] > 0


def test_stands_back_when_the_whole_account_is_short() -> None:
    time = FakeTime()
    pacer = Pacer(share=0.5, incremental_limit=10, clock=time.clock, sleep=time.sleep)
    pacer.after({"x-rate-limit": "700", "x-rate-limit-remaining": "120", "ratelimit-reset": "12"})
    pacer.before("account")  # other apps used most of the minute: wait for the reset
    assert time.slept == [12.0]
    pacer.before("account")  # one wait per observation
    assert time.slept == [12.0]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("41", 41.0),
        ("2026-11-25T12:00:30Z", 30.0),
        ("2026-11-25T12:00:30+00:00", 30.0),
        ("2026-11-25T11:00:00Z", 0.0),
        ("later", None),
        (None, None),
    ],
)
def test_ratelimit_reset_in_seconds_or_as_a_date_time(value: str | None, expected: float | None) -> None:
    assert parse_reset(value, now=lambda: NOW) == expected


def test_retry_after_wins_over_ratelimit_reset() -> None:
    assert server_wait({"retry-after": "3", "ratelimit-reset": "40"}) == 3.0
    assert server_wait({"ratelimit-reset": "40"}) == 40.0
    assert server_wait({}) is None


def test_the_access_log_family_is_paced_at_its_own_limit_and_ignores_headers() -> None:
    time = FakeTime()
    pacer = Pacer(share=0.5, incremental_limit=10, clock=time.clock, sleep=time.sleep)
    pacer.after({"ratelimit-limit": "1", "ratelimit-remaining": "0", "ratelimit-reset": "59"}, "access_logs")
    for _ in range(25):  # half of the 50/minute
        pacer.before("access_logs")
    assert time.slept == []
    pacer.before("access_logs")
    assert time.slept == [60.0]


class SharedVirtualTime:
    """A clock for threads that moves only when every running thread sleeps, to the earliest wake-up: each
    send happens at exactly the time the pacer chose, whatever the machine's load (no timing in the test)."""

    def __init__(self, threads: int):
        self.now, self.running = 0.0, threads
        self.wakes: list[float] = []
        self._changed = threading.Condition()

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._changed:
            wake = self.now + seconds
            self.wakes.append(wake)
            self.running -= 1
            self._advance()
            self._changed.wait_for(lambda: self.now >= wake)
            self.wakes.remove(wake)
            self.running += 1

    def finished(self) -> None:
        with self._changed:
            self.running -= 1
            self._advance()

    def _advance(self) -> None:
        if self.running == 0 and self.wakes:
            self.now = max(self.now, min(self.wakes))
            self._changed.notify_all()


def test_concurrent_workers_stay_within_the_share_in_every_sliding_minute() -> None:
    clock = SharedVirtualTime(threads=4)
    pacer = Pacer(0.5, 10, clock=clock.monotonic, sleep=clock.sleep)
    pacer.after({"x-rate-limit": "20", "x-rate-limit-remaining": "20", "ratelimit-reset": "60"})
    sent: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(10):
            pacer.before("account")
            with lock:
                sent.append(clock.monotonic())
        clock.finished()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    sent.sort()
    assert len(sent) == 40
    assert all(sum(1 for t in sent if start <= t < start + 60) <= 10 for start in sent)  # 10 a minute: 20 x 0.5
    assert sent[-1] >= 180  # 40 requests at 10 a minute: the fourth minute at least


def test_every_pacing_wait_is_told_with_its_reason_before_it_starts() -> None:
    time, told = FakeTime(), []
    pacer = Pacer(0.5, 10, clock=time.clock, sleep=time.sleep, on_wait=lambda reason, s: told.append((reason, s)))
    for _ in range(6):
        pacer.before("incremental")
    assert told == [("rate limit: pacing incremental requests within 50% of the limit", 60.0)] and time.slept == [60.0]
