"""A local fake of the Google SecOps ingestion API, over real HTTP on 127.0.0.1, that checks what it is sent.

It serves the two endpoints a ``secops://`` output talks to:

* ``POST /token``: the OAuth token endpoint of the test service account (its ``token_uri``). It accepts
  only the grant google-auth sends for a service account key (``grant_type=urn:ietf:params:oauth:grant-
  type:jwt-bearer``, ``assertion=<JWT>``), verifies the JWT's RS256 signature with the key's public half,
  its issuer, scope and audience (google-auth sets ``aud`` to Google's token endpoint whatever the
  ``token_uri``; that or the fake's own URI is accepted), and returns ``{"access_token", "expires_in", "token_type"}``.
* ``POST /{v1alpha|v1beta}/projects/P/locations/L/instances/I/logTypes/T/logs:import``: both versions Google
  publishes the method in (googleapis ``google/cloud/chronicle/v1beta/ingestion.proto`` ``ImportLogs``, and the
  v1alpha reference), ``T`` one of :attr:`FakeSecOps.log_types` (another is a 404, as for a log type the tenant
  does not have). The ``Host`` header must be the fake's own address or one of the two host forms of its
  location, ``chronicle.L.rep.googleapis.com`` (the reference's regional endpoints) or ``L-chronicle.googleapis.com``
  (Google's samples): :meth:`FakeSecOps.transport` sends a request for either host to the fake with its ``Host``
  kept, so a test can use the real host names. It checks the documented
  request (a bearer token it issued, ``Content-Type: application/json``, a body ``Content-Encoding: gzip`` or
  plain, no larger than the limit once decoded (:data:`LIMIT`, see there),
  ``{"inlineSource": {"logs": [...], "forwarder"?}}`` with only documented fields, each log's
  ``data`` strict base64 of one JSON record on one line, RFC 3339 ``logEntryTime`` <= ``collectionTime``,
  ``environmentNamespace`` a string, ``labels`` a map of LogLabel)
  and records the accepted entries and, per call (:class:`ImportCall`), the version, host, log type and
  encoding it came with. A request that breaks the shape is answered 400 and listed in
  :attr:`FakeSecOps.violations` (tests assert it stays empty).

It fails on purpose when told to (:class:`Fault`): N answers of 429 with ``Retry-After``, 5xx, 400, 403,
a slow answer, or a connection reset, optionally after letting some requests through.

The service account is generated at test time (RSA 2048, ``cryptography``); its JSON key file, whose
``token_uri`` points at this fake, is what ``GOOGLE_APPLICATION_CREDENTIALS`` names in tests.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import io
import re
import secrets
import socket
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import jwt

PROJECT, LOCATION, INSTANCE = "zdlogs-test", "us", "0f2c4e6a-1b3d-4c5e-8f70-123456789abc"
LOG_TYPE = "ZENDESK_CRM"
SCOPE = "https://www.googleapis.com/auth/cloud-platform"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"  # google-auth's ``aud``, whatever the token_uri
# The backend's default request limit: BindPlane's chronicle exporter defaults ``batch_request_size_limit_http`` to
# 4,000,000 bytes "to match Google SecOps backend limits" and warns that above it batches may be refused
# (observIQ/bindplane-otel-collector exporter/chronicleexporter/factory.go, config.go); Google's ingestion scripts cut
# 3.95 MB for "the maximum 4MB of payload" (chronicle/ingestion-scripts common/ingest_v1.py). BindPlane measures a
# request before compressing it, so the fake applies the limit to the decoded body (and to the wire bytes too).
LIMIT = 4_000_000
VERSIONS = ("v1alpha", "v1beta")
_LOG_FIELDS = {"data", "logEntryTime", "collectionTime", "environmentNamespace", "labels", "additionals"}
_RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$")
_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND"}


@dataclass
class Fault:
    """How the import endpoint misbehaves: ``status`` 0 resets the connection; 200 with ``delay`` is a slow
    but normal answer. It starts after ``after`` import requests were let through and hits ``times``
    requests (-1: every one from then on)."""

    status: int = 503
    times: int = 1
    after: int = 0
    retry_after: str | None = None
    message: str = "injected failure"
    delay: float = 0.0


@dataclass
class ServiceAccount:
    path: Path
    email: str
    private_key_pem: str
    public_key_pem: str

    @property
    def key_material(self) -> str:
        """A stretch of the private key's base64 body: it must never appear in anything zdlogs prints."""
        return "".join(self.private_key_pem.splitlines()[1:-1])[40:120]


