"""The shared retry policy: Retry-After, which answers are retriable, and how often/long to try again."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import httpx
import pytest

from zdlogs._retry import (
    RetryNote,
    RetryPolicy,
    is_retriable_status,
    parse_retry_after,
    retriable_status,
    transport_errors_retriable,
)
from zdlogs.errors import ConfigError, Retriable

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7", 7.0),
        ("0", 0.0),
        (" 12 ", 12.0),
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


@pytest.mark.parametrize(("status", "retriable"), [(429, True), (500, True), (503, True), (404, False), (200, False)])
def test_429_and_5xx_are_retriable_and_nothing_else(status: int, retriable: bool) -> None:
    assert is_retriable_status(status) is retriable


def test_a_retriable_status_carries_the_servers_wait_unless_the_caller_read_one() -> None:
    response = httpx.Response(503, headers={"Retry-After": "9"})
    error = retriable_status(response)
    assert (str(error), error.status, error.retry_after) == ("HTTP 503", 503, 9.0)
    assert retriable_status(response, retry_after=2.0).retry_after == 2.0
    assert retriable_status(httpx.Response(500)).retry_after is None


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (httpx.ReadTimeout("slow"), r"^timed out \(the server\)$"),
        (httpx.ConnectError("refused"), r"^connection to the server failed \(ConnectError: refused\)$"),
        (httpx.RemoteProtocolError("peer closed"), r"^connection to the server failed \(RemoteProtocolError: peer"),
    ],
)
def test_transport_errors_become_retriable(failure: Exception, reason: str) -> None:
    with pytest.raises(Retriable, match=reason), transport_errors_retriable():
        raise failure


def _failing(url: str, error: Exception) -> httpx.Client:
    """A client whose every request fails with ``error``, raised the way httpx raises it (request attached)."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    return httpx.Client(transport=httpx.MockTransport(handler), base_url=url)


def _dns_error(code: int) -> httpx.ConnectError:
    """httpx's ConnectError over a socket.gaierror, as a real failed lookup chains them."""
    try:
        raise socket.gaierror(code, "Name or service not known")
    except socket.gaierror as cause:
        try:
            raise httpx.ConnectError(str(cause)) from cause
        except httpx.ConnectError as error:
            return error


def test_transport_errors_name_the_host_and_port() -> None:
    refused = _failing("http://127.0.0.1:8765", httpx.ConnectError("refused"))
    expected = r"^connection to 127.0.0.1:8765 failed \(ConnectError: refused\)$"
    with pytest.raises(Retriable, match=expected), transport_errors_retriable():
        refused.get("/api/v2/audit_logs")
    with pytest.raises(Retriable, match=r"^timed out \(acme.zendesk.com\)$"), transport_errors_retriable():
        _failing("https://acme.zendesk.com", httpx.ConnectTimeout("slow")).get("/")


def test_a_name_dns_says_does_not_exist_is_a_config_error_naming_the_setting() -> None:
    client = _failing("https://acme.zendsk.com", _dns_error(socket.EAI_NONAME))
    expected = r"^cannot resolve acme.zendsk.com: no such name in DNS; check ZENDESK_BASE_URL$"
    with pytest.raises(ConfigError, match=expected), transport_errors_retriable("ZENDESK_BASE_URL"):
        client.get("/api/v2/audit_logs")
    with pytest.raises(Retriable, match=r"^cannot resolve acme.zendsk.com for now"), transport_errors_retriable():
        client.get("/")  # without a setting to name (a caller whose host is not configured): retried


def test_a_temporary_dns_failure_is_retried() -> None:
    client = _failing("https://acme.zendesk.com", _dns_error(socket.EAI_AGAIN))
    expected = r"^cannot resolve acme.zendesk.com for now \(Name or service not known\)$"
    with pytest.raises(Retriable, match=expected), transport_errors_retriable("ZENDESK_BASE_URL"):
        client.get("/")


