"""Pacing from Zendesk's rate-limit headers, so the collector rarely meets a 429.

The account budget (Team 200 ... Enterprise 700, Enterprise Plus 2500 requests/minute) is shared with
every app on the account, so zdlogs uses at most ``rate_share`` of it: it counts its own requests in a
sliding minute, and it also stands back until the window resets when the headers say the account as a
whole is down to the share it must leave to others. Incremental exports have their own 10/minute
limit that no header announces (https://developer.zendesk.com/api-reference/ticketing/ticket-management/incremental_exports/),
so that family is paced from the configured limit alone. The access log has its own 50/minute limit
and sends none of the account headers; its 429 carries no ``Retry-After`` but a ``ratelimit-reset``
*date-time* (https://developer.zendesk.com/api-reference/ticketing/account-configuration/access_logs/):
:func:`server_wait` reads every form Zendesk uses to say how long to wait.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from datetime import datetime

import structlog

from zdlogs._retry import parse_retry_after
from zdlogs.times import parse_utc, seconds_until, utc_now

log = structlog.get_logger("zdlogs.ratelimit")

WINDOW_SECONDS = 60.0
ACCESS_LOGS_LIMIT = 50  # requests/minute, the access log's own limit (reference page above)


def parse_reset(value: str | None, now: Callable[[], datetime] = utc_now) -> float | None:
    """``ratelimit-reset`` as seconds: delta-seconds on most endpoints, an ISO-8601 date-time on the access log."""
    if not value:
        return None
    try:
        when = parse_utc(value)
    except ValueError:
        return parse_retry_after(value, now)
    return seconds_until(when, now)


def server_wait(headers: Mapping[str, str]) -> float | None:
    """How long a 429 asks us to wait: ``Retry-After``, else ``ratelimit-reset``, else None.

    Only for 429s: on any other answer ``ratelimit-reset`` is when the minute's budget refills, not a request
    to wait (a 500 carrying ``ratelimit-reset: 59`` must not hold the retry back a minute)."""
    wait = parse_retry_after(headers.get("retry-after"))
    return wait if wait is not None else parse_reset(headers.get("ratelimit-reset"))


def _header_int(headers: Mapping[str, str], *names: str) -> int | None:
    for name in names:
        raw = headers.get(name)
        if raw is not None and raw.strip().lstrip("-").isdigit():
            return int(raw)
    return None


class _Family:
    """Our own requests in the last minute, and what the headers last said about the account.

    ``reports_account`` says whether this family's responses carry the account's rate-limit headers: the
    access log's do not (they describe its own limit, if anything), so they must not overwrite them."""

    def __init__(self, limit: int | None, reports_account: bool = True):
        self.limit = limit
        self.reports_account = reports_account
        self.sent: deque[float] = deque()
        self.remaining: int | None = None
        self.reset_at: float | None = None


class Pacer:
    """Waits before a request when sending it would exceed our share of a rate-limit family.

    Thread-safe, for the parallel backfill's workers: a request's slot is reserved under a lock (at the
    moment it may be sent, possibly in the future) and the wait happens outside it, so concurrent workers
    queue up behind each other's reservations instead of all firing when a wait ends.
    """

    def __init__(
        self,
        share: float,
        incremental_limit: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        on_wait: Callable[[str, float], None] | None = None,
    ):
        """``on_wait(reason, seconds)`` is told of every wait before it starts (the live progress shows it)."""
        self._share = share
        self._on_wait = on_wait
        self._clock = clock
        self._sleep = sleep
        self._families = {
            "account": _Family(None),
            "incremental": _Family(incremental_limit),
            "access_logs": _Family(ACCESS_LOGS_LIMIT, reports_account=False),
        }
        self._lock = threading.Lock()
        self._not_before = 0.0  # the latest reservation: later requests never jump ahead of it
        self.waited = 0.0

    def before(self, family: str) -> None:
        """Block until a request of ``family`` fits in our share; record it as sent."""
        with self._lock:
            delay = self._reserve(family)
            self.waited += delay
        if delay > 0:
            log.info("rate_pacing", family=family, wait_seconds=round(delay, 2))
            if self._on_wait is not None:
                self._on_wait(f"rate limit: pacing {family} requests within {self._share:.0%} of the limit", delay)
            self._sleep(delay)

    def _reserve(self, family: str) -> float:
        """Seconds to wait before sending; the request is recorded at the moment it will be sent."""
        state = self._families[family]
        now = self._clock()
        delay = max(self._own_delay(state), self._account_delay(self._families["account"]), self._not_before - now)
        at = now + max(0.0, delay)
        self._not_before = max(self._not_before, at) if delay > 0 else self._not_before
        state.sent.append(at)
        if family != "account":
            self._families["account"].sent.append(at)
        return max(0.0, delay)

    def after(self, headers: Mapping[str, str], family: str = "account") -> None:
        """Learn the account limit and what remains of it from a response's headers (of a family that has them)."""
        if not self._families[family].reports_account:
            return
        with self._lock:
            account = self._families["account"]
            limit = _header_int(headers, "x-rate-limit", "ratelimit-limit")
            if limit:
                account.limit = limit
            account.remaining = _header_int(headers, "x-rate-limit-remaining", "ratelimit-remaining")
            reset = _header_int(headers, "ratelimit-reset")
            account.reset_at = self._clock() + reset if reset is not None else None

    def _own_delay(self, state: _Family) -> float:
        now = self._clock()
        while state.sent and now - state.sent[0] >= WINDOW_SECONDS:
            state.sent.popleft()
        if state.limit is None:
            return 0.0
        allowed = max(1, math.floor(state.limit * self._share))
        if len(state.sent) < allowed:
            return 0.0
        return state.sent[len(state.sent) - allowed] + WINDOW_SECONDS - now

    def _account_delay(self, account: _Family) -> float:
        """Stand back when the whole account is down to the part of the budget we must leave to others."""
        if account.limit is None or account.remaining is None:
            return 0.0
        reserve = account.limit * (1 - self._share)
        if account.remaining > reserve:
            return 0.0
        reset_in = (account.reset_at - self._clock()) if account.reset_at is not None else WINDOW_SECONDS
        account.remaining = None  # one wait per observation; the next response tells us again
        return max(0.0, min(reset_in, WINDOW_SECONDS))
