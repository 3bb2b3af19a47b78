from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.analysis.fixtures import write_collected, write_fleet
from tests.conftest import CANARY_EMAIL, CANARY_TOKEN
from tests.e2e.helpers import sim_config
from zdlogs.analysis.engine import AuditData, open_audit
from zdlogs.analysis.filters import build_filters
from zdlogs.analysis.inputs import audit_files
from zdlogs.simulator import Simulator


@pytest.fixture
def collected(tmp_path: Path) -> Path:
    return write_collected(tmp_path / "zendesk-logs")


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    """A fleet file of three tenants: acme and globex collected (the same actor ids), initech not yet."""
    return write_fleet(tmp_path)


@pytest.fixture
def audit(collected: Path) -> Iterator[AuditData]:
    with open_audit(audit_files(str(collected)), build_filters()) as data:
        yield data


@pytest.fixture
def fleet_audit(fleet: Path) -> Iterator[AuditData]:
    """acme's and globex's records read together, each with its tenant (initech, empty, left out)."""
    out = fleet.parent / "out"
    by_tenant = {name: audit_files(str(out / name)) for name in ("acme", "globex")}
    with open_audit([], build_filters(), by_tenant=by_tenant) as data:
        yield data.materialize()


def filtered(collected: Path, **filters: object):
    """A context manager over the fixture with filters applied (``actors=["alice"]`` etc.)."""
    return open_audit(audit_files(str(collected)), build_filters(**filters))  # type: ignore[arg-type]


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(sim_config(seed=11, audit_logs=600)).start() as simulator:
        yield simulator


def env(sim: Simulator) -> dict[str, str]:
    """The environment a CLI run needs to reach the simulator with the canary credentials."""
    return {"ZENDESK_BASE_URL": sim.url, "ZENDESK_EMAIL": CANARY_EMAIL, "ZENDESK_API_TOKEN": CANARY_TOKEN}
