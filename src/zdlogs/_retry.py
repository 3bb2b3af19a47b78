"""What is worth another attempt, and how long to wait before it: one policy for every remote call.

Three callers share it: the Zendesk client, the SecOps sink and the S3 sink's conditional writes.

* **Classification.** 429 and 5xx, timeouts and transport errors (a reset, a refused connection, a body
  cut short) are :class:`~zdlogs.errors.Retriable`, carrying the wait the server asked for, their message
  naming the host; every other status is the caller's to describe (its message names the fix: that is not
  a retry question). A host name DNS answers does not exist is a typo, not an outage: not retried.
* **Retry-After.** Sent as delta-seconds or as an HTTP-date (RFC 9110 §10.2.3); the original function
  crashed on the date form. A wait the server asks for is honoured up to a cap.
* **Policy.** A declared :class:`RetryPolicy` (tenacity underneath): a number of retries, a time budget,
  an extra allowance for 429s (waiting out a rate limit is the normal cure, not a sign of an outage),
  jittered exponential backoff when the server names no wait, a ``sleep=`` seam for accelerated time and
  an ``on_retry`` hook for counters and log lines.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, wait_exponential, wait_random_exponential

from zdlogs.errors import ConfigError, Retriable
from zdlogs.times import parse_http_date, seconds_until, utc_now

MAX_BACKOFF_SECONDS = 30.0
MAX_RETRY_AFTER_SECONDS = 300.0


# -- classification --------------------------------------------------------------------------------------


def parse_retry_after(value: str | None, now: Callable[[], datetime] = utc_now) -> float | None:
    """``Retry-After`` as seconds, whether sent as delta-seconds or as an HTTP-date; None if absent/garbled."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    when = parse_http_date(value)
    return seconds_until(when, now) if when is not None else None


def is_retriable_status(status: int) -> bool:
    """429 (rate limited) and 5xx (the server failed): the same request may succeed later."""
    return status == 429 or status >= 500


def retriable_status(response: httpx.Response, retry_after: float | None = None) -> Retriable:
    """The Retriable for a 429/5xx answer: the wait is ``retry_after`` if the caller read one, else the
    response's ``Retry-After``."""
    wait = retry_after if retry_after is not None else parse_retry_after(response.headers.get("retry-after"))
    return Retriable(f"HTTP {response.status_code}", retry_after=wait, status=response.status_code)


@contextmanager
def transport_errors_retriable(setting: str | None = None) -> Iterator[None]:
    """Inside, an httpx timeout or transport error (no answer at all) is raised as Retriable naming the host,
    except a host name DNS says does not exist, when ``setting`` (the env name the host comes from) is given."""
    try:
        yield
    except httpx.TransportError as exc:
        raise transport_failure(exc, setting) from None


def transport_failure(exc: httpx.TransportError, setting: str | None = None) -> Exception:
    """What a request that got no answer means, naming the host: Retriable (a timeout, a reset, a refused
    connection, DNS failing for now), or, for a name DNS answers does not exist (a typo: retrying it for minutes
    cannot help), a ConfigError naming ``setting``."""
    host = _host(exc)
    dns = _dns_failure(exc)
    if dns is not None and dns.errno in _NO_SUCH_NAME and setting:
        return ConfigError(f"cannot resolve {host}: no such name in DNS; check {setting}")
    if dns is not None:
        return Retriable(f"cannot resolve {host} for now ({dns.strerror})")
    if isinstance(exc, httpx.TimeoutException):
        return Retriable(f"timed out ({host})")
    detail = f": {str(exc).splitlines()[0]}" if str(exc) else ""
    return Retriable(f"connection to {host} failed ({type(exc).__name__}{detail})")


_NO_SUCH_NAME = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}


def _host(exc: httpx.TransportError) -> str:
    """``acme.zendesk.com``, or ``127.0.0.1:8765`` when the port is not the scheme's."""
    try:
        url = exc.request.url
    except RuntimeError:  # raised without a request (tests, some transports)
        return "the server"
    return f"{url.host}:{url.port}" if url.port else url.host or "the server"


