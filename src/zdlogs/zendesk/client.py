"""The HTTP client: one place for auth, the same-origin rule, retries and pacing.

Retries are a declared policy (:class:`zdlogs._retry.RetryPolicy`, tenacity underneath): 429, 5xx,
connection errors, timeouts and truncated or non-JSON bodies are retried with capped, jittered
exponential backoff, waiting what ``Retry-After`` asks when the server says (seconds or HTTP-date,
which the original function crashed on). Other 4xx are never retried: the message names the likely
cause and the fix.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx
import orjson
import structlog

from zdlogs._retry import (
    RetryNote,
    RetryPolicy,
    is_retriable_status,
    parse_retry_after,
    retriable_status,
    transport_errors_retriable,
    transport_failure,
)
from zdlogs._version import __version__
from zdlogs.config import Settings, env_name
from zdlogs.errors import (
    AuthError,
    PermissionDenied,
    RequestRejected,
    Retriable,
    RetriesExhausted,
    ZendeskError,
)
from zdlogs.progress import Observer, Stop
from zdlogs.zendesk.auth import make_auth, rejected_credentials_hint
from zdlogs.zendesk.pagination import checked_link, origin_text
from zdlogs.zendesk.ratelimit import Pacer, server_wait

log = structlog.get_logger("zdlogs.client")

RATE_LIMIT_RETRIES = 11  # 429s get this many more retries: waiting them out is the normal cure
Params = Mapping[str, Any] | Sequence[tuple[str, str]]  # pairs keep repeated keys: filter[created_at][] twice


class ZendeskClient:
    """GET JSON from Zendesk, paced and retried; counters feed the run summary."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        stop: Stop | None = None,
        observer: Observer | None = None,
    ):
        """``sleep`` and ``clock`` are the seams for accelerated time (the simulator's ScaledClock); every wait
        (pacing, retries) ends at once when ``stop`` is asked (Ctrl-C, SIGTERM), and no request starts after.
        ``observer`` is told of every wait and its reason (the live progress on a terminal)."""
        settings.require_zendesk()
        self.base_url = settings.base_url
        self._credentials_hint = rejected_credentials_hint(settings)
        self._base_url_setting = env_name("base_url")  # named by a transport error's message; worked out once
        self._policy = _retry_policy(settings)
        self.stop = stop or Stop()
        self.observer = observer or Observer()
        self._custom_sleep = sleep
        self.pacer = Pacer(
            settings.rate_share,
            settings.incremental_limit,
            clock=clock,
            sleep=self._wait,
            on_wait=self.observer.waiting,
        )
        self.stats: Counter[str] = Counter()
        self._stats_lock = threading.Lock()  # the parallel backfill's workers share one client
        self._told_other_host = False
        self._http = _http_client(settings, transport)
        # one Retrying for every call, of every backfill worker too: tenacity keeps a call's state per thread
        self._retrying = self._policy.retrying(sleep=self._wait, on_retry=self._on_retry)

    def close(self) -> None:
        self._http.close()

    def note_other_host(self, link: str) -> None:
        """A next-page link named another host (never requested: the streams build the next request from the
        page's cursor on our origin). Said once per run, which this client lasts."""
        with self._stats_lock:
            first, self._told_other_host = not self._told_other_host, True
        if first:
            log.warning(
                "link_to_other_host",
                named=origin_text(link),
                asked=self.base_url,
                detail=f"Zendesk's next-page links name another host; nothing is sent there: each next page is "
                f"asked of {env_name('base_url')} with the page's cursor (if your Zendesk moved, set "
                f"{env_name('base_url')} to its new address)",
            )

    def _wait(self, seconds: float) -> None:
        """Every wait of the client: on the stop itself, or around the ``sleep`` seam when one was given."""
        if self._custom_sleep is None:
            self.stop.sleep(seconds)
            return
        self.stop.check()
        self._custom_sleep(seconds)
        self.stop.check()

    def _count(self, name: str, amount: int = 1) -> None:
        with self._stats_lock:
            self.stats[name] += amount

    def __enter__(self) -> ZendeskClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get_json(self, url: str, params: Params | None = None, family: str = "account") -> dict:
        """GET ``url`` (a path, or an absolute link already on our origin) and return the JSON object."""
        absolute = checked_link(url if url.startswith("http") else f"{self.base_url}{url}", self.base_url)
        try:
            with self.stop.abortable():
                return self._retrying(self._attempt, absolute, params, family)
        except Retriable as exc:
            raise RetriesExhausted(
                f"{_path(absolute)} still failing after retries ({exc}): Zendesk or the network is "
                "degraded; the next run resumes from the last checkpoint "
                f"(raise {env_name('http_retries')} to wait longer)"
            ) from None

    def _attempt(self, url: str, params: Params | None, family: str) -> dict:
        self.stop.check()
        self.pacer.before(family)
        self.stop.check()
        self._count("requests")
        with transport_errors_retriable(self._base_url_setting):
            response = self._http.get(_with_params(url, params))
        self.pacer.after(response.headers, family)
        self._count("bytes", len(response.content))
        try:
            return self._json_or_raise(response)
        finally:
            _unlink_stream(response)

    def _json_or_raise(self, response: httpx.Response) -> dict:
        status = response.status_code
        if status == 200:
            return _parse_object(response)
        if is_retriable_status(status):
            self._count("rate_limited" if status == 429 else "server_errors")
            raise retriable_status(response, server_wait(response.headers) if status == 429 else None)
        raise _client_error(response, self._credentials_hint)

    def _on_retry(self, note: RetryNote) -> None:
        self._count("retries")
        log.warning("retrying", **note.fields())
        self.observer.waiting(f"retry {note.attempt}: {note.reason}", note.wait_seconds)

    def post(self, url: str, params: Any = None, family: str = "account") -> httpx.Response:
        """POST once and return the 2xx response. Never retried: a POST may not be idempotent (an export
        request queues an e-mail), and a 429 is reported with how long to wait rather than waited out."""
        absolute = checked_link(url if url.startswith("http") else f"{self.base_url}{url}", self.base_url)
        self.pacer.before(family)
        self._count("requests")
        try:
            response = self._http.post(httpx.URL(absolute).copy_merge_params(params or {}))
        except httpx.TransportError as exc:
            failure = transport_failure(exc, env_name("base_url"))
            if not isinstance(failure, Retriable):
                raise failure from None
            raise ZendeskError(
                f"POST {_path(absolute)} failed ({failure}): Zendesk could not be reached; try again"
            ) from None
        self.pacer.after(response.headers, family)
        if response.is_success:
            return response
        if response.status_code == 429:
            raise RequestRejected(_rate_limited(response))
        if response.status_code >= 500:
            status = response.status_code
            raise ZendeskError(f"Zendesk failed on POST {_path(absolute)} (HTTP {status}): try again later")
        raise _client_error(response, self._credentials_hint)


