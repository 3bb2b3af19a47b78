from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.helpers import sim_config
from zdlogs.simulator import Simulator


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(sim_config(audit_logs=800, tickets=150)).start() as simulator:
        yield simulator


from tests.gcs_fixture import gcs_server  # noqa: E402, F401  (fake-gcs-server for the SecOps path)
