"""Configuration objects of the simulator.

They live apart from the server so that the collector's tests (and the CLI) can build a
configuration without importing any HTTP machinery, and so that every knob that changes
behaviour is visible in one place.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from zdlogs.simulator._clock import ScaledClock

RETRY_AFTER_FORMS = ("seconds", "http-date", "mixed")
PROFILES = ("default", "detections")  # what the history holds: see `_profiles`
DETECTIONS_MINIMUM = {"history_days": 20, "audit_logs": 100, "access_logs": 100}


class SimConfigError(ValueError):
    """A SimConfig field out of its range; ``field`` lets the CLI name its own flag for it."""

    def __init__(self, field: str, rule: str, value: object) -> None:
        super().__init__(f"{field} must be {rule}, got {value}")
        self.field, self.rule, self.value = field, rule, value


@dataclass
class FaultConfig:
    """Share of /api/v2 responses that go wrong, and how.

    error_rate, reset_rate, truncate_rate and rate_limit_rate are mutually exclusive
    outcomes of one draw per request (so their sum must stay <= 1); slow_rate is drawn
    independently because a slow response can still be a good one.
    """

    error_rate: float = 0.0
    reset_rate: float = 0.0
    truncate_rate: float = 0.0
    slow_rate: float = 0.0
    slow_seconds: float = 0.0
    rate_limit_rate: float = 0.0
    retry_after: str = "seconds"
    retry_after_seconds: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        rates = {
            "error_rate": self.error_rate,
            "reset_rate": self.reset_rate,
            "truncate_rate": self.truncate_rate,
            "slow_rate": self.slow_rate,
            "rate_limit_rate": self.rate_limit_rate,
        }
        for name, value in rates.items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {value}")
        exclusive = self.error_rate + self.reset_rate + self.truncate_rate + self.rate_limit_rate
        if exclusive > 1.0 + 1e-9:
            raise ValueError("error_rate + reset_rate + truncate_rate + rate_limit_rate must be <= 1")
        if self.retry_after not in RETRY_AFTER_FORMS:
            raise ValueError(f"retry_after must be one of {RETRY_AFTER_FORMS}, got {self.retry_after!r}")
        if self.slow_seconds < 0 or self.retry_after_seconds < 0:
            raise ValueError("slow_seconds and retry_after_seconds must be >= 0")


@dataclass
class SimConfig:
    """Everything that shapes the fake account: its data, credentials, limits and faults.

    `clock` returns epoch seconds; tests pass a frozen or hand-advanced clock to make the
    generated history reproducible and to step over token expiry or the recent-minute
    exclusion without sleeping. `time_scale` > 1 (with the default clock) makes simulated time
    run that many times faster (see `_clock.ScaledClock`): the clock becomes a ScaledClock, so
    rate windows, Retry-After and injected latency are all in simulated seconds. Plans and their
    limits: `plan_config` in `_plans`.

    `users` counts the staff (the generator's admins and agents, always present) and end users;
    `access_logs_addon` is the Advanced Data Privacy and Protection add-on that the access log
    needs. `users_cursor_limit` and `access_logs_limit` are those endpoints' own limits per
    rate window (Zendesk: 20 and 50 per minute).

    `profile` chooses the history: "default" is the analysts' account (off-hours changes, token
    creations, a compromised admin's night); "detections" is a history benign to every detection rule
    with exactly one planted incident per rule, its record ids given by `Simulator.planted()`. The
    detections profile needs 20 days of history (its new-IP incident, on the last workday, needs a 14-day baseline).
    """

    seed: int = 42
    audit_logs: int = 500
    tickets: int = 200
    access_logs: int = 300
    users: int = 120
    organizations: int = 30
    history_days: float = 30
    plan: str = "enterprise"
    email: str = "admin@example.com"
    api_token: str = "sim-api-token"
    bearer_token: str = "sim-bearer-token"
    client_id: str = "zdlogs-sim"
    client_secret: str = "sim-client-secret"
    oauth_token_ttl: int = 1800
    account_limit: int = 700
    incremental_limit: int = 10
    users_cursor_limit: int = 20
    access_logs_limit: int = 50
    access_logs_addon: bool = True
    rate_window_seconds: float = 60
    recent_exclusion_seconds: int = 60
    link_base_url: str | None = None
    append_interval: float = 0.0
    append_batch: int = 3
    faults: FaultConfig = field(default_factory=FaultConfig)
    clock: Callable[[], float] = time.time
    time_scale: float = 1.0
    profile: str = "default"

    def __post_init__(self) -> None:
        self._check_ranges()
        if self.time_scale != 1.0 and self.clock is time.time:
            self.clock = ScaledClock(self.time_scale)
        if self.link_base_url is not None:
            self.link_base_url = self.link_base_url.rstrip("/")

    def _check_ranges(self) -> None:
        """Refuse a value that would make the account impossible or silently different (a limit of 0 answers
        429 forever, a negative interval never appends): raises SimConfigError naming the field."""
        at_least = {"audit_logs": 0, "tickets": 0, "access_logs": 0, "users": 0, "organizations": 0}
        at_least |= {"recent_exclusion_seconds": 0, "append_interval": 0, "account_limit": 1, "incremental_limit": 1}
        for name, low in at_least.items():
            if getattr(self, name) < low:
                raise SimConfigError(name, f">= {low}", getattr(self, name))
        for name in ("history_days", "rate_window_seconds", "time_scale"):
            if getattr(self, name) <= 0:
                raise SimConfigError(name, "> 0", getattr(self, name))
        self._check_profile()

    def _check_profile(self) -> None:
        """An unknown profile, or a detections history too small to hold its incidents and their baseline."""
        if self.profile not in PROFILES:
            raise SimConfigError("profile", f"one of {', '.join(PROFILES)}", self.profile)
        if self.profile == "detections":
            for name, low in DETECTIONS_MINIMUM.items():
                if getattr(self, name) < low:
                    raise SimConfigError(name, f">= {low} with the detections profile", getattr(self, name))