class Flaky:
    """Raises the given errors in turn, then returns ``"ok"``."""

    def __init__(self, *errors: BaseException):
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def test_retries_then_succeeds_waiting_what_retry_after_asks_capped() -> None:
    sleeps: list[float] = []
    flaky = Flaky(Retriable("HTTP 429", retry_after=7, status=429), Retriable("HTTP 503", retry_after=900))
    policy = RetryPolicy(retries=3, max_retry_after=120)
    assert policy.retrying(sleep=sleeps.append)(flaky) == "ok"
    assert sleeps == [7, 120]


def test_without_a_server_wait_the_backoff_is_jittered_exponential_and_bounded() -> None:
    sleeps: list[float] = []
    flaky = Flaky(*[Retriable("HTTP 500", status=500)] * 6)
    RetryPolicy(retries=6, backoff=0.5, max_backoff=4).retrying(sleep=sleeps.append)(flaky)
    assert len(sleeps) == 6 and all(0 <= wait <= 4 for wait in sleeps)


def test_without_jitter_the_backoff_doubles_from_the_multiplier() -> None:
    sleeps: list[float] = []
    RetryPolicy(retries=3, backoff=0.05, jitter=False).retrying(sleep=sleeps.append)(Flaky(*[Retriable("x")] * 3))
    assert sleeps == pytest.approx([0.05, 0.1, 0.2])


def test_the_last_error_is_raised_once_the_retries_are_spent() -> None:
    flaky = Flaky(*[Retriable(f"HTTP 50{n}", status=500 + n) for n in range(5)])
    with pytest.raises(Retriable, match="HTTP 502"):
        RetryPolicy(retries=2).retrying(sleep=lambda _: None)(flaky)
    assert flaky.calls == 3


def test_429s_get_their_own_larger_allowance() -> None:
    flaky = Flaky(*[Retriable("HTTP 429", retry_after=0, status=429)] * 20)
    with pytest.raises(Retriable):
        RetryPolicy(retries=2, rate_limit_retries=5).retrying(sleep=lambda _: None)(flaky)
    assert flaky.calls == 8  # the first attempt, 2 retries, 5 more for the rate limit


def test_the_time_budget_stops_before_the_count() -> None:
    flaky = Flaky(*[Retriable("HTTP 500", retry_after=0)] * 5)
    with pytest.raises(Retriable):
        RetryPolicy(retries=10, budget_seconds=0).retrying(sleep=lambda _: None)(flaky)
    assert flaky.calls == 1


def test_errors_outside_retry_on_are_not_retried() -> None:
    flaky = Flaky(ValueError("a bug, not a transient failure"))
    with pytest.raises(ValueError):
        RetryPolicy(retries=3).retrying(sleep=lambda _: None)(flaky)
    assert flaky.calls == 1


def test_retry_on_may_be_a_predicate() -> None:
    conflict, other = RuntimeError("ConditionalRequestConflict"), RuntimeError("PreconditionFailed")
    policy = RetryPolicy(retries=3, jitter=False, retry_on=lambda exc: "Conflict" in str(exc))
    flaky = Flaky(conflict, other)
    with pytest.raises(RuntimeError, match="PreconditionFailed"):
        policy.retrying(sleep=lambda _: None)(flaky)
    assert flaky.calls == 2


def test_the_hook_hears_each_retry_before_its_wait() -> None:
    notes: list[RetryNote] = []
    flaky = Flaky(Retriable("HTTP 429", retry_after=1.234, status=429), Retriable("timed out", retry_after=2))
    RetryPolicy(retries=2).retrying(sleep=lambda _: None, on_retry=notes.append)(flaky)
    assert notes == [RetryNote("HTTP 429", 1, 1.234), RetryNote("timed out", 2, 2)]
    assert notes[0].fields() == {"reason": "HTTP 429", "attempt": 1, "wait_seconds": 1.23}
