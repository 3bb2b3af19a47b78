"""A seeded fault-injecting HTTP proxy on 127.0.0.1, in front of fake-gcs-server or moto's S3 server.

The storage-fault suite (``reliability/storage_faults.py``) points zdlogs' storage client at it
(``STORAGE_EMULATOR_HOST`` / ``AWS_ENDPOINT_URL``); the suite itself reads the bucket behind it directly.
Every request is read whole, then, as the seeded plan decides:

* forwarded unchanged, and the upstream answer relayed (the proxy is transparent when no fault is planned);
* **random faults** (:class:`FaultPlan`, each request with probability ``rate``): an answer made up without
  forwarding (503 with ``Retry-After``, 503 without, 500, 429), a connection reset before forwarding (the
  server never saw the request), a reset *after* forwarding (the write happened, the answer never came), or
  a slow answer (forwarded, relayed ``slow_seconds`` later);
* an **outage** (:class:`Outage`, armed by the suite): the ``skip``-th write to an object of the aimed kind
  (data object, checkpoint, lease, SecOps marker: told from the object name in the URL or, for a GCS
  multipart upload, its metadata part) is forwarded, so it lands, but its answer is lost (a reset or a 503);
  then every request gets 503 until the client has given up on that write, plus ``tail`` seconds. The
  client has given up when it sends a request about a data object, the checkpoint or a marker that is not a
  retry of the landed write (same method, object and bytes), or the suite says its process ended. Requests
  about the lease or the bucket do not count (the lease renewal thread sends them, with a client of its own),
  except that an outage aimed at the lease ends with a lease request that is not a retry. So the outage
  outlasts the client's retry deadline whatever that deadline is (google-cloud-storage's ~120 s, boto3's
  attempts, or zdlogs' own), and no longer than needed.

Made-up error bodies have the service's shape (GCS: JSON ``{"error": {...}}``; S3: XML ``<Error>``), so the
client libraries classify them as the real ones. Counts of requests and of faults by kind are kept.
"""

from __future__ import annotations

import hashlib
import http.client
import random
import re
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

ERROR_KINDS = ("503-retry-after", "503", "500", "429")
RESET_KINDS = ("reset-before", "reset-after")
FAULT_KINDS = (*ERROR_KINDS, *RESET_KINDS, "slow")
TARGETS = ("data", "state", "lease", "marker")
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}
_GCS_OBJECT = re.compile(r"/b/([^/]+)/o/([^?]+)")
_GCS_UPLOAD_NAME = re.compile(rb'"name"\s*:\s*"((?:[^"\\]|\\.)*)"')
# S3's codes: SlowDown is a throttling answer to boto3 (backoff from 1 s, so 5 retries take up to ~30 s),
# ServiceUnavailable and InternalError are transient ones (backoff from 50 ms).
_S3_CODES = {"503-retry-after": "SlowDown", "503": "ServiceUnavailable", "500": "InternalError", "429": "SlowDown"}


def object_kind(name: str, data_prefix: str = "zendesk/crm/") -> str:
    """What an object is to zdlogs, from its name: ``data``, ``state``, ``lease``, ``marker`` or ``other``."""
    if not name:
        return "other"
    if name.endswith(".lease"):
        return "lease"
    if "_zdlogs/secops/" in name:
        return "marker"
    if name.endswith("state.json"):
        return "state"
    return "data" if data_prefix in name and ".ndjson" in name else "other"


def object_name(flavour: str, method: str, target: str, body: bytes) -> str:
    """The object a request is about ("" for bucket-level calls: listing, bucket checks)."""
    parts = urlsplit(target)
    if flavour == "s3":
        segments = parts.path.lstrip("/").split("/", 1)  # path style: /bucket/key
        return unquote(segments[1]) if len(segments) == 2 else ""
    found = _GCS_OBJECT.search(parts.path)
    if found:
        return unquote(found.group(2))
    query = parse_qs(parts.query)
    if "name" in query:
        return query["name"][0]
    if method == "POST" and parts.path.startswith("/upload/"):
        named = _GCS_UPLOAD_NAME.search(body[:8192])  # the multipart upload's JSON metadata part
        return named.group(1).decode("unicode_escape") if named else ""
    return ""


