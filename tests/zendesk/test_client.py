"""The client's retry, error and origin rules, over httpx.MockTransport (no network)."""

from __future__ import annotations

import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
import structlog

from tests.conftest import CANARY_TOKEN, make_settings
from zdlogs.errors import (
    AuthError,
    ConfigError,
    Interrupted,
    PermissionDenied,
    RequestRejected,
    RetriesExhausted,
    UnsafeLinkError,
    ZendeskError,
)
from zdlogs.progress import Stop
from zdlogs.zendesk.client import ZendeskClient

BASE = "https://acme.zendesk.com"


def client_for(responses: list[httpx.Response | Exception], **overrides: object) -> tuple[ZendeskClient, list, list]:
    """A client whose transport answers ``responses`` in order; returns (client, requests, sleeps)."""
    seen: list[httpx.Request] = []
    sleeps: list[float] = []
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    settings = make_settings(BASE, **overrides)
    client = ZendeskClient(settings, transport=httpx.MockTransport(handler), sleep=sleeps.append)
    return client, seen, sleeps


def ok(body: object = None) -> httpx.Response:
    return httpx.Response(200, json=body if body is not None else {"ok": True})


def test_retry_after_seconds_is_honoured() -> None:
    client, seen, sleeps = client_for([httpx.Response(429, headers={"Retry-After": "7"}, text="slow down"), ok()])
    assert client.get_json("/api/v2/x") == {"ok": True}
    assert len(seen) == 2
    assert sleeps == [7.0]
    assert client.stats["rate_limited"] == 1


def test_retry_after_http_date_is_honoured() -> None:
    when = datetime.now(UTC) + timedelta(seconds=30)
    response = httpx.Response(429, headers={"Retry-After": format_datetime(when, usegmt=True)})
    client, _seen, sleeps = client_for([response, ok()])
    client.get_json("/api/v2/x")
    assert 25 <= sleeps[0] <= 31


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(500),
        httpx.Response(502, text="<html>Bad Gateway</html>"),
        httpx.Response(200, text="<html>maintenance</html>"),
        httpx.Response(200, content=b'{"audit_logs": [{"id": 1'),
        httpx.ConnectError("reset"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("peer closed connection without sending complete message body"),
    ],
)
def test_transient_failures_are_retried(failure: httpx.Response | Exception) -> None:
    client, seen, sleeps = client_for([failure, ok()])
    assert client.get_json("/api/v2/x") == {"ok": True}
    assert len(seen) == 2 and len(sleeps) == 1


def test_retries_stop_at_the_budget() -> None:
    client, seen, _ = client_for([httpx.Response(503)] * 10, http_retries=2)
    with pytest.raises(RetriesExhausted, match="still failing"):
        client.get_json("/api/v2/x")
    assert len(seen) == 3


@pytest.mark.parametrize(
    ("status", "error", "hint"),
    [
        (401, AuthError, "ZENDESK_API_TOKEN"),
        (403, PermissionDenied, "Enterprise"),
        (404, RequestRejected, "cannot succeed"),
        (400, RequestRejected, "InvalidPaginationParameter"),
        (302, RequestRejected, "redirects are not followed"),
    ],
)
def test_other_4xx_are_not_retried(status: int, error: type, hint: str) -> None:
    body = {"error": "InvalidPaginationParameter", "description": "page[size] cannot be greater than 100"}
    response = httpx.Response(status, json=body, headers={"Location": "https://evil.example/x"})
    client, seen, _ = client_for([response, ok()])
    with pytest.raises(error, match=hint.replace("[", r"\[")) as caught:
        client.get_json("/api/v2/audit_logs")
    assert len(seen) == 1
    assert CANARY_TOKEN not in str(caught.value)


def test_links_to_other_origins_are_refused_before_sending() -> None:
    client, seen, _ = client_for([ok()])
    for link in (
        "https://evil.example/api/v2/audit_logs",
        "http://acme.zendesk.com/x",
        "https://acme.zendesk.com:8443/x",
    ):
        with pytest.raises(UnsafeLinkError, match="refused"):
            client.get_json(link)
    assert seen == []


def test_credentials_are_sent_as_basic_token() -> None:
    client, seen, _ = client_for([ok()])
    client.get_json("/api/v2/x")
    auth = seen[0].headers["Authorization"]
    assert auth.startswith("Basic ") and CANARY_TOKEN not in auth  # base64, never the raw token