@dataclass
class ImportCall:
    """One request to the import endpoint: ``bytes`` as sent (compressed or not), ``decoded`` once gunzipped."""

    status: int
    logs: int
    bytes: int
    version: str = ""
    log_type: str = ""
    host: str = ""
    encoding: str = ""
    decoded: int = 0


@dataclass
class FakeSecOps:
    """A running fake; :meth:`records` are the accepted log entries' records, in arrival order."""

    host: str = "127.0.0.1"
    project: str = PROJECT
    location: str = LOCATION
    instance: str = INSTANCE
    log_type: str = LOG_TYPE
    log_types: set[str] = field(default_factory=lambda: {LOG_TYPE})
    limit: int = LIMIT
    account: ServiceAccount | None = None
    accepted: list[dict[str, Any]] = field(default_factory=list)
    calls: list[ImportCall] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    tokens_issued: list[str] = field(default_factory=list)
    refuse_grants: bool = False
    _faults: list[Fault] = field(default_factory=list)
    _valid_tokens: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    # -- control ------------------------------------------------------------------------------------

    def start(self) -> FakeSecOps:
        self._server = _Server((self.host, 0), _Handler)
        self._server.fake = self  # type: ignore[attr-defined]
        threading.Thread(target=self._server.serve_forever, name="secops-fake", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server
        return f"http://{self.host}:{self._server.server_address[1]}"

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    @property
    def output(self) -> str:
        return f"secops://{self.project}/{self.location}/{self.instance}"

    def inject(self, *faults: Fault) -> None:
        with self._lock:
            self._faults.extend(faults)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def revoke_tokens(self) -> None:
        """Tokens already issued stop working (answered 401), as after a key rotation."""
        with self._lock:
            self._valid_tokens.clear()

    def records(self, log_type: str | None = None) -> list[dict[str, Any]]:
        """The accepted records, in arrival order (only those imported under ``log_type`` if given)."""
        with self._lock:
            return [item["record"] for item in self.accepted if log_type in (None, item.get("log_type"))]

    def transport(self) -> httpx.HTTPTransport:
        """An httpx transport that sends every request to this fake, whatever its URL's host and scheme, with the
        ``Host`` header of the URL kept: a client can use ``https://chronicle.us.rep.googleapis.com`` and reach it."""
        assert self._server
        return _ToFake(self.host, self._server.server_address[1])

    def hosts(self) -> set[str]:
        """The Host headers the import requests came with."""
        with self._lock:
            return {call.host for call in self.calls}

    def tags(self) -> list[tuple[str, dict[str, Any]]]:
        """Each accepted entry's namespace and labels, as sent."""
        with self._lock:
            return [(item["namespace"], item["labels"]) for item in self.accepted]

    def accepted_calls(self) -> list[ImportCall]:
        with self._lock:
            return [call for call in self.calls if call.status == 200]

    # -- the token endpoint -------------------------------------------------------------------------

    def grant(self, body: bytes) -> tuple[int, dict[str, Any]]:
        form = {name: values[0] for name, values in parse_qs(body.decode()).items()}
        if form.get("grant_type") != JWT_BEARER or "assertion" not in form:
            return 400, {"error": "unsupported_grant_type", "error_description": "expected the JWT bearer grant"}
        assert self.account
        try:
            claims = jwt.decode(
                form["assertion"], certs=self.account.public_key_pem, audience=[GOOGLE_TOKEN_AUDIENCE, self.token_uri]
            )
        except ValueError as exc:
            return 400, {"error": "invalid_grant", "error_description": f"Invalid JWT: {exc}"}
        if claims.get("iss") != self.account.email or SCOPE not in str(claims.get("scope", "")).split():
            return 400, {"error": "invalid_scope", "error_description": "wrong issuer or scope"}
        if self.refuse_grants:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        token = "ya29.fake-" + secrets.token_urlsafe(24)
        with self._lock:
            self._valid_tokens.add(token)
            self.tokens_issued.append(token)
        return 200, {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}

    # -- the import endpoint ------------------------------------------------------------------------

    def next_fault(self) -> Fault | None:
        with self._lock:
            if not self._faults:
                return None
            fault = self._faults[0]
            if fault.after > 0:
                fault.after -= 1
                return None
            if fault.times > 0:
                fault.times -= 1
                if fault.times == 0:
                    self._faults.pop(0)
            return fault

    def check_import(self, path: str, headers: Any, body: bytes) -> tuple[int, str, list[dict[str, Any]]]:
        """(status, message, entries): 200 with the decoded entries, or the error Google would give."""
        if self._route(path) is None:
            return 404, f"Resource not found: {path}", []
        if not self._known_host(headers.get("Host", "")):
            with self._lock:
                self.violations.append(f"Host {headers.get('Host')!r} is not a Chronicle host of {self.location}")
            return 404, f"Unknown host {headers.get('Host')}", []
        auth = headers.get("Authorization", "")
        with self._lock:
            known = auth.startswith("Bearer ") and auth.removeprefix("Bearer ") in self._valid_tokens
        if not known:
            return 401, "Request had invalid authentication credentials.", []
        problem, entries = self._shape(headers, body)
        if problem:
            with self._lock:
                self.violations.append(problem)
            return 400, problem, []
        return 200, "", entries

    def _route(self, path: str) -> tuple[str, str] | None:
        """(version, log type) of an import path under this instance, or None."""
        parent = f"projects/{self.project}/locations/{self.location}/instances/{self.instance}"
        found = re.fullmatch(rf"/(v1alpha|v1beta)/{re.escape(parent)}/logTypes/([A-Z0-9_]+)/logs:import", path)
        if not found or found.group(2) not in self.log_types:
            return None
        return found.group(1), found.group(2)

    def _known_host(self, host: str) -> bool:
        """The fake's own address, or one of the location's two Chronicle host forms (any port)."""
        name = host.rsplit(":", 1)[0] if not host.startswith("[") else host
        forms = {f"chronicle.{self.location}.rep.googleapis.com", f"{self.location}-chronicle.googleapis.com"}
        return name in forms | {self.host, "localhost"}

    def _shape(self, headers: Any, body: bytes) -> tuple[str, list[dict[str, Any]]]:
        if headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            return "Content-Type is not application/json", []
        if len(body) > self.limit:
            return f"Request payload size exceeds the limit: {len(body)} > {self.limit} bytes", []
        problem, body = _decoded(headers.get("Content-Encoding", ""), body, self.limit)
        if problem:
            return problem, []
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError:
            return "body is not JSON", []
        if not isinstance(doc, dict) or set(doc) - {"hint", "inlineSource"} or "inlineSource" not in doc:
            return f"unknown or missing top-level fields: {sorted(doc) if isinstance(doc, dict) else doc!r}", []
        source = doc["inlineSource"]
        if not isinstance(source, dict) or set(source) - {"logs", "forwarder", "sourceFilename"}:
            return "inlineSource has unknown fields", []
        forwarder = source.get("forwarder")
        parent = f"projects/{self.project}/locations/{self.location}/instances/{self.instance}"
        if forwarder is not None and not re.fullmatch(re.escape(parent) + r"/forwarders/[^/]+", str(forwarder)):
            return f"forwarder {forwarder!r} is not a forwarder of {parent}", []
        logs = source.get("logs")
        if not isinstance(logs, list) or not logs:
            return "inlineSource.logs is missing or empty", []
        entries = []
        for index, item in enumerate(logs):
            problem, entry = _check_log(item)
            if problem:
                return f"logs[{index}]: {problem}", []
            entries.append(entry | {"forwarder": forwarder})
        return "", entries

    def record(self, status: int, path: str, headers: Any, body: bytes, entries: list[dict[str, Any]]) -> None:
        version, log_type = self._route(path) or ("", "")
        encoding = headers.get("Content-Encoding", "")
        _, decoded = _decoded(encoding, body, self.limit)
        call = ImportCall(
            status=status,
            logs=len(entries),
            bytes=len(body),
            version=version,
            log_type=log_type,
            host=headers.get("Host", ""),
            encoding=encoding,
            decoded=len(decoded),
        )
        with self._lock:
            self.calls.append(call)
            self.accepted.extend(entry | {"log_type": log_type, "version": version} for entry in entries)


def _decoded(encoding: str, body: bytes, limit: int) -> tuple[str, bytes]:
    """The body as JSON bytes: gunzipped for ``Content-Encoding: gzip`` (no larger than ``limit`` once decoded: a
    small compressed body may expand past it), as it is without an encoding; any other encoding is refused."""
    if encoding in ("", "identity"):
        return "", body
    if encoding != "gzip":
        return f"Content-Encoding {encoding!r} is not supported (gzip or none)", b""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(body)) as stream:
            decoded = stream.read(limit + 1)
    except (OSError, EOFError, zlib.error):
        return "Content-Encoding gzip but the body is not valid gzip", b""
    if len(decoded) > limit:
        return f"Request payload size exceeds the limit: more than {limit} bytes once decompressed", b""
    return "", decoded


