"""A fake Zendesk (audit logs, access logs, incremental exports, OAuth) over real HTTP on localhost.

Seeded and deterministic, with Zendesk's pagination quirks, rate limits and injectable
faults, so the collector can be tested end to end without an Enterprise account::

    with Simulator(SimConfig(seed=7, audit_logs=2000)) as sim:
        collect(sim.url)
        assert collected == sim.truth()["audit_logs"]

Endpoints and the quirks each one reproduces (details in the endpoint modules):

* ``GET /api/v2/audit_logs`` (``_audit_api``): newest first unless ``sort=created_at``;
  ``page[size]`` above 100 rejected; ``meta.after_cursor`` set on the last page; Enterprise only.
* ``GET /api/v2/access_logs`` (``_access_api``): needs ``access_logs_addon`` (ADPP), else a
  JSON:API 403; every error is JSON:API (``{"errors": [{"detail", "title"}]}``); its own
  ``access_logs_limit`` (50/min) outside the account budget, no ``x-rate-limit``/``ratelimit-*``
  headers on success, and a 429 without Retry-After whose ``ratelimit-reset`` is an RFC 3339
  date-time; 90-day retention; ULID string ids sorting by time, several per second;
  ``page[size]`` default 1000, max 2500; ascending unless ``sort=-created_at``; ``page[after]``
  and its documented synonym ``filter[after]``; ``filter[start]``/``filter[end]`` inclusive.
* ``GET /api/v2/incremental/tickets/cursor`` and ``/incremental/users/cursor``
  (``_incremental_api``): ``after_cursor`` present even with ``end_of_stream: true``; the
  recent minute hidden and a ``start_time`` inside it refused (StartTimeTooRecent); an
  updated record moves to the end of the stream; 10/min for the incremental family, and the
  users export also has its own ``users_cursor_limit`` (20/min) announced in
  ``Zendesk-RateLimit-incremental-exports-cursor``.
* ``GET /api/v2/incremental/ticket_events`` and ``/incremental/organizations``
  (``_time_export``): time-based; ``next_page`` never null and restarting at ``end_time``
  inclusive, so the boundary second is sent twice; a page runs to the end of its last second
  past ``per_page`` (and a second crowded beyond ``per_page`` fills a page alone, which a
  naive walk asks for forever); ``end_of_stream`` when a page is short. Events come from the
  ticket history (a creation or an update each); comments appear as ``comment_present``/
  ``comment_public`` children unless ``include=comment_events``.

``/_sim/*`` (``_control``) lets a test in another process append activity and read the truth.

``SimulatorFleet(fleet_configs(base, n))`` (``_fleet``) serves n such accounts from one process, one port
each, with their own seeds and credentials, and writes the fleet config that collects them all.
"""

from zdlogs.simulator._clock import ScaledClock
from zdlogs.simulator._config import FaultConfig, SimConfig, SimConfigError
from zdlogs.simulator._fleet import SimulatorFleet, fleet_configs, lookback_seconds, tenant_names
from zdlogs.simulator._plans import PLAN_LIMITS, plan_config, plan_limits
from zdlogs.simulator._simulator import Simulator

__all__ = [
    "PLAN_LIMITS",
    "FaultConfig",
    "ScaledClock",
    "SimConfig",
    "SimConfigError",
    "Simulator",
    "SimulatorFleet",
    "fleet_configs",
    "lookback_seconds",
    "plan_config",
    "plan_limits",
    "tenant_names",
]
