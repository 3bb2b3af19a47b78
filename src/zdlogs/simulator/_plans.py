"""Zendesk's plans as the simulator plays them: the account-wide request limit, and who sees the audit log.

Support API limits per plan (requests per minute, account-wide, shared by every app and integration):
Team 200, Professional 400, Enterprise 700, Enterprise Plus 2500. Incremental exports have their own
10 requests/minute (30 with the High Volume add-on), on every plan. The audit log is Enterprise-only;
Enterprise Plus includes it. Source: developer.zendesk.com, "Rate limits" (research §rate limits).
"""

from __future__ import annotations

from typing import Any

from zdlogs.simulator._config import SimConfig

PLAN_LIMITS = {"team": 200, "professional": 400, "enterprise": 700, "enterprise_plus": 2500}
INCREMENTAL_LIMIT = 10
HIGH_VOLUME_INCREMENTAL_LIMIT = 30
AUDIT_LOG_PLANS = ("enterprise", "enterprise_plus")


def plan_limits(plan: str) -> tuple[int, int]:
    """(account requests/minute, incremental-export requests/minute) of a plan; ValueError names the choices."""
    try:
        return PLAN_LIMITS[plan], INCREMENTAL_LIMIT
    except KeyError:
        raise ValueError(f"unknown plan {plan!r}: choose from {', '.join(PLAN_LIMITS)}") from None


def plan_config(plan: str, **overrides: Any) -> SimConfig:
    """A SimConfig playing ``plan``'s limits; any other SimConfig field may be given too."""
    account_limit, incremental_limit = plan_limits(plan)
    values: dict[str, Any] = {"plan": plan, "account_limit": account_limit, "incremental_limit": incremental_limit}
    values.update(overrides)
    return SimConfig(**values)


def has_audit_log(plan: str) -> bool:
    return plan in AUDIT_LOG_PLANS
