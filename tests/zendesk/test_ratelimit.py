"""Pacing from the rate-limit headers, with a fake clock (no sleeping)."""

from __future__ import annotations

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
