"""Pacing from the rate-limit headers, with a fake clock (no sleeping)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from zdlogs.zendesk.ratelimit import Pacer, parse_retry_after

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


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7", 7.0),
        ("0", 0.0),
        ("Wed, 25 Nov 2026 12:00:30 GMT", 30.0),
        ("Wed, 25 Nov 2026 11:00:00 GMT", 0.0),
        (None, None),
        ("", None),
        ("soon", None),
        ("-5", None),
    ],
)
def test_retry_after_in_both_forms(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=lambda: NOW) == expected


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
