"""HTTP side of the simulator: the request pipeline, routing, and the socket handler.

Pipeline for /api/v2: fault draw -> authentication -> rate limit -> endpoint. Faults
come first because they stand for failures in front of Zendesk (load balancer, network)
and so do not consume the account's budget; a 401 does not either. Every other
/api/v2 response carries the rate-limit headers, except the access log's: it has its own
limit instead of the account's, no rate-limit headers, and JSON:API errors (its 401, 404,
429, and an injected 429 shaped like its own). The users cursor export passes the account
and incremental limits, then its own, and always reports the latter in its header.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import re
import socket
import socketserver
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from zdlogs.simulator import _access_api as access_api
from zdlogs.simulator import _generate as gen
from zdlogs.simulator._access_api import list_access_logs
from zdlogs.simulator._audit_api import export_audit_logs, forbidden, list_audit_logs, show_audit_log
from zdlogs.simulator._auth import UNAUTHORIZED, Authenticator
from zdlogs.simulator._config import SimConfig
from zdlogs.simulator._control import handle_control
from zdlogs.simulator._data import Account
from zdlogs.simulator._faults import FaultInjector, abort_with_reset
from zdlogs.simulator._http import Request, Response, error_response, json_response, text_response
from zdlogs.simulator._incremental_api import incremental_tickets, incremental_users
from zdlogs.simulator._ratelimit import (
    ACCOUNT_MESSAGE,
    INCREMENTAL_MESSAGE,
    ExportThrottle,
    Quota,
    RateLimiter,
    WindowCounter,
)
from zdlogs.simulator._stats import Stats
from zdlogs.simulator._tamper import Tampering
from zdlogs.simulator._time_export import incremental_organizations, incremental_ticket_events

log = logging.getLogger("zdlogs.simulator")

_AUDIT_LIST = re.compile(r"^/api/v2/audit_logs(?:\.json)?$")
_AUDIT_SHOW = re.compile(r"^/api/v2/audit_logs/(\d+)(?:\.json)?$")
_AUDIT_EXPORT = re.compile(r"^/api/v2/audit_logs/export(?:\.json)?$")
_TICKETS_CURSOR = re.compile(r"^/api/v2/incremental/tickets/cursor(?:\.json)?$")
_TICKET_EVENTS = re.compile(r"^/api/v2/incremental/ticket_events(?:\.json)?$")
_USERS_CURSOR = re.compile(r"^/api/v2/incremental/users/cursor(?:\.json)?$")
_ORGANIZATIONS = re.compile(r"^/api/v2/incremental/organizations(?:\.json)?$")
_ACCESS_LIST = re.compile(r"^/api/v2/access_logs(?:\.json)?$")
_ACCESS_ANY = re.compile(r"^/api/v2/access_logs(?:\.json$|/|$)")  # its own limit and error style
CURSOR_LIMIT_NAME = "incremental-exports-cursor"
_USERS_ME = re.compile(r"^/api/v2/users/me(?:\.json)?$")


def not_found() -> Response:
    return error_response(404, "InvalidEndpoint", "Not found")


class SimApp:
    """The fake account behind the socket: state plus the request pipeline."""

    def __init__(self, config: SimConfig, server_url: str) -> None:
        self.config = config
        self.link_base = config.link_base_url or server_url
        self.account = Account(config, self.link_base)
        self.auth = Authenticator(config)
        self.limiter = RateLimiter(config.account_limit, config.incremental_limit, config.rate_window_seconds)
        self.export_throttle = ExportThrottle()
        self.users_cursor_limiter = WindowCounter(config.users_cursor_limit, config.rate_window_seconds)
        self.access_limiter = WindowCounter(config.access_logs_limit, config.rate_window_seconds)
        self.faults = FaultInjector(config.faults)
        self.stats = Stats()
        self.tampering = Tampering()

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Response:
        parts = urlsplit(target)
        req = Request(
            method=method,
            path=parts.path,
            query=parse_qsl(parts.query, keep_blank_values=True),
            headers=headers,
            body=body,
            now=self.config.clock(),
            link_base=self.link_base,
        )
        if req.path.startswith("/_sim/"):
            return handle_control(req, self)
        self.stats.request(req.path)
        if req.path.startswith("/api/v2/"):
            response = self._api(req)
        elif req.path == "/oauth/tokens" and method == "POST":
            response = self.auth.issue(req)
        else:
            response = not_found()
        if not response.reset:
            self.stats.status(response.status)
        return response

    def _api(self, req: Request) -> Response:
        fault = self.faults.draw()
        if fault.delay > 0:
            self.stats.fault("slow")
            time.sleep(fault.delay / self.config.time_scale)  # latency is in simulated seconds
            req = dataclasses.replace(req, now=self.config.clock())
        if fault.kind is not None:
            self.stats.fault(fault.kind)
        if fault.kind == "reset":
            return Response(0, reset=True)
        access = _ACCESS_ANY.match(req.path) is not None
        if fault.kind == "error":
            response = self.faults.error_response(fault.status, req.now)
            if fault.status != 502 and not access:  # the proxy's 502 page carries no Zendesk headers
                response.headers.extend(self.limiter.peek(req.now).headers())
            return response
        if fault.kind == "rate_limit" and access:
            return access_api.rate_limited(req.now + self.faults.config.retry_after_seconds)
        if fault.kind == "rate_limit":
            response = self.faults.spurious_rate_limit(req.now)
            response.headers.extend(self.limiter.peek(req.now).headers())
            return response
        response = self.tampering.apply(req.path, self._authorized(req))
        response.truncate = fault.kind == "truncate"
        return response

    def _authorized(self, req: Request) -> Response:
        access = _ACCESS_ANY.match(req.path) is not None
        if not self.auth.is_authorized(req.headers.get("authorization"), req.now):
            if access:
                return access_api.unauthorized()
            response = error_response(401, UNAUTHORIZED)
            response.headers.extend(self.limiter.peek(req.now).headers())
            return response
        self.stats.authorized()
        if access:
            return self._access_logs(req)
        if not self.auth.allows(req.headers.get("authorization"), req.path):
            return forbidden()  # an OAuth token without the scope this path needs: Zendesk's 403
        decision = self.limiter.admit(req.now, req.path.startswith("/api/v2/incremental/"))
        cursor = self._users_cursor_quota(req, decision.allowed)
        if not decision.allowed:
            message = ACCOUNT_MESSAGE if decision.scope == "account" else INCREMENTAL_MESSAGE
            response = self._throttled(message, decision.reset_seconds, req.now)
        elif cursor is not None and not cursor.allowed:
            response = self._throttled(INCREMENTAL_MESSAGE, cursor.reset_seconds, req.now)
        else:
            response = self._route(req)
        response.headers.extend(decision.headers())
        if cursor is not None:
            response.headers.append(cursor.zendesk_header(CURSOR_LIMIT_NAME))
        return response

    def _users_cursor_quota(self, req: Request, reached: bool) -> Quota | None:
        """The users cursor export's own limit (on top of the incremental family's), or None elsewhere.

        Counted only for requests the account and incremental limits let through (`reached`).
        """
        if not _USERS_CURSOR.match(req.path):
            return None
        return self.users_cursor_limiter.admit(req.now) if reached else self.users_cursor_limiter.peek(req.now)

    def _access_logs(self, req: Request) -> Response:
        """The access log's pipeline: its own limit instead of the account's, and no rate-limit headers."""
        quota = self.access_limiter.admit(req.now)
        if not quota.allowed:
            self.stats.rate_limited()
            return access_api.rate_limited(quota.reset_at)
        if req.method == "GET" and _ACCESS_LIST.match(req.path):
            return list_access_logs(req, self.account, self.config.access_logs_addon)
        return access_api.not_found()

    def _throttled(self, message: str, reset_seconds: int, now: float) -> Response:
        self.stats.rate_limited()
        return text_response(429, message, [("Retry-After", self.faults.retry_after(reset_seconds, now))])

    def _route(self, req: Request) -> Response:
        plan, path = self.config.plan, req.path
        if req.method == "GET":
            if _AUDIT_LIST.match(path):
                return list_audit_logs(req, self.account, plan)
            if match := _AUDIT_SHOW.match(path):
                return show_audit_log(int(match.group(1)), self.account, plan)
            exclusion = self.config.recent_exclusion_seconds
            if _TICKETS_CURSOR.match(path):
                return incremental_tickets(req, self.account, exclusion)
            if _USERS_CURSOR.match(path):
                return incremental_users(req, self.account, exclusion)
            if _TICKET_EVENTS.match(path):
                return incremental_ticket_events(req, self.account, exclusion)
            if _ORGANIZATIONS.match(path):
                return incremental_organizations(req, self.account, exclusion)
            if _USERS_ME.match(path):
                return json_response(200, {"user": self._me()})
        if req.method == "POST" and _AUDIT_EXPORT.match(path):
            return export_audit_logs(req, plan, self.export_throttle, lambda s: self.faults.retry_after(s, req.now))
        return not_found()

    def _me(self) -> dict:
        """The authenticated admin, for collectors that probe credentials with /users/me."""
        owner = gen.ADMINS[0]
        return {
            "id": owner.id,
            "url": f"{self.link_base}/api/v2/users/{owner.id}.json",
            "name": owner.name,
            "email": self.config.email,
            "role": "admin",
            "active": True,
        }


# ---------------------------------------------------------------------- sockets


class _Handler(BaseHTTPRequestHandler):
    """Writes `Response`s byte-exactly, including the deliberately broken ones."""

    protocol_version = "HTTP/1.1"
    server_version = "zendesk-sim"
    sys_version = ""
    timeout = 120  # an idle keep-alive connection must not pin a thread forever
    disable_nagle_algorithm = True  # headers and body are two writes: avoid Nagle + delayed-ACK 40 ms stalls
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _serve(self) -> None:
        body = self._read_body()
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            response = self.server.app.handle(self.command, self.path, headers, body)
        except Exception:
            log.exception("simulator failed on %s %s", self.command, self.path)
            response = error_response(500, "InternalError", "simulator bug")
        if response.reset:
            self._reset()
            return
        if not self.path.startswith("/_sim/") and response.status != 502:
            response.headers.append(("x-request-id", uuid.uuid4().hex))
            response.headers.append(("Zendesk-Api-Version", "2022-01-01"))
        self._write(response)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _write(self, response: Response) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        if response.content_type:
            self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if response.truncate:
            self.wfile.write(response.body[: len(response.body) // 2])
            self.close_connection = True  # announced length never arrives
        else:
            self.wfile.write(response.body)

    def _reset(self) -> None:
        """Drop the connection with RST and no response at all."""
        abort_with_reset(self.connection)
        self.close_connection = True
        self.rfile.close()  # release the makefile() reference so close() really closes now
        self.connection.close()


class _Server(ThreadingHTTPServer):
    """Threaded server that knows its open connections, so stop() can cut keep-alives."""

    daemon_threads = True
    app: SimApp

    def __init__(self, address: tuple[str, int]) -> None:
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        """Skip HTTPServer's reverse-DNS lookup (getfqdn), which can stall on some hosts."""
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    def track(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients vanishing mid-response are routine here (they time out on slow faults)."""
        log.debug("connection error from %s", client_address, exc_info=True)


def make_server(host: str, port: int) -> _Server:
    return _Server((host, port))
