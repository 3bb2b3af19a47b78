"""/_sim/* control endpoints, for tests that run the simulator in another process.

They need no auth and are never faulted, rate-limited or counted: they are the test's
hands and eyes, not part of the fake Zendesk.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import orjson

from zdlogs.simulator._config import FaultConfig
from zdlogs.simulator._http import ApiError, Request, Response, bad_request, error_response, json_response

if TYPE_CHECKING:
    from zdlogs.simulator._server import SimApp


def handle_control(req: Request, app: SimApp) -> Response:
    routes = {
        ("POST", "/_sim/append"): _append,
        ("GET", "/_sim/truth"): lambda r, a: json_response(200, a.account.truth()),
        ("GET", "/_sim/planted"): lambda r, a: json_response(200, a.account.planted()),
        ("GET", "/_sim/stats"): lambda r, a: json_response(200, a.stats.snapshot()),
        ("GET", "/_sim/summary"): lambda r, a: json_response(200, a.account.summary()),
        ("POST", "/_sim/faults"): _faults,
        ("POST", "/_sim/reset-stats"): _reset_stats,
    }
    handler = routes.get((req.method, req.path.removesuffix(".json")))
    if handler is None:
        return error_response(404, "InvalidEndpoint", "Not found")
    try:
        return handler(req, app)
    except ApiError as exc:
        return exc.response()


def _json_body(req: Request) -> dict:
    try:
        body = orjson.loads(req.body or b"{}")
    except orjson.JSONDecodeError:
        raise bad_request("InvalidValue", "body must be a JSON object") from None
    if not isinstance(body, dict):
        raise bad_request("InvalidValue", "body must be a JSON object")
    return body


def _count(body: dict, name: str) -> int:
    value = body.get(name, 0)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise bad_request("InvalidValue", f"{name} must be a non-negative integer")
    return value


def _epoch(body: dict) -> int | None:
    """The optional `created_at` (ISO-8601; naive means UTC) as epoch seconds."""
    if not body.get("created_at"):
        return None
    try:
        moment = datetime.fromisoformat(str(body["created_at"]))
    except ValueError:
        raise bad_request("InvalidValue", "created_at must be ISO-8601") from None
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())


def _append(req: Request, app: SimApp) -> Response:
    """Counts of new activity, each optional: {"audit_logs", "access_logs", "tickets_created",
    "tickets_updated", "users_created", "users_updated", "organizations_created",
    "organizations_updated"}, plus "created_at" (ISO, optional) for the audit and access logs.

    Ticket creations and updates also write their ticket events. Every count is validated
    before anything is added, so a 400 changes nothing.
    """
    body = _json_body(req)
    epoch = _epoch(body)
    account = app.account
    actions = {
        "audit_logs": lambda n: account.append_audit_logs(n, epoch),
        "access_logs": lambda n: account.append_access_logs(n, epoch),
        "tickets_created": account.create_tickets,
        "tickets_updated": account.update_tickets,
        "users_created": account.create_users,
        "users_updated": account.update_users,
        "organizations_created": account.create_organizations,
        "organizations_updated": account.update_organizations,
    }
    counts = {name: _count(body, name) for name in actions}
    return json_response(200, {name: action(counts[name]) for name, action in actions.items()})


def _faults(req: Request, app: SimApp) -> Response:
    """Replace the fault mix; missing fields take FaultConfig defaults (no merge)."""
    try:
        faults = FaultConfig(**_json_body(req))
    except (TypeError, ValueError) as exc:
        raise bad_request("InvalidValue", str(exc)) from None
    app.faults.configure(faults)
    return json_response(200, asdict(faults))


def _reset_stats(req: Request, app: SimApp) -> Response:
    app.stats.reset()
    return json_response(200, app.stats.snapshot())
