"""What the benchmarks of every stream share: page sizes, which API path is which stream, the minimum, the output.

The minimum number of requests to collect ``new`` records of a stream is ``max(1, ceil(new / page size))``:
one request to learn there is nothing new, else as many full pages as the records fill. The time-based
exports (ticket events, organizations) cannot reach it in general, because of Zendesk's own paging;
:func:`zendesk_time_export_requests` counts what their paging allows.
"""

from __future__ import annotations

import bisect
import gzip
import math
import threading
from collections import Counter
from pathlib import Path

import orjson

ALL_STREAMS = ("audit_logs", "incremental_tickets", "access_logs", "ticket_events", "users", "organizations")
NEW_STREAMS = ("access_logs", "ticket_events", "users", "organizations")
TIME_BASED = ("ticket_events", "organizations")
PAGE_SIZES = {
    "audit_logs": 100,
    "incremental_tickets": 1000,
    "access_logs": 2500,
    "ticket_events": 1000,
    "users": 1000,
    "organizations": 1000,
}
_PATHS = {
    "/api/v2/audit_logs": "audit_logs",
    "/api/v2/incremental/tickets/cursor": "incremental_tickets",
    "/api/v2/access_logs": "access_logs",
    "/api/v2/incremental/ticket_events": "ticket_events",
    "/api/v2/incremental/users/cursor": "users",
    "/api/v2/incremental/organizations": "organizations",
}


def stream_of(path: str) -> str | None:
    """The stream an API path serves (``.json`` or not), None for anything else (OAuth, control)."""
    return _PATHS.get(path.removesuffix(".json"))


def requests_by_stream(stats: dict) -> Counter[str]:
    """Requests per stream from the simulator's ``stats()`` (it counts them server side)."""
    counts: Counter[str] = Counter()
    for path, count in stats["by_path"].items():
        stream = stream_of(path)
        if stream:
            counts[stream] += count
    return counts


def minimum(stream: str, new: int) -> int:
    return max(1, math.ceil(new / PAGE_SIZES[stream]))


def zendesk_time_export_requests(seconds: list[int], start: int, per_page: int = 1000) -> int:
    """Requests a walk of a time-based export takes from ``start`` to ``end_of_stream``, by Zendesk's paging.

    ``seconds`` are the export positions (epoch seconds) of the records at or after ``start``, including
    those already stored at ``start`` (the export returns them again). The documented rules: a page holds
    ``per_page`` records from ``start_time`` inclusive but runs to the end of the last second it reaches;
    ``end_of_stream`` only on a page shorter than ``per_page`` (so a page of exactly ``per_page`` needs one
    more request to learn it was the last); the next page starts at ``end_time``, the last record's second,
    so that second is sent again. A page that is one whole second (``end_time`` = ``start_time``) would be
    answered again forever: the walk goes on one second later (what any collector must do, zdlogs included).
    """
    keys = sorted(second for second in seconds if second >= start)
    requests, low = 0, 0
    while True:
        requests += 1
        remaining = len(keys) - low
        if remaining < per_page:
            return requests
        last = keys[low + per_page - 1]
        start = last + 1 if last == start else last
        low = bisect.bisect_left(keys, start)


def stored(out: Path, stream: str) -> list[dict]:
    """Every record a local-directory output holds for ``stream`` (plain or gzip NDJSON)."""
    records = []
    for path in (out / "zendesk/crm" / stream).rglob("*.ndjson*"):
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        records.extend(orjson.loads(line) for line in raw.splitlines())
    return records


def identity(stream: str, record: dict) -> object:
    """What makes a stored record one record: its id for logs, (id, updated_at) for a version."""
    if stream in ("incremental_tickets", "users", "organizations"):
        return (record["id"], record["updated_at"])
    return record["id"]


def expected(stream: str, truth: dict) -> set:
    """From the simulator's truth: every log record, and the current version of every ticket, user, organization.

    Versions superseded between two runs were never visible to an hourly collector (an export lists
    the current version only), so only current ones are expected.
    """
    if stream in ("audit_logs", "access_logs"):
        return {record["id"] for record in truth[stream]}
    if stream == "ticket_events":
        return set(truth["ticket_events"])
    key = {"incremental_tickets": "ticket_versions", "users": "user_versions"}.get(stream, "organization_versions")
    current = {record_id: updated for record_id, updated in truth[key]}  # stream order: the last one wins
    return set(current.items())


def check(out: Path, stream: str, truth: dict) -> tuple[int, int]:
    """(records expected but not stored, records stored more than once) for ``stream``."""
    found = Counter(identity(stream, record) for record in stored(out, stream))
    return len(expected(stream, truth) - set(found)), sum(count - 1 for count in found.values() if count > 1)


class VirtualClock:
    """Simulated epoch seconds that move only when told: ``advance`` between runs, ``sleep`` when pacing.

    Shared by the simulator (``SimConfig.clock``) and zdlogs' client (``clock``/``sleep``): a pacing wait
    costs no wall time, and where records fall in time is exactly what the benchmark chose.
    """

    def __init__(self, start: float):
        self._now = start
        self._lock = threading.Lock()
        self.slept = 0.0

    def __call__(self) -> float:
        with self._lock:
            return self._now

    monotonic = __call__

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += max(0.0, seconds)

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self._now += max(0.0, seconds)
            self.slept += max(0.0, seconds)
