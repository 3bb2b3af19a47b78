"""The three auth flows as httpx sees them, over httpx.MockTransport: which header each request carries,
when the OAuth token is fetched again, and that no secret shows in a repr or an error message."""

from __future__ import annotations

import base64

import httpx
import orjson
import pytest

from tests.conftest import CANARY_EMAIL, CANARY_TOKEN, make_settings
from zdlogs.errors import AuthError, ConfigError
from zdlogs.zendesk.auth import BearerAuth, ClientCredentialsAuth, TokenAuth, make_auth, rejected_credentials_hint

BASE = "https://acme.zendesk.com"
SECRET = "client-secret-9d8c7b6a"


def test_token_auth_is_basic_email_slash_token() -> None:
    seen: list[httpx.Request] = []
    with httpx.Client(auth=TokenAuth(CANARY_EMAIL, CANARY_TOKEN), transport=_answering(seen)) as client:
        client.get(f"{BASE}/api/v2/x")
    expected = base64.b64encode(f"{CANARY_EMAIL}/token:{CANARY_TOKEN}".encode()).decode()
    assert seen[0].headers["Authorization"] == f"Basic {expected}"
    assert CANARY_TOKEN not in repr(TokenAuth(CANARY_EMAIL, CANARY_TOKEN))


def test_bearer_auth_sends_the_token_as_is() -> None:
    seen: list[httpx.Request] = []
    with httpx.Client(auth=BearerAuth("pre-issued-token"), transport=_answering(seen)) as client:
        client.get(f"{BASE}/api/v2/x")
    assert seen[0].headers["Authorization"] == "Bearer pre-issued-token"
    assert "pre-issued-token" not in repr(BearerAuth("pre-issued-token"))


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class TokenServer:
    """``POST /oauth/tokens`` issues ``token-1``, ``token-2``...; the API answers 401 to a token it revoked."""

    def __init__(self, expires_in: int = 7200, revoked: tuple[str, ...] = ()) -> None:
        self.expires_in, self.revoked = expires_in, set(revoked)
        self.grants: list[dict] = []
        self.api_tokens: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/tokens":
            self.grants.append(orjson.loads(request.content))
            token = f"token-{len(self.grants)}"
            return httpx.Response(
                200, json={"access_token": token, "token_type": "bearer", "expires_in": self.expires_in}
            )
        token = request.headers["Authorization"].removeprefix("Bearer ")
        self.api_tokens.append(token)
        return httpx.Response(401 if token in self.revoked else 200, json={})


def oauth_client(server: TokenServer, clock: FakeClock) -> httpx.Client:
    auth = ClientCredentialsAuth(BASE, "zdlogs", SECRET, "read auditlogs:read", clock=clock)
    return httpx.Client(auth=auth, transport=httpx.MockTransport(server))


def test_oauth_fetches_one_token_and_reuses_it_until_a_minute_before_expiry() -> None:
    server, clock = TokenServer(expires_in=7200), FakeClock()
    with oauth_client(server, clock) as client:
        client.get(f"{BASE}/api/v2/x")
        clock.now = 7200 - 61
        client.get(f"{BASE}/api/v2/x")
        clock.now = 7200 - 60
        client.get(f"{BASE}/api/v2/x")
    assert server.api_tokens == ["token-1", "token-1", "token-2"]
    assert server.grants[0] == {
        "grant_type": "client_credentials",
        "client_id": "zdlogs",
        "client_secret": SECRET,
        "scope": "read auditlogs:read",
    }


def test_a_short_lifetime_is_refreshed_at_80_percent() -> None:
    server, clock = TokenServer(expires_in=50), FakeClock()
    with oauth_client(server, clock) as client:
        client.get(f"{BASE}/api/v2/x")
        clock.now = 39.9
        client.get(f"{BASE}/api/v2/x")
        clock.now = 40
        client.get(f"{BASE}/api/v2/x")
    assert server.api_tokens == ["token-1", "token-1", "token-2"]


def test_oauth_refreshes_once_on_a_401() -> None:
    server = TokenServer(revoked=("token-1",))
    with oauth_client(server, FakeClock()) as client:
        assert client.get(f"{BASE}/api/v2/x").status_code == 200
    assert server.api_tokens == ["token-1", "token-2"] and len(server.grants) == 2


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (httpx.Response(401, json={"error": "invalid_client"}), "refused the OAuth client credentials"),
        (httpx.Response(200, text="<html>login</html>"), "without an access_token"),
        (httpx.Response(200, json={"token_type": "bearer"}), "without an access_token"),
    ],
)
def test_a_refused_or_garbled_token_answer_is_an_auth_error_without_the_secret(
    answer: httpx.Response, message: str
) -> None:
    auth = ClientCredentialsAuth(BASE, "zdlogs", SECRET, "read")
    client = httpx.Client(auth=auth, transport=httpx.MockTransport(lambda _: answer))
    with client, pytest.raises(AuthError, match=message) as caught:
        client.get(f"{BASE}/api/v2/x")
    assert SECRET not in str(caught.value) and SECRET not in repr(auth)


def test_make_auth_picks_the_flow_of_auth_mode() -> None:
    assert isinstance(make_auth(make_settings(BASE)), TokenAuth)
    assert isinstance(make_auth(make_settings(BASE, auth_mode="bearer", bearer_token="b-token")), BearerAuth)
    oauth = make_settings(BASE, auth_mode="oauth", client_id="zdlogs", client_secret=SECRET)
    assert isinstance(make_auth(oauth), ClientCredentialsAuth)


def test_an_unknown_auth_mode_is_a_config_error() -> None:
    settings = make_settings(BASE).model_copy(update={"auth_mode": "kerberos"})
    with pytest.raises(ConfigError, match="use token, bearer or oauth"):
        make_auth(settings)


def _answering(seen: list[httpx.Request]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    return httpx.MockTransport(handler)


def test_the_401_hint_names_the_settings_of_each_auth_mode() -> None:
    token = rejected_credentials_hint(make_settings(BASE))
    assert "ZENDESK_EMAIL" in token and "ZENDESK_API_TOKEN" in token and "token access is on" in token
    bearer = rejected_credentials_hint(make_settings(BASE, auth_mode="bearer", bearer_token="b-token"))
    assert bearer.startswith("check ZENDESK_BEARER_TOKEN") and "b-token" not in bearer
    oauth = rejected_credentials_hint(make_settings(BASE, auth_mode="oauth", client_id="zdlogs", client_secret=SECRET))
    assert "ZENDESK_CLIENT_ID=zdlogs" in oauth and "ZENDESK_OAUTH_SCOPES" in oauth and SECRET not in oauth


def test_a_token_read_from_a_secret_file_is_sent_without_its_newline() -> None:
    seen: list[httpx.Request] = []
    settings = make_settings(BASE, email=f" {CANARY_EMAIL}", api_token=f"{CANARY_TOKEN}\n")
    with httpx.Client(auth=make_auth(settings), transport=_answering(seen)) as client:
        client.get(f"{BASE}/api/v2/audit_logs")
    expected = base64.b64encode(f"{CANARY_EMAIL}/token:{CANARY_TOKEN}".encode()).decode()
    assert seen[0].headers["Authorization"] == f"Basic {expected}"
