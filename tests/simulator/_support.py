"""Shared helpers for the simulator tests: a hand-driven clock and default credentials."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from zdlogs.simulator import SimConfig, Simulator

BASIC = ("admin@example.com/token", "sim-api-token")
T0 = 1_767_225_610.0  # 2026-01-01T00:00:10Z: ten seconds into a rate window of 60 s


class FakeClock:
    """Epoch seconds that only move when the test says so."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@contextmanager
def running(config: SimConfig) -> Iterator[tuple[Simulator, httpx.Client]]:
    """A started simulator plus an authenticated keep-alive client on it."""
    with Simulator(config) as sim, httpx.Client(base_url=sim.url, auth=BASIC, timeout=10) as client:
        yield sim, client