def _with_params(url: str, params: Params | None) -> str | httpx.URL:
    """``url`` with ``params`` added to its query (httpx's ``params=`` would replace it). A next-page link, which
    has no params, goes as it is: httpx parses it once instead of three times (a cursor link is long)."""
    return httpx.URL(url).copy_merge_params(_query(params)) if params else url


def _query(params: Params | None) -> httpx.QueryParams:
    return httpx.QueryParams(params if isinstance(params, Mapping) else list(params or ()))


def _unlink_stream(response: httpx.Response) -> None:
    """Break httpx's response ↔ stream reference cycle once the body is read.

    httpx 0.28 binds each response to a ``BoundSyncStream`` that points back at it, so a page body (1 MB
    for an access-log page) is freed only by a full garbage collection, which is rare: peak memory grew
    with the number of pages (benchmarks/stream_scale.py: 85 → 108 MB from 25k to 250k access logs).
    The body is already in ``response.content``; the stream is not needed any more (encode/httpx#3733).
    """
    response.stream = httpx.ByteStream(b"")


def _parse_object(response: httpx.Response) -> dict:
    """A 200 must be one JSON object; anything else (HTML, half a body) is worth another try."""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        body = _lenient_json(response.content)
    if not isinstance(body, dict):
        raise Retriable("HTTP 200 with JSON that is not an object")
    return body


def _lenient_json(content: bytes) -> Any:
    """The stdlib parser accepts what orjson refuses but JSON allows (lone surrogate escapes)."""
    try:
        return json.loads(content)
    except (ValueError, UnicodeDecodeError):
        raise Retriable("HTTP 200 with a body that is not JSON") from None


def _retry_policy(settings: Settings) -> RetryPolicy:
    """HTTP_RETRIES retries (more for 429s), within twice the time the retries could take at HTTP_TIMEOUT."""
    return RetryPolicy(
        retries=settings.http_retries,
        budget_seconds=max(120.0, settings.http_timeout * (settings.http_retries + 1) * 2),
        rate_limit_retries=RATE_LIMIT_RETRIES,
    )