def _check_log(item: Any) -> tuple[str, dict[str, Any]]:
    if not isinstance(item, dict):
        return "not an object", {}
    if set(item) - _LOG_FIELDS:
        return f"unknown fields {sorted(set(item) - _LOG_FIELDS)}", {}
    missing = {"data", "logEntryTime", "collectionTime"} - set(item)
    if missing:
        return f"missing {sorted(missing)}", {}
    try:
        raw = base64.b64decode(item["data"], validate=True)
    except (binascii.Error, TypeError, ValueError):
        return "data is not base64", {}
    if b"\n" in raw:
        return "data holds more than one line", {}
    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return "data is not one JSON record", {}
    if not isinstance(record, dict):
        return "data is not a JSON object", {}
    times = []
    for name in ("logEntryTime", "collectionTime"):
        value = item[name]
        if not isinstance(value, str) or not _RFC3339.match(value):
            return f"{name} {value!r} is not RFC 3339", {}
        times.append(datetime.fromisoformat(value.replace("Z", "+00:00")))
    if times[1] < times[0]:
        return "collectionTime is before logEntryTime", {}
    problem = _tags_problem(item)
    if problem:
        return problem, {}
    times_of = {"log_entry_time": item["logEntryTime"], "collection_time": item["collectionTime"]}
    tags = {"namespace": item.get("environmentNamespace", ""), "labels": item.get("labels", {})}
    return "", {"record": record, **times_of, **tags}


