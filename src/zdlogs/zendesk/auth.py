"""Authentication against Zendesk, as ``httpx.Auth`` flows so secrets stay out of every other module.

Three modes, chosen by ``AUTH_MODE``:

* ``token``  — ``Authorization: Basic base64("{email}/token:{api_token}")``, as the original function.
  Zendesk is retiring API tokens: no new tokens since 2026-10-27, every token stops working on
  2027-04-30, and tokens unused for 30 days are deactivated
  (https://developer.zendesk.com/documentation/api-basics/authentication/oauth-migration/).
* ``bearer`` — a pre-issued OAuth access token.
* ``oauth``  — the client-credentials grant: ``POST {base}/oauth/tokens`` with JSON
  ``{"grant_type": "client_credentials", "client_id", "client_secret", "scope"}`` answered by
  ``{"access_token", "token_type": "bearer", "scope", "expires_in"}``
  (https://developer.zendesk.com/api-reference/ticketing/oauth/grant_type_tokens/; client-credentials
  is for confidential clients only). ``auditlogs:read`` is the least-privilege scope for the audit log
  (https://developer.zendesk.com/api-reference/ticketing/tickets/ticket_audits/ names it).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Generator

import httpx
import orjson
import structlog

from zdlogs.config import Settings, env_name
from zdlogs.errors import AuthError, ConfigError

log = structlog.get_logger("zdlogs.auth")

TOKEN_RETIREMENT = "2027-04-30"
_warned_token_mode = False


class TokenAuth(httpx.Auth):
    """API-token Basic auth (``email/token:api_token``)."""

    def __init__(self, email: str, api_token: str):
        raw = f"{email}/token:{api_token}".encode()
        self._header = "Basic " + base64.b64encode(raw).decode("ascii")
        self._email = email

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request

    def __repr__(self) -> str:
        return f"TokenAuth(email={self._email!r}, api_token=[secure])"


class BearerAuth(httpx.Auth):
    """A pre-issued OAuth access token."""

    def __init__(self, token: str):
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request

    def __repr__(self) -> str:
        return "BearerAuth(token=[secure])"


class ClientCredentialsAuth(httpx.Auth):
    """OAuth client-credentials: fetch a token, reuse it until shortly before expiry, refresh once on 401."""

    requires_response_body = True

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        scopes: str,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._token_url = f"{base_url}/oauth/tokens"
        self._client_id = client_id
        self._client_secret = client_secret
        self._scopes = scopes
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._token is None or self._clock() >= self._expires_at:
            yield from self._refresh()
        request.headers["Authorization"] = f"Bearer {self._token}"
        response = yield request
        if response.status_code == 401:
            yield from self._refresh()
            request.headers["Authorization"] = f"Bearer {self._token}"
            yield request

    def _refresh(self) -> Generator[httpx.Request, httpx.Response, None]:
        body = {
            "grant_type": "client_credentials",
            "client_id": self._client_id,
            "client_secret": self._client_secret,
            "scope": self._scopes,
        }
        response = yield httpx.Request("POST", self._token_url, json=body)
        self._token, lifetime = _read_token(response)
        # Refresh a minute early (or at 80% of a short lifetime) so a page never meets an expired token.
        self._expires_at = self._clock() + max(lifetime - 60, lifetime * 0.8)
        log.info("oauth_token_issued", expires_in=lifetime)

    def __repr__(self) -> str:
        return f"ClientCredentialsAuth(client_id={self._client_id!r}, client_secret=[secure])"


def _read_token(response: httpx.Response) -> tuple[str, float]:
    if response.status_code in (400, 401, 403):
        raise AuthError(
            f"Zendesk refused the OAuth client credentials (HTTP {response.status_code}): check "
            f"{env_name('client_id')} / {env_name('client_secret')} and that the OAuth client is 'confidential'"
        )
    try:
        payload = orjson.loads(response.content)
        return str(payload["access_token"]), float(payload.get("expires_in") or 3600)
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        raise AuthError(
            f"the OAuth token endpoint answered HTTP {response.status_code} without an access_token: "
            f"check {env_name('base_url')} points at your Zendesk"
        ) from None


def make_auth(settings: Settings) -> httpx.Auth:
    """The auth flow for ``settings.auth_mode``; warns once that API tokens are being retired."""
    if settings.auth_mode == "bearer":
        return BearerAuth(settings.bearer_token.get_secret_value())
    if settings.auth_mode == "oauth":
        return ClientCredentialsAuth(
            settings.base_url,
            settings.client_id,
            settings.client_secret.get_secret_value(),
            settings.oauth_scopes,
        )
    if settings.auth_mode == "token":
        _warn_token_retirement()
        return TokenAuth(settings.email, settings.api_token.get_secret_value())
    raise ConfigError(f"{env_name('auth_mode')}={settings.auth_mode!r} is unknown: use token, bearer or oauth")


def rejected_credentials_hint(settings: Settings) -> str:
    """What to check when Zendesk answers 401 in the auth mode in use: the settings of that mode only, and the
    mistakes that earn a bare 401 (a revoked token, token access switched off)."""
    if settings.auth_mode == "bearer":
        return f"check {env_name('bearer_token')}: the access token may have expired or been revoked"
    if settings.auth_mode == "oauth":
        client = f"{env_name('client_id')}={settings.client_id}"
        return f"check that the OAuth client ({client}) is still active and allowed {env_name('oauth_scopes')}"
    return (
        f"check {env_name('email')} (an admin's e-mail address) and {env_name('api_token')}, and that token "
        "access is on (Admin Center > Apps and integrations > Zendesk API)"
    )


def _warn_token_retirement() -> None:
    global _warned_token_mode
    if not _warned_token_mode:
        _warned_token_mode = True
        log.warning(
            "api_token_retirement",
            message=f"Zendesk API tokens stop working on {TOKEN_RETIREMENT}; switch to "
            f"{env_name('auth_mode')}=oauth ({env_name('client_id')}, {env_name('client_secret')})",
        )
