"""`zdlogs status` and `zdlogs run --metrics-file` as processes, against the simulator over HTTP, on each kind of
output: a directory, fake-gcs-server, moto, and a secops:// output's state store (the SecOps fake). Exit 6 for a
stream never collected, refused, or behind --max-lag; exit 0 once every configured stream is fine; the lease
holder shown while another run holds it (and an expired one as expired); status itself writes nothing."""

from __future__ import annotations

import json
import os
import subprocess
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.destinations.secops_fake import FakeSecOps, secops_fake
from tests.e2e.helpers import collector_env, sim_config, zdlogs
from tests.s3_fixture import s3_server
from zdlogs.simulator import Simulator
from zdlogs.stores._objects import lease_body
from zdlogs.stores.local import LocalStore
from zdlogs.times import utc_now

__all__ = ["s3_server", "secops_fake"]
LEASE = "_zdlogs/state.json.lease"


def status(output: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    """``zdlogs status`` with no Zendesk setting at all in its environment: it needs none."""
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("ZENDESK_", "ZDLOGS_"))}
    return zdlogs("status", "-o", output, *args, env={**clean, **env})


def as_json(result: subprocess.CompletedProcess) -> dict[str, Any]:
    return json.loads(result.stdout)


def error_line(result: subprocess.CompletedProcess) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_a_directory_from_never_collected_to_fine_to_behind(sim: Simulator, tmp_path: Path) -> None:
    out, prom = tmp_path / "out", tmp_path / "zdlogs.prom"
    never = status(str(out))
    assert never.returncode == 6 and not out.exists()  # status created nothing
    assert error_line(never).startswith("zdlogs: error: 2 of 2 streams need attention - audit_logs was never collected")
    assert "audit_logs           never" in never.stdout

    run = zdlogs("run", "--metrics-file", str(prom), env=collector_env(sim.url, out))
    assert run.returncode == 0, run.stderr
    fine = status(str(out))
    assert fine.returncode == 0 and fine.stderr == ""
    assert "All 2 configured streams are fine." in fine.stdout and "Lease: free" in fine.stdout
    doc = as_json(status(str(out), "--format", "json"))
    truth = sim.truth()
    audit, tickets = doc["streams"]
    assert doc["healthy"] and doc["state"] == f"{out.resolve().as_uri()}/_zdlogs/state.json"
    assert audit["last_run"]["outcome"] == "ok" and audit["last_run"]["records"] == len(truth["audit_logs"])
    assert f"{len(truth['audit_logs'])}" in fine.stdout
    assert tickets["last_run"]["records"] > 0 and tickets["checkpoint_time"] and tickets["lag_seconds"] < 60
    assert 'zdlogs_run_records{stream="audit_logs"} ' + f"{len(truth['audit_logs'])}.0" in prom.read_text()

    time.sleep(2.1)
    behind = status(str(out), "--max-lag", "1s")
    assert behind.returncode == 6 and "lags " in error_line(behind) and "more than --max-lag 1s" in error_line(behind)
    assert status(str(out), "--max-lag", "1h").returncode == 0


def test_a_stream_zendesk_refuses_is_exit_6_with_its_error(tmp_path: Path) -> None:
    out, prom = tmp_path / "out", tmp_path / "zdlogs.prom"
    streams = "audit_logs,access_logs"
    with Simulator(sim_config(audit_logs=40, tickets=5, access_logs_addon=False)).start() as sim:
        env = collector_env(sim.url, out)
        run = zdlogs("run", "--resources", streams, "--metrics-file", str(prom), env=env)
    assert run.returncode == 4
    result = status(str(out), "--resources", streams)
    assert result.returncode == 6
    assert "1 of 2 streams need attention - access_logs last run skipped at" in error_line(result)
    assert "access_logs: last run skipped: " in result.stdout and "403" in result.stdout
    refused = as_json(status(str(out), "--resources", streams, "--format", "json"))["streams"][1]
    assert refused["problem"].startswith("last run skipped") and "403" in refused["last_run"]["error"]
    assert 'zdlogs_run_outcome{outcome="skipped",stream="access_logs"} 1.0' in prom.read_text()
    assert status(str(out), "--resources", "audit_logs").returncode == 0  # the other stream is fine on its own


def test_the_holder_of_a_directory_s_lease_is_shown_while_it_runs(sim: Simulator, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert zdlogs("run", env=collector_env(sim.url, out)).returncode == 0
    with LocalStore(out).lease(LEASE, "collector-7:4242") as lease:
        held = status(str(out))
        doc = as_json(status(str(out), "--format", "json"))
    assert held.returncode == 0
    assert f"Lease: held by collector-7:4242 since {lease.since}, until its process ends" in held.stdout
    assert doc["lease"] == {"state": "held", "owner": "collector-7:4242", "since": lease.since, "until": None}
    assert as_json(status(str(out), "--format", "json"))["lease"]["state"] == "free"


@pytest.mark.parametrize("kind", ["gs", "s3"])
def test_a_bucket_output_and_its_lease(
    sim: Simulator, tmp_path: Path, kind: str, request: pytest.FixtureRequest
) -> None:
    server = request.getfixturevalue("gcs_server" if kind == "gs" else "s3_server")
    bucket = server.create_bucket()
    url = f"{kind}://{bucket}/"
    run = zdlogs("run", env=collector_env(sim.url, tmp_path, **server.env, ZDLOGS_OUTPUT=url))
    assert run.returncode == 0, run.stderr
    fine = status(url, "--format", "json", **server.env)
    assert fine.returncode == 0, fine.stderr
    doc = as_json(fine)
    assert doc["state"] == f"{url}_zdlogs/state.json" and doc["lease"]["state"] == "free"
    assert [item["last_run"]["outcome"] for item in doc["streams"]] == ["ok", "ok"]
    names = server.names(bucket)

    since = utc_now()
    server.write(bucket, LEASE, lease_body("collector-7:4242", since, since + timedelta(minutes=15)))
    held = status(url, **server.env)
    assert held.returncode == 0 and "Lease: held by collector-7:4242 since " in held.stdout
    assert "(renewed while the run lasts)" in held.stdout
    server.write(
        bucket, LEASE, lease_body("collector-7:4242", since - timedelta(hours=1), since - timedelta(minutes=45))
    )
    expired = as_json(status(url, "--format", "json", **server.env))["lease"]
    assert expired["state"] == "expired" and expired["owner"] == "collector-7:4242"
    assert [name for name in server.names(bucket) if name != LEASE] == names  # status wrote nothing


def test_a_secops_output_is_read_from_its_state_store(sim: Simulator, secops_fake: FakeSecOps, tmp_path: Path) -> None:
    state = tmp_path / "state"
    args = ["--output", secops_fake.output, "--secops-endpoint", secops_fake.url, "--secops-state", str(state)]
    run = zdlogs("run", *args, env=collector_env(sim.url, tmp_path / "unused"), timeout=180)
    assert run.returncode == 0, run.stderr
    result = status(secops_fake.output, "--secops-state", str(state), "--format", "json")
    assert result.returncode == 0, result.stderr
    doc = as_json(result)
    assert doc["output"] == secops_fake.output and doc["state"] == f"{state.resolve().as_uri()}/_zdlogs/state.json"
    records = sum(item["last_run"]["records"] for item in doc["streams"])
    assert records == len(secops_fake.records()) > 0
