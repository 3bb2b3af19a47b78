"""Zendesk's rate limits: fixed windows for the account, incremental exports and single endpoints.

Fixed (not sliding) windows, because that is what the `ratelimit-reset` header
describes: seconds until the counters start over. Refused requests still count, so a
client that ignores Retry-After stays refused until the window ends.
"""

from __future__ import annotations

import email.utils
import math
import random
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

ACCOUNT_MESSAGE = "Number of allowed API requests per minute exceeded"
INCREMENTAL_MESSAGE = "Number of allowed incremental export API requests per minute exceeded"
EXPORT_MESSAGE = "Rate limit for Audit log CSV Export exceeded. Please wait 1 minute and try again."
EXPORT_INTERVAL = 60


@dataclass(frozen=True)
class RateDecision:
    """Outcome for one request plus the numbers the rate-limit headers report."""

    allowed: bool
    scope: str | None  # "account" or "incremental" when refused
    limit: int
    remaining: int
    reset_seconds: int

    def headers(self) -> list[tuple[str, str]]:
        return [
            ("X-Rate-Limit", str(self.limit)),
            ("X-Rate-Limit-Remaining", str(self.remaining)),
            ("ratelimit-limit", str(self.limit)),
            ("ratelimit-remaining", str(self.remaining)),
            ("ratelimit-reset", str(self.reset_seconds)),
        ]


class RateLimiter:
    """Counts /api/v2 requests per fixed window; thread-safe."""

    def __init__(self, account_limit: int, incremental_limit: int, window_seconds: float) -> None:
        self._lock = threading.Lock()
        self._account_limit = account_limit
        self._incremental_limit = incremental_limit
        self._window = window_seconds
        self._window_index = -1
        self._account = 0
        self._incremental = 0

    def _roll(self, now: float) -> int:
        """Start a new window if `now` left the current one; return seconds left in it (>= 1)."""
        index, reset = window_position(now, self._window)
        if index != self._window_index:
            self._window_index, self._account, self._incremental = index, 0, 0
        return reset

    def admit(self, now: float, incremental: bool) -> RateDecision:
        with self._lock:
            reset = self._roll(now)
            self._account += 1
            if self._account > self._account_limit:
                return self._decision(False, "account", reset)
            if incremental:
                self._incremental += 1
                if self._incremental > self._incremental_limit:
                    return self._decision(False, "incremental", reset)
            return self._decision(True, None, reset)

    def peek(self, now: float) -> RateDecision:
        """Current numbers without counting a request (for responses that never got that far)."""
        with self._lock:
            return self._decision(True, None, self._roll(now))

    def _decision(self, allowed: bool, scope: str | None, reset: int) -> RateDecision:
        remaining = max(0, self._account_limit - self._account)
        return RateDecision(allowed, scope, self._account_limit, remaining, reset)


def window_position(now: float, window: float) -> tuple[int, int]:
    """(index of the fixed window holding `now`, whole seconds until it ends, at least 1)."""
    index = math.floor(now / window)
    return index, max(1, math.ceil((index + 1) * window - now))


@dataclass(frozen=True)
class Quota:
    """One endpoint limit's answer: allowed or not, and what its headers report."""

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # until the window ends
    reset_at: float  # epoch second the window ends

    def zendesk_header(self, name: str) -> tuple[str, str]:
        """`Zendesk-RateLimit-<name>: total=..; remaining=..; resets=..` (the endpoint-limit grammar)."""
        value = f"total={self.limit}; remaining={self.remaining}; resets={self.reset_seconds}"
        return f"Zendesk-RateLimit-{name}", value


class WindowCounter:
    """An endpoint's own limit: `limit` requests per fixed window, refused ones counted too; thread-safe.

    Used for the users cursor export (20/min, on top of the incremental family) and for the
    access log (50/min, outside the account limit).
    """

    def __init__(self, limit: int, window_seconds: float) -> None:
        self._lock = threading.Lock()
        self._limit = limit
        self._window = window_seconds
        self._index = -1
        self._count = 0

    def _roll(self, now: float) -> int:
        index, reset = window_position(now, self._window)
        if index != self._index:
            self._index, self._count = index, 0
        return reset

    def _quota(self, allowed: bool, reset: int) -> Quota:
        reset_at = (self._index + 1) * self._window
        return Quota(allowed, self._limit, max(0, self._limit - self._count), reset, reset_at)

    def admit(self, now: float) -> Quota:
        with self._lock:
            reset = self._roll(now)
            self._count += 1
            return self._quota(self._count <= self._limit, reset)

    def peek(self, now: float) -> Quota:
        """The numbers without counting a request (for requests refused before reaching this limit)."""
        with self._lock:
            return self._quota(True, self._roll(now))


class ExportThrottle:
    """POST /api/v2/audit_logs/export: one accepted request per minute per account."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: float | None = None

    def admit(self, now: float) -> tuple[bool, int]:
        """(accepted, seconds until the next export is allowed)."""
        with self._lock:
            if self._last is not None and now - self._last < EXPORT_INTERVAL:
                return False, max(1, math.ceil(self._last + EXPORT_INTERVAL - now))
            self._last = now
            return True, EXPORT_INTERVAL


def retry_after_value(seconds: int, form: str, now: float, rng: random.Random) -> str:
    """Retry-After as delta-seconds or as an HTTP-date (RFC 9110 allows both).

    Zendesk documents seconds; proxies in front of it may send dates, so "mixed" lets a
    test prove the collector copes with either on the same run.
    """
    if form == "mixed":
        form = rng.choice(("seconds", "http-date"))
    if form == "seconds":
        return str(seconds)
    moment = datetime.fromtimestamp(math.ceil(now + seconds), tz=UTC)
    return email.utils.format_datetime(moment, usegmt=True)
