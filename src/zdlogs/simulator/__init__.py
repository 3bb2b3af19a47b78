"""A fake Zendesk (audit logs, incremental ticket export, OAuth) over real HTTP on localhost.

Seeded and deterministic, with Zendesk's pagination quirks, rate limits and injectable
faults, so the collector can be tested end to end without an Enterprise account::

    with Simulator(SimConfig(seed=7, audit_logs=2000)) as sim:
        collect(sim.url)
        assert collected == sim.truth()["audit_logs"]
"""

from zdlogs.simulator._clock import ScaledClock
from zdlogs.simulator._config import FaultConfig, SimConfig
from zdlogs.simulator._plans import PLAN_LIMITS, plan_config, plan_limits
from zdlogs.simulator._simulator import Simulator

__all__ = ["PLAN_LIMITS", "FaultConfig", "ScaledClock", "SimConfig", "Simulator", "plan_config", "plan_limits"]