@dataclass
class Request:
    """One request as read from the client, whole."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes
    name: str
    kind: str

    @property
    def write(self) -> bool:
        return self.method in WRITE_METHODS and self.kind != "other"


@dataclass
class FaultPlan:
    """Random faults: each request, with probability ``rate``, gets one of ``kinds`` (uniformly)."""

    rate: float = 0.0
    kinds: tuple[str, ...] = FAULT_KINDS
    slow_seconds: float = 2.0
    retry_after: str = "1"


@dataclass
class Outage:
    """After ``skip`` writes of ``target`` objects, the next one lands but its answer is lost (``lose`` is
    "reset" or "503"); then everything is answered 503 until the client gives up on that write and ``tail``
    seconds more (``limit``: it ends then anyway)."""

    target: str
    skip: int = 0
    lose: str = "reset"
    tail: float = 0.0
    limit: float = 900.0
    landed: str = ""  # the object whose write landed unacknowledged
    landed_body: bytes = b""  # what that write carried (the first 64 KiB)
    signature: tuple[str, str, str] = ("", "", "")  # a retry of the landed write has the same
    started: float | None = None
    gave_up: float | None = None  # when the client showed it had given up on the landed write
    refused: int = 0
    retries: int = 0  # of them, retries of the landed write

    def active(self, now: float) -> bool:
        if self.started is None or now >= self.started + self.limit:
            return False
        return self.gave_up is None or now < self.gave_up + self.tail

    @property
    def seconds(self) -> float:
        """How long it lasted (so far)."""
        if self.started is None:
            return 0.0
        end = self.gave_up + self.tail if self.gave_up is not None else time.monotonic()
        return min(end, self.started + self.limit) - self.started

    def moves_on(self, request: Request) -> bool:
        """Whether ``request`` shows the client has given up on the landed write (see the module docstring)."""
        if signature(request) == self.signature:
            return False
        return request.kind == "lease" if self.target == "lease" else request.kind in ("data", "state", "marker")


def signature(request: Request) -> tuple[str, str, str]:
    """Method, object and bytes of a request, less a multipart boundary (google's is new on every attempt)."""
    body = request.body
    content_type = next((value for name, value in request.headers if name.lower() == "content-type"), "")
    boundary = re.search(r'boundary="?([^";]+)"?', content_type)
    if boundary:
        body = body.replace(boundary.group(1).encode(), b"")
    return request.method, request.name, hashlib.sha256(body).hexdigest()


@dataclass
class Decision:
    """What to do with one request: ``fault`` is "" (forward), a fault kind, or "outage-landed"/"outage"."""

    fault: str = ""
    lose: str = ""


@dataclass
class ProxyStats:
    requests: int = 0
    faults: Counter = field(default_factory=Counter)
    outages: list[Outage] = field(default_factory=list)


class FaultProxy:
    """The proxy: ``url`` is what the client is pointed at; ``flavour`` is "gcs" or "s3"."""

    def __init__(self, upstream: str, flavour: str, seed: int, data_prefix: str = "zendesk/crm/"):
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.flavour, self.data_prefix = flavour, data_prefix
        self.plan = FaultPlan()
        self.stats = ProxyStats()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._outage: Outage | None = None
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.proxy = self
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what the suite controls ----------------------------------------------------------------------

    def set_plan(self, plan: FaultPlan) -> None:
        with self._lock:
            self.plan = plan

    def arm(self, outage: Outage) -> None:
        """Aim an outage at the next writes of ``outage.target`` (replacing one not triggered yet)."""
        with self._lock:
            self._outage = outage

    def outage_state(self) -> str:
        """ "" (none armed), "armed" (its write has not come yet), "on" or "over"."""
        with self._lock:
            outage = self._outage
            if outage is None:
                return ""
            if outage.started is None:
                return "armed"
            return "on" if outage.active(time.monotonic()) else "over"

    def disarm(self) -> Outage | None:
        """Stop the armed outage (if any) and return it."""
        with self._lock:
            outage, self._outage = self._outage, None
            return outage

    def client_gone(self) -> None:
        """The client process ended: it has given up on the landed write (the tail still runs)."""
        with self._lock:
            if self._outage is not None and self._outage.started is not None and self._outage.gave_up is None:
                self._outage.gave_up = time.monotonic()

    # -- per request ----------------------------------------------------------------------------------

    def decide(self, request: Request) -> Decision:
        """The seeded decision for one request (under the lock: the sequence of draws is the seed's)."""
        with self._lock:
            self.stats.requests += 1
            now = time.monotonic()
            outage = self._outage
            if outage is not None and outage.started is not None:
                if outage.gave_up is None and outage.moves_on(request):
                    outage.gave_up = now
                if outage.active(now):
                    outage.refused += 1
                    outage.retries += signature(request) == outage.signature
                    self.stats.faults["outage-503"] += 1
                    return Decision("outage")
            elif outage is not None and request.write and request.kind == outage.target:
                if outage.skip > 0:
                    outage.skip -= 1
                else:
                    return self._land(outage, request, now)
            if self._rng.random() < self.plan.rate:
                kind = self._rng.choice(self.plan.kinds)
                self.stats.faults[kind] += 1
                return Decision(kind)
            return Decision()

    def _land(self, outage: Outage, request: Request, now: float) -> Decision:
        """The outage's write: forwarded, its answer lost; the outage starts."""
        outage.started, outage.landed, outage.landed_body = now, request.name, request.body[:65536]
        outage.signature = signature(request)
        self.stats.outages.append(outage)
        self.stats.faults[f"outage-landed-{outage.target}"] += 1
        return Decision("outage-landed", outage.lose)

    def classify(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> Request:
        name = object_name(self.flavour, method, target, body)
        return Request(method, target, headers, body, name, object_kind(name, self.data_prefix))

    def forward(self, request: Request) -> tuple[int, str, list[tuple[str, str]], bytes]:
        """Send the request upstream (a connection of its own) and read the whole answer."""
        connection = http.client.HTTPConnection(*self.upstream, timeout=120)
        try:
            connection.putrequest(request.method, request.target, skip_host=True, skip_accept_encoding=True)
            for name, value in request.headers:
                if name.lower() not in ("expect", "connection", "proxy-connection", "keep-alive"):
                    connection.putheader(name, value)
            connection.endheaders(request.body or None)
            response = connection.getresponse()
            body = response.read()
            return response.status, response.reason, response.getheaders(), body
        finally:
            connection.close()

    def error_answer(self, status: int, kind: str) -> tuple[list[tuple[str, str]], bytes]:
        """A made-up error answer in the service's own shape."""
        headers = [("Retry-After", self.plan.retry_after)] if kind == "503-retry-after" else []
        if self.flavour == "s3":
            code = _S3_CODES.get(kind, "ServiceUnavailable")  # an outage: ServiceUnavailable
            body = (
                f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
                f"<Message>injected {kind}</Message><RequestId>fault-proxy</RequestId></Error>"
            ).encode()
            return [("Content-Type", "application/xml"), *headers], body
        reason = {503: "backendError", 500: "backendError", 429: "rateLimitExceeded"}[status]
        message = f"injected {kind}"
        body = (
            f'{{"error": {{"code": {status}, "message": "{message}", '
            f'"errors": [{{"message": "{message}", "domain": "global", "reason": "{reason}"}}]}}}}'
        ).encode()
        return [("Content-Type", "application/json; charset=UTF-8"), *headers], body


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    proxy: FaultProxy

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A connection reset on purpose (or a client gone) is not an error worth a traceback."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def _handle(self) -> None:
        proxy = self.server.proxy
        request = proxy.classify(self.command, self.path, list(self.headers.items()), self._body())
        decision = proxy.decide(request)
        if decision.fault == "reset-before":
            return self._reset()
        if decision.fault in ERROR_KINDS or decision.fault == "outage":
            status = int(decision.fault[:3]) if decision.fault in ERROR_KINDS else 503
            return self._answer(status, "Injected", *proxy.error_answer(status, decision.fault))
        answer = proxy.forward(request)
        if decision.fault == "reset-after" or decision.lose == "reset":
            return self._reset()
        if decision.lose == "503":
            return self._answer(503, "Injected", *proxy.error_answer(503, "outage"))
        if decision.fault == "slow":
            time.sleep(proxy.plan.slow_seconds)
        status, reason, headers, body = answer
        self._answer(status, reason, headers, body)

    def _body(self) -> bytes:
        """The request body as sent: by Content-Length, or the raw chunks of a chunked one (relayed as is)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._raw_chunks()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _raw_chunks(self) -> bytes:
        raw = b""
        while True:
            line = self.rfile.readline()
            raw += line
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                break
            raw += self.rfile.read(size + 2)  # the chunk and its CRLF
        while True:  # trailers, then the empty line
            line = self.rfile.readline()
            raw += line
            if line in (b"\r\n", b"\n", b""):
                return raw

    def _answer(self, status: int, reason: str, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response_only(status, reason)
        length = None
        for name, value in headers:
            if name.lower() == "content-length":
                length = value
            elif name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        head = self.command == "HEAD"
        self.send_header("Content-Length", length if head and length is not None else str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _reset(self) -> None:
        """Close with RST (SO_LINGER 0): the client sees a connection reset, no answer."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()