def _dns_failure(exc: BaseException) -> socket.gaierror | None:
    """The name-resolution error under an httpx error (httpx -> httpcore -> socket.gaierror), if that is what it is."""
    seen: BaseException | None = exc
    for _ in range(8):  # a chain is a few links long; never loop on a cyclic one
        if seen is None or isinstance(seen, socket.gaierror):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


# -- the policy ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryNote:
    """What an ``on_retry`` hook is told before the wait: why, after which attempt, how long."""

    reason: str
    attempt: int
    wait_seconds: float

    def fields(self) -> dict[str, Any]:
        """The note as log fields (``wait_seconds`` rounded to what a reader needs)."""
        return {"reason": self.reason, "attempt": self.attempt, "wait_seconds": round(self.wait_seconds, 2)}


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to try again.

    ``retries`` follow the first attempt; a 429 gets ``rate_limit_retries`` more. ``budget_seconds``
    stops earlier whatever the count (None: no budget). ``retry_on`` says which exceptions are retried
    (Retriable by default; the S3 sink passes a predicate on the error code).
    """

    retries: int
    budget_seconds: float | None = None
    rate_limit_retries: int = 0
    max_retry_after: float = MAX_RETRY_AFTER_SECONDS
    backoff: float = 0.5
    max_backoff: float = MAX_BACKOFF_SECONDS
    jitter: bool = True
    retry_on: type[BaseException] | Callable[[BaseException], bool] = Retriable

    def retrying(
        self,
        *,
        sleep: Callable[[float], None] = time.sleep,
        on_retry: Callable[[RetryNote], None] | None = None,
    ) -> Retrying:
        """A tenacity ``Retrying``: call it with the function and its arguments; the last error is re-raised."""
        return Retrying(
            retry=retry_if_exception(self._retried),
            stop=self.should_stop,
            wait=self.wait,
            sleep=sleep,
            before_sleep=_notify(on_retry) if on_retry else None,
            reraise=True,
        )

    def _retried(self, error: BaseException) -> bool:
        if isinstance(self.retry_on, type):
            return isinstance(error, self.retry_on)
        return self.retry_on(error)

    def should_stop(self, state: RetryCallState) -> bool:
        """Out of budget, or out of attempts (a 429 counts against its larger allowance)."""
        if self._out_of_time(state):
            return True
        if _status(state) == 429:
            return state.attempt_number > self.retries + self.rate_limit_retries
        return state.attempt_number > self.retries

    def _out_of_time(self, state: RetryCallState) -> bool:
        elapsed = state.seconds_since_start
        return self.budget_seconds is not None and elapsed is not None and elapsed >= self.budget_seconds

    def wait(self, state: RetryCallState) -> float:
        """The server's wish, capped; else exponential backoff (full jitter unless ``jitter`` is off)."""
        error = _error(state)
        if isinstance(error, Retriable) and error.retry_after is not None:
            return min(error.retry_after, self.max_retry_after)
        backoff = wait_random_exponential if self.jitter else wait_exponential
        return float(backoff(multiplier=self.backoff, max=self.max_backoff)(state))


def _error(state: RetryCallState) -> BaseException | None:
    return state.outcome.exception() if state.outcome else None


def _status(state: RetryCallState) -> int | None:
    error = _error(state)
    return error.status if isinstance(error, Retriable) else None


def _notify(on_retry: Callable[[RetryNote], None]) -> Callable[[RetryCallState], None]:
    """tenacity's ``before_sleep`` as a RetryNote for the caller's hook."""

    def before_sleep(state: RetryCallState) -> None:
        wait = state.next_action.sleep if state.next_action else 0.0
        on_retry(RetryNote(str(_error(state)), state.attempt_number, wait))

    return before_sleep