def test_the_access_logs_429_waits_for_its_date_time_reset() -> None:
    """No Retry-After on the access log's 429: ``ratelimit-reset`` is a date-time there."""
    when = (datetime.now(UTC) + timedelta(seconds=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {"errors": [{"detail": "Use RateLimit-Reset header to backoff on retries", "title": "Too many requests"}]}
    client, seen, sleeps = client_for([httpx.Response(429, json=body, headers={"ratelimit-reset": when}), ok()])
    assert client.get_json("/api/v2/access_logs", family="access_logs") == {"ok": True}
    assert len(seen) == 2 and 15 <= sleeps[0] <= 21


def test_a_403_names_what_the_endpoint_needs_and_reads_json_api_errors() -> None:
    body = {"errors": [{"detail": "You must have administrator privileges", "title": "Authorization failed"}]}
    client, _seen, _ = client_for([httpx.Response(403, json=body)])
    with pytest.raises(PermissionDenied) as caught:
        client.get_json("/api/v2/access_logs", family="access_logs")
    message = str(caught.value)
    assert "Advanced Data Privacy and Protection add-on" in message
    assert "Authorization failed - You must have administrator privileges" in message


def test_a_5xx_is_not_held_back_by_the_minute_reset_header() -> None:
    client, _seen, sleeps = client_for([httpx.Response(500, headers={"ratelimit-reset": "59"}), ok()])
    client.get_json("/api/v2/x")
    assert sleeps[0] < 30


def post_with(response: httpx.Response) -> httpx.Response:
    client = ZendeskClient(make_settings("https://acme.zendesk.com"), transport=httpx.MockTransport(lambda _: response))
    with client:
        return client.post("/api/v2/audit_logs/export", [("filter[action]", "update")])


def test_post_429_without_retry_after_uses_resets() -> None:
    headers = {"Zendesk-RateLimit-audit-logs-export": "total=1; remaining=0; resets=37"}
    with pytest.raises(RequestRejected, match=r"wait 37 s, then try again") as caught:
        post_with(httpx.Response(429, headers=headers, text="Rate limit exceeded"))
    assert "one audit-log export per minute" in str(caught.value)
    with pytest.raises(RequestRejected, match="wait a minute"):
        post_with(httpx.Response(429, text="slow down"))


def test_post_other_outcomes() -> None:
    assert post_with(httpx.Response(202)).status_code == 202
    with pytest.raises(PermissionDenied, match="HTTP 403"):
        post_with(httpx.Response(403, json={"error": "Forbidden"}))
    with pytest.raises(ZendeskError, match=r"HTTP 503\): try again later"):
        post_with(httpx.Response(503))


@pytest.mark.parametrize(
    ("mode", "named", "not_named"),
    [
        ({}, "check ZENDESK_EMAIL (an admin's e-mail address) and ZENDESK_API_TOKEN", "BEARER"),
        ({"auth_mode": "bearer", "bearer_token": "b-token"}, "check ZENDESK_BEARER_TOKEN: ", "ZENDESK_EMAIL"),
    ],
)
def test_a_401_names_the_settings_of_the_auth_mode_in_use(mode: dict, named: str, not_named: str) -> None:
    client, _, _ = client_for([httpx.Response(401, json={"error": "Couldn't authenticate you"})], **mode)
    with pytest.raises(AuthError) as caught:
        client.get_json("/api/v2/audit_logs")
    message = str(caught.value)
    assert message.startswith("Zendesk rejected the credentials (HTTP 401: Couldn't authenticate you) on /api/v2/")
    assert named in message and not_named not in message


def test_a_host_dns_does_not_know_is_not_retried_and_names_the_setting() -> None:
    try:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    except socket.gaierror as cause:
        dns = httpx.ConnectError(str(cause))
        dns.__cause__ = cause
    client, seen, sleeps = client_for([dns, ok()])
    with pytest.raises(ConfigError, match=r"^cannot resolve acme.zendesk.com: no such name in DNS; check ZENDESK_BASE"):
        client.get_json("/api/v2/audit_logs")
    assert len(seen) == 1 and sleeps == []
    client, _, _ = client_for([httpx.ConnectError("refused")] * 4, http_retries=3)
    with pytest.raises(RetriesExhausted, match=r"\(connection to acme.zendesk.com failed \(ConnectError: refused\)\)"):
        client.get_json("/api/v2/audit_logs")


def test_a_link_to_another_host_is_told_once_per_client_that_is_once_per_run() -> None:
    client, seen, _ = client_for([])
    with structlog.testing.capture_logs() as logs:
        client.note_other_host("https://acme-old.zendesk.com/api/v2/audit_logs?page[after]=x")
        client.note_other_host("https://acme-old.zendesk.com/api/v2/incremental/tickets/cursor.json?cursor=y")
    [warning] = logs
    assert warning["event"] == "link_to_other_host" and warning["log_level"] == "warning"
    assert warning["named"] == "https://acme-old.zendesk.com:443" and warning["asked"] == BASE
    assert "nothing is sent there" in warning["detail"] and "ZENDESK_BASE_URL" in warning["detail"]
    assert seen == []


def test_a_stop_ends_a_rate_limit_wait_at_once_and_no_request_starts_after_it() -> None:
    seen: list[httpx.Request] = []
    short = {"X-Rate-Limit": "10", "X-Rate-Limit-Remaining": "0", "ratelimit-reset": "60"}  # stand back a minute

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True}, headers=short)

    stop = Stop()
    client = ZendeskClient(make_settings(BASE), transport=httpx.MockTransport(handler), stop=stop)
    client.get_json("/api/v2/audit_logs")
    threading.Timer(0.2, stop.request, ("SIGINT", 130)).start()
    started = time.monotonic()
    with pytest.raises(Interrupted, match="SIGINT"):
        client.get_json("/api/v2/audit_logs")  # its pacing wait of a minute is cut short
    assert time.monotonic() - started < 5 and len(seen) == 1
    with pytest.raises(Interrupted):
        client.get_json("/api/v2/audit_logs")
    assert len(seen) == 1


def test_cookies_a_response_sets_are_neither_kept_nor_sent_back() -> None:
    """Requests are authenticated by their header; a cookie Zendesk's edge sets is not stored or replayed."""
    cookie = {"set-cookie": "__cfruid=abc123; path=/; domain=.zendesk.com; HttpOnly; Secure"}
    client, seen, _ = client_for([httpx.Response(200, json={"ok": True}, headers=cookie), ok()])
    client.get_json("/api/v2/users/me.json")
    client.get_json("/api/v2/users/me.json")
    assert "cookie" not in seen[1].headers
    assert len(seen) == 2
