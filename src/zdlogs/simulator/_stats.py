"""Request counters, so tests can assert how a collector behaved (not just what it wrote).

E.g. "stayed under the incremental limit", "retried after each fault", "followed no
foreign link" are statements about requests, which only the server can count.
"""

from __future__ import annotations

import threading
from collections import Counter


class Stats:
    """Thread-safe counters of non-control requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._requests = 0
            self._by_path: Counter[str] = Counter()
            self._by_status: Counter[str] = Counter()
            self._rate_limited = 0
            self._faults: Counter[str] = Counter()
            self._authorized = 0

    def request(self, path: str) -> None:
        with self._lock:
            self._requests += 1
            self._by_path[path] += 1

    def status(self, status: int) -> None:
        with self._lock:
            self._by_status[str(status)] += 1

    def fault(self, kind: str) -> None:
        with self._lock:
            self._faults[kind] += 1

    def rate_limited(self) -> None:
        with self._lock:
            self._rate_limited += 1

    def authorized(self) -> None:
        with self._lock:
            self._authorized += 1

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "requests": self._requests,
                "by_path": dict(self._by_path),
                "by_status": dict(self._by_status),
                "rate_limited": self._rate_limited,
                "faults": {kind: self._faults[kind] for kind in ("error", "reset", "truncate", "slow", "rate_limit")},
                "authorized_requests": self._authorized,
            }
