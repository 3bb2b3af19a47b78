"""Authentication and plan gating, as a collector meets them."""

from __future__ import annotations

import httpx

from tests.simulator._support import BASIC, FakeClock, running
from zdlogs.simulator import SimConfig, Simulator

FORBIDDEN = {
    "error": "Forbidden",
    "description": "You do not have access to this page. "
    "Please contact the account owner of this help desk for further help.",
}


def test_basic_token_auth_accepted_and_everything_else_rejected() -> None:
    with Simulator(SimConfig(audit_logs=20, tickets=5)) as sim:
        url = f"{sim.url}/api/v2/audit_logs.json"
        assert httpx.get(url, auth=BASIC).status_code == 200
        for auth in (("admin@example.com/token", "wrong"), ("admin@example.com", "sim-api-token"), None):
            response = httpx.get(url, auth=auth)
            assert response.status_code == 401
            assert response.json() == {"error": "Couldn't authenticate you"}
            assert response.headers["x-rate-limit"] == "700"
        stats = sim.stats()
        assert stats["authorized_requests"] == 1
        assert stats["by_status"] == {"200": 1, "401": 3}


def test_static_bearer_token() -> None:
    with Simulator(SimConfig(audit_logs=5, tickets=5)) as sim:
        url = f"{sim.url}/api/v2/audit_logs"
        good = httpx.get(url, headers={"Authorization": "Bearer sim-bearer-token"})
        bad = httpx.get(url, headers={"Authorization": "Bearer nope"})
        assert (good.status_code, bad.status_code) == (200, 401)


def test_oauth_client_credentials_token_works_until_it_expires() -> None:
    clock = FakeClock()
    config = SimConfig(audit_logs=5, tickets=5, oauth_token_ttl=30, clock=clock)
    with Simulator(config) as sim:
        issued = httpx.post(
            f"{sim.url}/oauth/tokens",
            json={
                "grant_type": "client_credentials",
                "client_id": "zdlogs-sim",
                "client_secret": "sim-client-secret",
                "scope": "auditlogs:read read",
            },
        )
        assert issued.status_code == 200
        body = issued.json()
        assert body["token_type"] == "bearer"
        assert body["scope"] == "auditlogs:read read"
        assert body["expires_in"] == 30
        bearer = {"Authorization": f"Bearer {body['access_token']}"}
        assert httpx.get(f"{sim.url}/api/v2/audit_logs", headers=bearer).status_code == 200
        clock.advance(29)
        assert httpx.get(f"{sim.url}/api/v2/audit_logs", headers=bearer).status_code == 200
        clock.advance(1)
        expired = httpx.get(f"{sim.url}/api/v2/audit_logs", headers=bearer)
        assert expired.status_code == 401
        assert expired.json() == {"error": "Couldn't authenticate you"}


def test_oauth_form_body_requested_ttl_and_errors() -> None:
    with Simulator(SimConfig(audit_logs=5, tickets=5)) as sim:
        token_url = f"{sim.url}/oauth/tokens"
        form = {"grant_type": "client_credentials", "client_id": "zdlogs-sim", "client_secret": "sim-client-secret"}
        issued = httpx.post(token_url, data={**form, "expires_in": "120"})
        assert issued.status_code == 200
        assert issued.json()["expires_in"] == 120
        assert issued.json()["scope"] == "read"
        via_basic = httpx.post(
            token_url, data={"grant_type": "client_credentials"}, auth=("zdlogs-sim", "sim-client-secret")
        )
        assert via_basic.status_code == 200
        bad_client = httpx.post(token_url, json={**form, "client_secret": "guess"})
        assert bad_client.status_code == 401
        assert bad_client.json() == {"error": "invalid_client", "error_description": "Client authentication failed."}
        bad_grant = httpx.post(token_url, json={**form, "grant_type": "password"})
        assert bad_grant.status_code == 400
        assert bad_grant.json() == {"error": "unsupported_grant_type"}


def test_non_enterprise_plan_gets_403_on_audit_logs_only() -> None:
    with running(SimConfig(audit_logs=5, tickets=5, plan="professional", recent_exclusion_seconds=0)) as (_, c):
        record_id = 17_004_210_000_001
        for response in (
            c.get("/api/v2/audit_logs", params={"page[size]": 10}),
            c.get(f"/api/v2/audit_logs/{record_id}.json"),
            c.post("/api/v2/audit_logs/export"),
        ):
            assert response.status_code == 403
            assert response.json() == FORBIDDEN
        assert c.get("/api/v2/incremental/tickets/cursor", params={"start_time": 0}).status_code == 200


def test_unknown_path_is_json_404_with_zendesk_headers() -> None:
    with running(SimConfig(audit_logs=5, tickets=5)) as (_, client):
        response = client.get("/api/v2/nothing_here.json")
        assert response.status_code == 404
        assert response.json()["error"] == "InvalidEndpoint"
        assert response.headers["Zendesk-Api-Version"] == "2022-01-01"
        assert response.headers["x-request-id"]


def test_an_oauth_token_without_the_scope_a_path_needs_is_refused_with_403() -> None:
    with Simulator(SimConfig(audit_logs=5, tickets=5)) as sim:
        issued = httpx.post(
            f"{sim.url}/oauth/tokens",
            json={
                "grant_type": "client_credentials",
                "client_id": "zdlogs-sim",
                "client_secret": "sim-client-secret",
                "scope": "tickets:read",
            },
        )
        bearer = {"Authorization": f"Bearer {issued.json()['access_token']}"}
        audit = httpx.get(f"{sim.url}/api/v2/audit_logs", headers=bearer)
        tickets = httpx.get(f"{sim.url}/api/v2/incremental/tickets/cursor.json?start_time=1", headers=bearer)
        me = httpx.get(f"{sim.url}/api/v2/users/me.json", headers=bearer)
    assert (audit.status_code, tickets.status_code, me.status_code) == (403, 200, 200)
    assert audit.json()["error"] == "Forbidden"
