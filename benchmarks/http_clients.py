"""The HTTP client weighed: CPU per audit-log page for each way of paging the same records (issue 17).

    .venv/bin/python -m benchmarks.http_clients [--records 100000 --repeat 5]

In this process (user + system CPU from ``getrusage``; the simulator runs in another), each target pages the
whole audit log (``page[size]=100``, ``links.next``) and ``orjson.loads`` each body, nothing stored:

* ``http.client``: the stdlib, one kept-alive connection (the bare client's way, ``benchmarks/_bare.py``);
* ``urllib3``: a connection pool, as google-cloud-storage and boto3 use it;
* ``httpx``: ``httpx.Client`` on its default transport (httpcore + h11), Basic auth;
* ``httpx on http.client``: the same ``httpx.Client`` with :class:`StdlibTransport` behind its ``transport=`` seam
  (a single-threaded prototype: no proxy, no TLS options, no error mapping — a measure, not a product);
* ``ZendeskClient``: zdlogs' client (pacing, retries, same-origin checks, counters) on httpx's default transport,
  and on :class:`StdlibTransport`.

The targets take turns ``--repeat`` times; the least CPU of each is kept.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import resource
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode, urlsplit

import httpx
import orjson
import urllib3

from benchmarks._harness import EMAIL, TOKEN, print_table, ratio, sim_config, simulator_process
from zdlogs import logs
from zdlogs.config import load_settings
from zdlogs.zendesk.client import ZendeskClient

HISTORY_DAYS = 30
BASIC = "Basic " + base64.b64encode(f"{EMAIL}/token:{TOKEN}".encode()).decode()
HEADERS = {"Authorization": BASIC, "Accept": "application/json"}


class StdlibTransport(httpx.BaseTransport):
    """httpx's transport seam on ``http.client``: one kept-alive connection, whole bodies read at once."""

    def __init__(self) -> None:
        self._connection: http.client.HTTPConnection | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._connection is None:
            self._connection = http.client.HTTPConnection(request.url.host, request.url.port, timeout=60)
        connection = self._connection
        target = request.url.raw_path.decode("ascii")
        connection.putrequest(request.method, target, skip_host=True, skip_accept_encoding=True)
        for name, value in request.headers.raw:
            connection.putheader(name.decode("latin-1"), value)
        connection.endheaders(request.content or None)
        answer = connection.getresponse()
        return httpx.Response(answer.status, headers=answer.getheaders(), content=answer.read(), request=request)


def window() -> tuple[str, str]:
    until = datetime.now(UTC) - timedelta(seconds=1)
    since = until - timedelta(days=HISTORY_DAYS + 1)
    return since.strftime("%Y-%m-%dT00:00:00Z"), until.strftime("%Y-%m-%dT%H:%M:%SZ")


def first_target() -> str:
    since, until = window()
    query = [("page[size]", "100"), ("sort", "created_at"), ("filter[created_at][]", since)]
    return "/api/v2/audit_logs?" + urlencode([*query, ("filter[created_at][]", until)])


def path_of(link: str) -> str:
    return urlsplit(link)._replace(scheme="", netloc="").geturl()


def walk(get: Callable[[str], bytes]) -> int:
    """Page the window with ``get(path and query) -> body``; the number of pages."""
    target, pages = first_target(), 0
    while target:
        body = orjson.loads(get(target))
        pages += 1
        target = path_of(body["links"]["next"]) if body["meta"]["has_more"] else ""
    return pages


def with_stdlib(url: str) -> int:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)

    def get(target: str) -> bytes:
        connection.request("GET", target, headers=HEADERS)
        return connection.getresponse().read()

    return walk(get)


def with_urllib3(url: str) -> int:
    parts = urlsplit(url)
    pool = urllib3.HTTPConnectionPool(parts.hostname or "", parts.port, maxsize=1)
    return walk(lambda target: pool.request("GET", target, headers=HEADERS).data)


def with_httpx(url: str, transport: httpx.BaseTransport | None = None) -> int:
    auth, headers = (f"{EMAIL}/token", TOKEN), {"Accept": "application/json"}
    with httpx.Client(auth=auth, headers=headers, transport=transport, timeout=60) as client:
        return walk(lambda target: client.get(url + target).content)


def with_zendesk_client(url: str, transport: httpx.BaseTransport | None = None) -> int:
    since, until = window()
    settings = load_settings(base_url=url, email=EMAIL, api_token=TOKEN, rate_share=1)
    params: dict | None = {"page[size]": 100, "sort": "created_at", "filter[created_at][]": [since, until]}
    link: str | None = "/api/v2/audit_logs"
    pages = 0
    with ZendeskClient(settings, transport=transport) as client:
        while link:
            body = client.get_json(link, params)
            pages, params = pages + 1, None
            link = body["links"]["next"] if body["meta"]["has_more"] else None
    return pages


TARGETS: dict[str, Callable[[str], int]] = {
    "http.client (stdlib)": with_stdlib,
    "urllib3": with_urllib3,
    "httpx, default transport": with_httpx,
    "httpx on http.client (StdlibTransport)": lambda url: with_httpx(url, StdlibTransport()),
    "ZendeskClient, default transport": with_zendesk_client,
    "ZendeskClient on StdlibTransport": lambda url: with_zendesk_client(url, StdlibTransport()),
}


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(target: Callable[[str], int], url: str) -> tuple[float, int]:
    started = cpu()
    pages = target(url)
    return cpu() - started, pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5, help="turns of every target; the least CPU is kept")
    args = parser.parse_args()
    logs.configure("json", quiet=True)
    best: dict[str, float] = {}
    with simulator_process(sim_config(audit_logs=args.records, tickets=0, history_days=HISTORY_DAYS)) as sim:
        time.sleep(1.1)
        records = sim.audit_count()
        for _ in range(args.repeat):
            for name, target in TARGETS.items():
                seconds, pages = measure(target, sim.url)
                best[name] = min(best.get(name, seconds), seconds)
    floor = best["http.client (stdlib)"]
    rows = [[name, f"{s / pages * 1e6:.0f}", f"{s / records * 1e6:.2f}", ratio(s, floor)] for name, s in best.items()]
    title = f"HTTP client CPU, {records:,} audit records in {pages} pages, parse included (least of {args.repeat})"
    print_table(title, ["client", "µs/page", "µs/record", "x http.client"], rows)


if __name__ == "__main__":
    main()
