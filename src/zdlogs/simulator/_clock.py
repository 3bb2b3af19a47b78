"""Accelerated time: a simulated clock that runs ``scale`` times faster than the wall clock.

With ``SimConfig(time_scale=60)`` a simulated minute lasts one real second: the rate-limit windows
(counted on the simulated clock) shrink to a second of real time, and ``Retry-After`` /
``ratelimit-reset`` are still expressed in simulated seconds, as Zendesk would send them. A collector
under test is given the same clock (``monotonic``) and a matching ``sleep`` — it then lives in
simulated time, like a film played fast, without being told the scale or the limits: it must still
learn the limits from the headers and pace from them, or meet 429s. Its own CPU time is *not*
scaled, so at a large scale a slow collector pays for its overhead in simulated seconds (keep the
scale moderate when measuring throughput).
"""

from __future__ import annotations

import threading
import time


class ScaledClock:
    """Simulated epoch seconds: ``start`` + ``scale`` * real seconds elapsed + explicit jumps."""

    def __init__(self, scale: float, start: float | None = None) -> None:
        if scale <= 0:
            raise ValueError("time_scale must be > 0")
        self.scale = scale
        self._real0 = time.monotonic()
        self._start = time.time() if start is None else start
        self._jumped = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        """Simulated epoch seconds (what the simulator's ``clock`` returns)."""
        with self._lock:
            return self._start + (time.monotonic() - self._real0) * self.scale + self._jumped

    def monotonic(self) -> float:
        """Simulated seconds for a collector's pacer (same scale, never goes back)."""
        return self()

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of simulated time."""
        if seconds > 0:
            time.sleep(seconds / self.scale)

    def advance(self, seconds: float) -> None:
        """Jump ahead (e.g. to the next hourly run) without waiting."""
        with self._lock:
            self._jumped += seconds

    def real_seconds(self, simulated: float) -> float:
        return simulated / self.scale