def _tags_problem(item: dict[str, Any]) -> str:
    """``environmentNamespace`` a string; ``labels`` a map of LogLabel ``{"value": str, "rbacEnabled": bool}``."""
    if not isinstance(item.get("environmentNamespace", ""), str):
        return "environmentNamespace is not a string"
    labels = item.get("labels", {})
    if not isinstance(labels, dict):
        return "labels is not a map"
    for key, label in labels.items():
        if (
            not isinstance(label, dict)
            or set(label) - {"value", "rbacEnabled"}
            or not isinstance(label.get("value"), str)
        ):
            return f"labels.{key} is not a LogLabel {{'value': string}}"
    return ""


class _ToFake(httpx.HTTPTransport):
    """Every request sent to the fake's address, its Host header (that of the URL it was made for) unchanged."""

    def __init__(self, host: str, port: int):
        super().__init__()
        self._host, self._port = host, port

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(scheme="http", host=self._host, port=self._port)
        return super().handle_request(request)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A connection reset on purpose is not an error worth a traceback."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: avoid Nagle + delayed-ACK 40 ms stalls
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        fake: FakeSecOps = self.server.fake  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/token":
            status, payload = fake.grant(body)
            return self._answer(status, payload)
        fault = fake.next_fault() if self.path.endswith("/logs:import") else None
        if fault and fault.delay:
            time.sleep(fault.delay)
        if fault and fault.status == 0:
            return self._reset()
        if fault and fault.status != 200:
            fake.record(fault.status, self.path, self.headers, body, [])
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            return self._answer(fault.status, _error(fault.status, fault.message), headers)
        status, message, entries = fake.check_import(self.path, self.headers, body)
        fake.record(status, self.path, self.headers, body, entries)
        self._answer(status, {} if status == 200 else _error(status, message))

    def _answer(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = orjson.dumps(payload)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _reset(self) -> None:
        """Close with RST (SO_LINGER 0): the client sees a connection reset, no answer."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()


def _error(status: int, message: str) -> dict[str, Any]:
    return {"error": {"code": status, "message": message, "status": _STATUS.get(status, "UNAVAILABLE")}}


def make_service_account(directory: Path, token_uri: str) -> ServiceAccount:
    """A fresh RSA key and its service-account JSON key file, pointing at ``token_uri``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    email = f"zdlogs-ingest@{PROJECT}.iam.gserviceaccount.com"
    info = {
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": secrets.token_hex(20),
        "private_key": private_pem,
        "client_email": email,
        "client_id": "1" + "".join(str(secrets.randbelow(10)) for _ in range(20)),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
        "universe_domain": "googleapis.com",
    }
    path = directory / "service-account.json"
    path.write_bytes(orjson.dumps(info))
    path.chmod(0o600)
    return ServiceAccount(path=path, email=email, private_key_pem=private_pem, public_key_pem=public_pem)


@pytest.fixture
def secops_fake(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSecOps]:
    """A running fake and a service account for it, named by GOOGLE_APPLICATION_CREDENTIALS."""
    fake = FakeSecOps().start()
    fake.account = make_service_account(tmp_path_factory.mktemp("secops-sa"), fake.token_uri)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(fake.account.path))
    monkeypatch.setenv("NO_GCE_CHECK", "true")
    try:
        yield fake
    finally:
        fake.stop()