class _NoCookies(httpx.Cookies):
    """A cookie jar that keeps nothing: every Zendesk API request is authenticated by its own header, so a cookie
    a response sets (a CDN's or a session's) is never needed, and sending it back would tie requests to a session
    zdlogs never asked for. httpx passes every response through ``http.cookiejar`` to look for cookies: ~0.26 ms
    a page without any, ~1.2 ms with one (docs/PERFORMANCE.md §10)."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class _CookielessClient(httpx.Client):
    """``httpx.Client`` whose ``cookies`` (what it stores a response's cookies in, and sends) is :class:`_NoCookies`."""

    _jar = _NoCookies()

    @property
    def cookies(self) -> httpx.Cookies:
        return self._jar

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        raise TypeError("the Zendesk client keeps no cookies: requests are authenticated by their header")


def _http_client(settings: Settings, transport: httpx.BaseTransport | None) -> httpx.Client:
    """Redirects never followed (credentials stay on the configured origin), no cookies kept (:class:`_NoCookies`);
    ``transport`` is the test seam."""
    return _CookielessClient(
        auth=make_auth(settings),
        timeout=httpx.Timeout(settings.http_timeout, connect=min(10.0, settings.http_timeout)),
        follow_redirects=False,
        transport=transport,
        headers={"Accept": "application/json", "User-Agent": f"zdlogs/{__version__}"},
    )


def _client_error(response: httpx.Response, credentials_hint: str) -> Exception:
    """Map a non-retriable status to an error whose message names the likely cause and the fix (for a 401,
    ``credentials_hint``: the settings of the auth mode in use)."""
    status, path = response.status_code, _path(str(response.request.url))
    detail = _error_detail(response)
    if status == 401:
        return AuthError(f"Zendesk rejected the credentials (HTTP 401{detail}) on {path}: {credentials_hint}")
    if status == 403:
        return PermissionDenied(f"Zendesk refused access (HTTP 403{detail}) to {path}: {_requirement(path)}")
    if 300 <= status < 400:
        return RequestRejected(
            f"Zendesk redirected {path} (HTTP {status}) instead of answering; redirects are not followed "
            f"so credentials stay on your origin: set {env_name('base_url')} to https://<subdomain>.zendesk.com"
        )
    return RequestRejected(f"Zendesk rejected {path} (HTTP {status}{detail}): this request cannot succeed as is")


_REQUIREMENTS = (
    ("/api/v2/access_logs", "the access log needs the Advanced Data Privacy and Protection add-on and an admin user"),
    ("/api/v2/audit_logs", "the audit log needs the Enterprise plan and an admin user"),
    ("/api/v2/incremental/", "incremental exports need an admin user (with OAuth, the scope read)"),
)


def _requirement(path: str) -> str:
    """What Zendesk requires for ``path``, for the 403 message (the fix is on the account, not in zdlogs)."""
    return next((need for prefix, need in _REQUIREMENTS if path.startswith(prefix)), "the user needs admin rights")


def _rate_limited(response: httpx.Response) -> str:
    """How long to wait, from ``Retry-After`` or a ``Zendesk-RateLimit-<endpoint>: ...; resets=N`` header."""
    resets = [
        (name.lower(), float(match[1]))
        for name, value in response.headers.items()
        if name.lower().startswith("zendesk-ratelimit-") and (match := re.search(r"resets=(\d+)", value))
    ]
    wait = parse_retry_after(response.headers.get("retry-after"))
    wait = wait if wait is not None else (resets[0][1] if resets else None)
    when = f"wait {math.ceil(wait)} s" if wait is not None else "wait a minute"
    exports = any("audit-logs-export" in name for name, _ in resets)
    limit = " (Zendesk allows one audit-log export per minute per account)" if exports else ""
    text = " ".join(response.text.split())[:160]
    path = _path(str(response.request.url))
    return f"Zendesk's rate limit for {path} is reached (HTTP 429: {text}){limit}: {when}, then try again"


def _error_detail(response: httpx.Response) -> str:
    """The ``error``/``description`` of a Zendesk error body, short and single-line, if there is one."""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return ""
    if not isinstance(body, dict):
        return ""
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        body = errors[0]  # JSON:API form, used by the access log: {"errors": [{"title", "detail"}]}
    keys = ("error", "description", "title", "detail")
    parts = [str(body.get(key)) for key in keys if isinstance(body.get(key), str)]
    text = " ".join(" - ".join(parts).split())[:200]
    return f": {text}" if text else ""


def _path(url: str) -> str:
    return httpx.URL(url).path
