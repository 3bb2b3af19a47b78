"""A fleet of simulated accounts in one process: one `Simulator` per tenant, one port each.

A fleet collector (``zdlogs run --config FLEET``) must keep tenants apart: its own records, its own
credential, its own host. So each member differs from the others in exactly those: its seed (so its own
records), its credentials (derived from its name, so another member's are refused with a 401) and its port.
Everything else is the base account's, so a benchmark compares like with like.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import yaml

from zdlogs.simulator._config import SimConfig
from zdlogs.simulator._simulator import Simulator

Bind = Callable[[SimConfig, str, int], Simulator]


def tenant_names(count: int) -> list[str]:
    """``t001``, ``t002``, …: zero-padded to the width of ``count`` (at least 3 digits) so they sort in order,
    and within a fleet's tenant names (1-63 of a-z0-9-)."""
    if count < 1:
        raise ValueError(f"a fleet needs at least one tenant, got {count}")
    width = max(3, len(str(count)))
    return [f"t{index:0{width}d}" for index in range(1, count + 1)]


def fleet_configs(base: SimConfig, count: int) -> list[tuple[str, SimConfig]]:
    """``count`` accounts shaped like ``base``, each with seed ``base.seed + index`` and its own credentials.
    A ScaledClock of ``base`` is shared: the fleet lives in one simulated time, as real accounts share one."""
    return [(name, tenant_config(base, name, index)) for index, name in enumerate(tenant_names(count))]


def tenant_config(base: SimConfig, name: str, index: int) -> SimConfig:
    """``base`` as tenant ``name``: credentials that name it, so a mix-up between tenants is a 401, not data
    of the wrong account (its faults copied, so setting one member's leaves the others alone)."""
    return dataclasses.replace(
        base,
        seed=base.seed + index,
        email=f"admin@{name}.example.com",
        api_token=f"sim-api-token-{name}",
        bearer_token=f"sim-bearer-token-{name}",
        client_secret=f"sim-client-secret-{name}",
        faults=dataclasses.replace(base.faults),
    )


def lookback_seconds(config: SimConfig) -> int:
    """How far a first run must look back to collect the whole simulated history."""
    return int(config.history_days * 86400)


class SimulatorFleet:
    """One Simulator per ``(name, config)``, bound in the constructor on ``host`` at consecutive ports from
    ``port`` (0: each any free port), so every URL is known (and a port in use refused) before serving starts.

    ``bind`` makes one member (default: ``Simulator``); the CLI passes its own to turn a bind error into its
    one-line message. If one member cannot bind, those already bound are closed: no port is left held.
    """

    def __init__(
        self, configs: list[tuple[str, SimConfig]], host: str = "127.0.0.1", port: int = 0, bind: Bind | None = None
    ) -> None:
        make = bind or _simulator
        self.members: list[tuple[str, Simulator]] = []
        try:
            for offset, (name, config) in enumerate(configs):
                self.members.append((name, make(config, host, port + offset if port else 0)))
        except BaseException:
            self.stop()
            raise

    def start(self) -> SimulatorFleet:
        """Serve every member in its own daemon thread."""
        for _, simulator in self.members:
            simulator.start()
        return self

    def stop(self) -> None:
        """Stop every member and release its port. Idempotent."""
        for _, simulator in self.members:
            simulator.stop()

    def serve_forever(self) -> None:
        """Serve until Ctrl-C (for ``zdlogs simulate --tenants N``), then close every member."""
        self.start()
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def fleet_yaml(self, output: str | Path | None = None) -> str:
        """The zdlogs fleet config (``zdlogs run --config``) that collects every member; written to ``output``
        when given — atomically, so a process waiting for the file never reads half of it."""
        text = yaml.safe_dump(self._fleet_config(), sort_keys=False)
        if output is not None:
            _write_atomically(Path(output), text)
        return text

    def _fleet_config(self) -> dict:
        tenants = {
            name: {"base_url": sim.url, "email": sim.config.email, "api_token": sim.config.api_token}
            for name, sim in self.members
        }
        lookback = max((lookback_seconds(sim.config) for _, sim in self.members), default=0)
        return {"defaults": {"auth_mode": "token", "lookback_seconds": lookback}, "tenants": tenants}

    def __enter__(self) -> SimulatorFleet:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _simulator(config: SimConfig, host: str, port: int) -> Simulator:
    return Simulator(config, host=host, port=port)


def _write_atomically(path: Path, text: str) -> None:
    """A temporary file beside ``path`` renamed over it: the rename is atomic within a directory."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
