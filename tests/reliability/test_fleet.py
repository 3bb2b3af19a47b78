"""The short versions of the fleet suites (reliability/fleet.py), as CI runs them.

Each one runs a small fleet of simulated accounts (one per tenant) through ``zdlogs run --config`` processes
and exits 0 only when every tenant's every stream has nothing lost, duplicated or invented, no file sits
outside a tenant's prefix, no record is under another tenant's, no healthy host saw a 401 and no token leaked;
the full versions (100 kills over 8 tenants, 20 rounds, 6 tenants of which 3 faulty) and their figures are in
docs/RELIABILITY.md, "Fleet".
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from reliability.fleet import Rig, files_outside_tenants, misplaced_records

from zdlogs.simulator import Simulator

ROOT = Path(__file__).resolve().parents[2]
TENANT_LINE = re.compile(
    r"^  (t\d+) (\w+): \d+ (?:records|latest versions), lost (\d+), duplicated (\d+), invented (\d+)$", re.MULTILINE
)
ROOT_CHECKS = (
    "files outside a tenant's prefix 0",
    "records under another tenant's prefix 0",
    "401s at the hosts of tenants whose token was good 0",
    "API token occurrences in the runs' output and the storage 0",
)

SHORT = {
    "crash": "crash --kills 4 --shard-every 2 --tenants 3 --parallel 2",
    "concurrency": "concurrency --rounds 1 --tenants 3 --parallel 2",
    "faults": "faults --tenants 3 --faulty 2 --kinds 401,5xx --parallel 2",
}


def run_suite(suite: str) -> str:
    command = [sys.executable, "-m", "reliability.fleet", *suite.split(), "--latency", "0.05"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    return result.stdout


FAULT_CHECKS = (
    "faulty hour's exit code",
    "failed tenants are the faulty ones",
    "the error line names each failed tenant, no other",
    "healthy tenants at their minimum requests",
)


@pytest.mark.parametrize("suite", SHORT.values(), ids=SHORT.keys())
def test_short_fleet_suite_passes(suite: str) -> None:
    printed = run_suite(suite)
    assert "result: PASS" in printed
    found = {(tenant, stream): counts for tenant, stream, *counts in TENANT_LINE.findall(printed)}
    tenants, streams = ("t001", "t002", "t003"), ("audit_logs", "incremental_tickets")
    assert set(found) == {(tenant, stream) for tenant in tenants for stream in streams}, printed
    assert all(counts == ["0", "0", "0"] for counts in found.values()), printed
    for check in ROOT_CHECKS:
        assert check in printed, printed
    if suite.startswith("faults"):  # its own checks, one per line: each must have held
        for check in FAULT_CHECKS:
            assert f"  {check}: yes" in printed, printed
        assert re.search(r"^  t002 \| - \| .* \| ok$", printed, re.MULTILINE), printed  # the healthy one collected


def test_the_judge_sees_a_record_or_a_file_of_one_tenant_outside_its_prefix(tmp_path: Path) -> None:
    """The suites' cross-tenant checks are live: a record of t002 under t001's prefix, and a file under no tenant."""
    sims = {"t001": Simulator(), "t002": Simulator()}  # bound, not serving: only their URLs are used
    try:
        rig = Rig(tmp_path / "out", tmp_path / "fleet.yaml", sims, ("audit_logs",))
        stream = rig.root / "t001" / "zendesk/crm/audit_logs"
        stream.mkdir(parents=True)
        own, other = (
            f'{{"id": {n}, "url": "{sims[t].url}/api/v2/audit_logs/{n}.json"}}' for n, t in ((1, "t001"), (2, "t002"))
        )
        (stream / "page.ndjson").write_text(f"{own}\n{other}\n")
        (rig.root / "stray.ndjson").write_text("{}\n")
        assert misplaced_records(rig) == 1
        assert files_outside_tenants(rig) == ["stray.ndjson"]
    finally:
        for sim in sims.values():
            sim.stop()
