"""Run ``zdlogs run`` once in this (child) process, settings from the environment; print what it cost as JSON.

    python -m benchmarks._run

What ``zdlogs run`` does (``zdlogs.pipeline.run``), without the CLI's argument parsing. The last line of
output is ``{"wall_s", "cpu_s", "max_rss_mb", "paced_s", "streams": [per-stream summary], "http": {...}}``: wall and
CPU time cover the run only, not the interpreter start or the imports; peak RSS is the process's own
high-water mark (``VmHWM``, see ``benchmarks._measure``). ``http`` counts the HTTP requests this process
sent, by ``"METHOD host:port"``, whatever the library: httpx (Zendesk, the SecOps API) and urllib3
(google-cloud-storage, boto3, google-auth's token requests), counted once per attempt on the wire.
``paced_s`` is how long zdlogs waited to stay within the rate limits (its pacer's own count).
"""

from __future__ import annotations

import resource
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson

HTTP: Counter[str] = Counter()


def count_http_requests() -> None:
    """Count every request httpx's transport or a urllib3 pool sends, by method and origin."""
    import httpx
    import urllib3.connectionpool

    send = httpx.HTTPTransport.handle_request

    def counted_send(self: Any, request: httpx.Request) -> httpx.Response:
        HTTP[f"{request.method} {request.url.host}:{request.url.port}"] += 1
        return send(self, request)

    make = urllib3.connectionpool.HTTPConnectionPool._make_request

    def counted_make(self: Any, conn: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        HTTP[f"{method} {self.host}:{self.port}"] += 1
        return make(self, conn, method, url, *args, **kwargs)

    httpx.HTTPTransport.handle_request = counted_send  # type: ignore[method-assign]
    urllib3.connectionpool.HTTPConnectionPool._make_request = counted_make  # type: ignore[method-assign]


def peak_rss_mb() -> float:
    """This process image's peak RSS in MB (``VmHWM``); not imported from ``_measure``, whose harness
    import would load the simulator into the process being measured."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    count_http_requests()
    from zdlogs import logs
    from zdlogs.config import load_settings
    from zdlogs.pipeline import run
    from zdlogs.zendesk.client import ZendeskClient

    logs.configure("json", quiet=True)
    settings = load_settings()
    cpu0, started = _cpu(), time.perf_counter()
    with ZendeskClient(settings) as client:
        summary = run(settings, client=client)
    figures = {
        "wall_s": time.perf_counter() - started,
        "cpu_s": _cpu() - cpu0,
        "max_rss_mb": peak_rss_mb(),
        "paced_s": client.pacer.waited,
        "streams": [item.__dict__ for item in summary.streams],
        "http": dict(HTTP),
    }
    sys.__stdout__.write(orjson.dumps(figures).decode() + "\n")


if __name__ == "__main__":
    main()
