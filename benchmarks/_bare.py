"""The floor of issue 17: the unavoidable part of an audit-log backfill, and nothing else.

    python benchmarks/_bare.py BASE_URL EMAIL TOKEN SINCE UNTIL OUTPUT_DIR

Stdlib ``http.client`` on one kept-alive connection pages ``/api/v2/audit_logs`` (``page[size]=100``,
``sort=created_at``, the ``filter[created_at]`` window, then ``links.next`` while ``meta.has_more``),
``orjson.loads`` of each page, ``orjson.dumps`` of each record as one NDJSON line, one file per 10,000
records, each fsynced before the next is opened. No retry, no pacing, no dedupe, no checkpoint, no log.

Run as a script (not ``-m``), so that the process imports the stdlib and orjson alone: its start-up is
part of the figure, as ``zdlogs run``'s is. The last line of output is ``{"records", "pages", "files"}``.
"""

from __future__ import annotations

import base64
import http.client
import os
import sys
from typing import BinaryIO
from urllib.parse import urlencode, urlsplit

import orjson

RECORDS_PER_FILE = 10_000


class NdjsonFiles:
    """NDJSON lines into numbered files of ``RECORDS_PER_FILE`` records, each fsynced when full or at the end."""

    def __init__(self, directory: str):
        self.directory, self.files, self._in_file = directory, 0, 0
        self._handle: BinaryIO | None = None

    def write(self, record: dict) -> None:
        if self._handle is None:
            self._handle = open(os.path.join(self.directory, f"{self.files:06d}.ndjson"), "wb")  # noqa: SIM115
            self.files += 1
        self._handle.write(orjson.dumps(record) + b"\n")
        self._in_file += 1
        if self._in_file == RECORDS_PER_FILE:
            self.close()

    def close(self) -> None:
        """Flush, fsync and close the open file, if any."""
        if self._handle is not None:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
            self._handle, self._in_file = None, 0


def first_target(since: str, until: str) -> str:
    """The first page's path and query, as zdlogs asks for it."""
    query = [("page[size]", "100"), ("sort", "created_at"), ("filter[created_at][]", since)]
    return "/api/v2/audit_logs?" + urlencode([*query, ("filter[created_at][]", until)])


def path_of(link: str) -> str:
    """The path and query of an absolute link: the request line of the next page."""
    return urlsplit(link)._replace(scheme="", netloc="").geturl()


def backfill(base_url: str, email: str, token: str, since: str, until: str, out: str) -> dict[str, int]:
    """Page the whole window into ``out``; the counts."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
    basic = base64.b64encode(f"{email}/token:{token}".encode()).decode()
    headers = {"Authorization": f"Basic {basic}", "Accept": "application/json"}
    files, target, records, pages = NdjsonFiles(out), first_target(since, until), 0, 0
    while target:
        connection.request("GET", target, headers=headers)
        response = connection.getresponse()
        body = orjson.loads(response.read())
        if response.status != 200:
            sys.exit(f"HTTP {response.status}: {body}")
        for record in body["audit_logs"]:
            files.write(record)
        records, pages = records + len(body["audit_logs"]), pages + 1
        target = path_of(body["links"]["next"]) if body["meta"]["has_more"] else ""
    files.close()
    connection.close()
    return {"records": records, "pages": pages, "files": files.files}


if __name__ == "__main__":
    print(orjson.dumps(backfill(*sys.argv[1:7])).decode())
