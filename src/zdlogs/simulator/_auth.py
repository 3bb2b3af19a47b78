"""Credentials: API-token Basic auth, static bearer tokens, and OAuth client_credentials.

Issued OAuth tokens expire after `oauth_token_ttl` on the simulator's clock, because
Zendesk now expires access tokens (30 min default) and a collector must re-authenticate
on a 401 mid-run instead of failing the whole collection.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
from urllib.parse import parse_qsl

import orjson

from zdlogs.simulator._config import SimConfig
from zdlogs.simulator._http import Request, Response, error_response, json_response

UNAUTHORIZED = "Couldn't authenticate you"
# What an OAuth token's scopes must hold for each path: the global ``read``, or the resource's own scope
# (``auditlogs:read`` is Zendesk's least-privilege scope for the audit log). Paths not listed need no scope.
SCOPES_NEEDED = (
    ("/api/v2/audit_logs", frozenset({"read", "auditlogs:read"})),
    ("/api/v2/incremental/tickets", frozenset({"read", "tickets:read"})),
    ("/api/v2/incremental/ticket_events", frozenset({"read", "tickets:read"})),
    ("/api/v2/incremental/users", frozenset({"read", "users:read"})),
    ("/api/v2/incremental/organizations", frozenset({"read", "organizations:read"})),
)


class Authenticator:
    """Checks Authorization headers and issues short-lived OAuth tokens; thread-safe."""

    def __init__(self, config: SimConfig) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._issued: dict[str, float] = {}  # token -> expiry (epoch seconds)
        self._scopes: dict[str, frozenset[str]] = {}  # issued token -> the scopes it was granted
        raw = f"{config.email}/token:{config.api_token}".encode()
        self._basic = base64.b64encode(raw).decode()

    def is_authorized(self, header: str | None, now: float) -> bool:
        if not header:
            return False
        scheme, _, value = header.strip().partition(" ")
        value = value.strip()
        if scheme.lower() == "basic":
            return self._basic_ok(value)
        if scheme.lower() == "bearer":
            return self._bearer_ok(value, now)
        return False

    def allows(self, header: str | None, path: str) -> bool:
        """Whether the (authorized) request's OAuth token was granted a scope ``path`` needs; API tokens and
        static bearer tokens carry their user's full rights, as on Zendesk."""
        needed = next((scopes for prefix, scopes in SCOPES_NEEDED if path.startswith(prefix)), None)
        token = (header or "").strip().partition(" ")[2].strip()
        with self._lock:
            granted = self._scopes.get(token)
        return needed is None or granted is None or bool(needed & granted)

    def _basic_ok(self, value: str) -> bool:
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        expected = f"{self._config.email}/token:{self._config.api_token}"
        return secrets.compare_digest(decoded, expected)

    def _bearer_ok(self, token: str, now: float) -> bool:
        if token and secrets.compare_digest(token, self._config.bearer_token):
            return True
        with self._lock:
            expiry = self._issued.get(token)
            return expiry is not None and now < expiry

    def issue(self, request: Request) -> Response:
        """POST /oauth/tokens with grant_type=client_credentials (JSON or form body)."""
        params = _token_params(request)
        if params.get("grant_type") != "client_credentials":
            return error_response(400, "unsupported_grant_type")
        client_ok = secrets.compare_digest(str(params.get("client_id", "")), self._config.client_id)
        secret_ok = secrets.compare_digest(str(params.get("client_secret", "")), self._config.client_secret)
        if not (client_ok and secret_ok):
            return json_response(401, {"error": "invalid_client", "error_description": "Client authentication failed."})
        ttl = _requested_ttl(params.get("expires_in"), self._config.oauth_token_ttl)
        token = secrets.token_hex(32)
        with self._lock:
            self._issued = {t: exp for t, exp in self._issued.items() if exp > request.now}
            self._issued[token] = request.now + ttl
            self._scopes = {t: scopes for t, scopes in self._scopes.items() if t in self._issued}
            self._scopes[token] = frozenset(str(params.get("scope") or "read").split())
        payload = {"access_token": token, "token_type": "bearer", "scope": params.get("scope") or "read"}
        payload["expires_in"] = ttl
        return json_response(200, payload)


def _token_params(request: Request) -> dict[str, object]:
    """Token requests arrive as JSON (Zendesk's docs) or as a form (RFC 6749 clients).

    Client credentials may also come in a Basic header (RFC 6749 section 2.3.1).
    """
    content_type = request.headers.get("content-type", "")
    params: dict[str, object]
    if "json" in content_type:
        try:
            parsed = orjson.loads(request.body or b"{}")
        except orjson.JSONDecodeError:
            parsed = {}
        params = parsed if isinstance(parsed, dict) else {}
    else:
        params = dict(parse_qsl(request.body.decode("utf-8", "replace")))
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic" and "client_id" not in params:
        try:
            client_id, _, secret = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return params
        params.update(client_id=client_id, client_secret=secret)
    return params


def _requested_ttl(value: object, default: int) -> int:
    """Honour a positive `expires_in`, as Zendesk's token endpoint does; else the default."""
    try:
        ttl = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return default
    return ttl if ttl > 0 else default
