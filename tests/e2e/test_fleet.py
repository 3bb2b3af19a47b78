"""A fleet through the real parts: `zdlogs run --config FLEET` as a process, one simulator per tenant over HTTP,
each with its own credentials and data; a tenant whose Zendesk refuses its credential fails alone."""

from __future__ import annotations

import csv
import io
import json
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.e2e.helpers import (
    audit_ids,
    duplicates,
    fleet_file,
    fleet_simulators,
    no_account_env,
    zdlogs,
)
from zdlogs.simulator import FaultConfig, Simulator

TENANTS = ("acme", "globex", "initech")


@pytest.fixture
def sims() -> Iterator[dict[str, Simulator]]:
    with fleet_simulators(TENANTS) as started:
        yield started


def test_every_tenant_is_collected_under_its_own_prefix_from_its_own_account(
    tmp_path: Path, sims: dict[str, Simulator]
) -> None:
    result = zdlogs("run", "--config", str(fleet_file(tmp_path, sims)), "--parallel", "2", env=no_account_env())
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    assert sorted(child.name for child in out.iterdir()) == sorted(TENANTS)
    collected = {name: audit_ids(out / name) for name in TENANTS}
    for name, simulator in sims.items():
        assert set(collected[name]) == {record["id"] for record in simulator.truth()["audit_logs"]}, name
        assert not duplicates(collected[name])
        assert simulator.stats()["by_status"].get("401", 0) == 0, f"{name} got a credential not its own"
    assert set(collected["acme"]) != set(collected["globex"]), "each account has its own records"
    assert (out / "acme" / "_zdlogs" / "state.json").is_file()


def test_a_tenant_whose_credential_is_refused_fails_alone_with_exit_4(
    tmp_path: Path, sims: dict[str, Simulator]
) -> None:
    path = fleet_file(tmp_path, sims, tokens={"globex": "a-revoked-token"})
    result = zdlogs("run", "--config", str(path), env=no_account_env())
    assert result.returncode == 4, result.stderr
    assert "1 of 3 tenants failed - globex:" in result.stderr
    assert "tenants.globex.api_token" in result.stderr and "ZENDESK_API_TOKEN" not in result.stderr  # its fix
    assert "a-revoked-token" not in result.stdout + result.stderr
    for name in ("acme", "initech"):
        assert audit_ids(tmp_path / "out" / name), name
    assert sims["globex"].stats()["by_status"].get("401", 0) > 0  # the count the other tests hold at 0 is live


def test_every_tenant_refused_is_exit_1(tmp_path: Path, sims: dict[str, Simulator]) -> None:
    path = fleet_file(tmp_path, sims, tokens=dict.fromkeys(TENANTS, "wrong"))
    result = zdlogs("run", "--config", str(path), env=no_account_env())
    assert result.returncode == 1 and "all 3 tenants failed" in result.stderr, result.stderr


def test_tenant_and_shard_choose_what_this_process_collects(tmp_path: Path, sims: dict[str, Simulator]) -> None:
    path = fleet_file(tmp_path, sims)
    env = {**no_account_env(), "CLOUD_RUN_TASK_INDEX": "1", "CLOUD_RUN_TASK_COUNT": "2"}
    result = zdlogs("run", "--config", str(path), "--shard", "auto", env=env)
    assert result.returncode == 0, result.stderr
    assert sorted(child.name for child in (tmp_path / "out").iterdir()) == ["globex"]  # position 1 of 3, mod 2
    result = zdlogs("run", "--config", str(path), "--tenant", "initech", env=no_account_env())
    assert result.returncode == 0, result.stderr
    assert sorted(child.name for child in (tmp_path / "out").iterdir()) == ["globex", "initech"]


def test_a_bad_fleet_file_is_one_line_per_problem_before_any_request(
    tmp_path: Path, sims: dict[str, Simulator]
) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "defaults": {"api_token": "shared", "max_pagez": 3},
                "tenants": {"Acme": {"base_url": sims["acme"].url}, "globex": {"base_url": "http://example.com"}},
            }
        )
    )
    result = zdlogs("run", "--config", str(path), env=no_account_env())
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if not line.startswith("{")]
    assert any("defaults.api_token: names one Zendesk account" in line for line in lines), lines
    assert any("defaults: unknown setting 'max_pagez': did you mean 'max_pages'?" in line for line in lines), lines
    assert any("tenant 'Acme': a name is 1 to 63 of a-z" in line for line in lines), lines
    assert sum(simulator.stats()["requests"] for simulator in sims.values()) == 0


def test_status_reads_every_tenant_names_the_one_that_needs_attention_and_needs_no_secret(
    tmp_path: Path, sims: dict[str, Simulator]
) -> None:
    path = fleet_file(tmp_path, sims, tokens={"globex": "a-revoked-token"})
    zdlogs("run", "--config", str(path), env=no_account_env())
    shown = zdlogs("status", "--config", str(path), env=no_account_env())
    assert shown.returncode == 6, shown.stderr
    assert [line for line in shown.stdout.splitlines() if line.startswith("tenant ")] == [
        f"tenant {n}" for n in TENANTS
    ]
    assert "1 of 3 tenants need attention - globex:" in shown.stderr
    for secret in (tmp_path / "secrets").iterdir():
        secret.unlink()  # status reads the outputs only: it runs where the tenants' secrets are not mounted
    as_json = zdlogs("status", "--config", str(path), "--format", "json", "--tenant", "acme", env=no_account_env())
    document = json.loads(as_json.stdout)
    assert as_json.returncode == 0 and document["healthy"] is True and list(document["tenants"]) == ["acme"]
    assert document["tenants"]["acme"]["output"].endswith("/acme")


def test_shards_run_as_concurrent_tasks_one_killed_mid_round_lose_and_repeat_nothing(tmp_path: Path) -> None:
    """A Cloud Run job of 2 tasks: both run at once; task 0 is killed (SIGKILL) while it stores; its retry
    finishes the round. Every tenant then holds its account's records exactly once, under its own prefix."""
    names = ("acme", "globex", "initech", "umbrella")
    slow = FaultConfig(slow_rate=1.0, slow_seconds=0.03)
    with fleet_simulators(names, audit_logs=2500, faults=slow) as sims:
        path = fleet_file(tmp_path, sims)

        def task(index: int) -> subprocess.Popen:
            env = {**no_account_env(), "CLOUD_RUN_TASK_INDEX": str(index), "CLOUD_RUN_TASK_COUNT": "2"}
            env["ZDLOGS_OBJECT_RECORDS"] = "500"  # several objects per tenant, so the kill lands between two
            command = [sys.executable, "-m", "zdlogs", "run", "--config", str(path), "--shard", "auto"]
            return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

        killed, other = task(0), task(1)
        first = tmp_path / "out" / "acme" / "zendesk" / "crm" / "audit_logs"
        deadline = time.monotonic() + 60
        while not (first.exists() and list(first.rglob("*.ndjson"))) and time.monotonic() < deadline:
            time.sleep(0.05)
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=10)
        assert other.wait(timeout=120) == 0, other.stderr.read() if other.stderr else ""
        assert killed.returncode == -signal.SIGKILL
        partial = len(audit_ids(tmp_path / "out" / "acme"))
        assert 0 < partial < 2500, "the kill landed mid-round"
        retry = task(0)
        assert retry.wait(timeout=120) == 0, retry.stderr.read() if retry.stderr else ""
        for name, simulator in sims.items():
            collected = audit_ids(tmp_path / "out" / name)
            assert set(collected) == {record["id"] for record in simulator.truth()["audit_logs"]}, name
            assert not duplicates(collected), name
            assert simulator.stats()["by_status"].get("401", 0) == 0, name


def test_export_and_report_read_one_tenant_of_the_fleet(tmp_path: Path, sims: dict[str, Simulator]) -> None:
    path = fleet_file(tmp_path, sims)
    assert zdlogs("run", "--config", str(path), env=no_account_env()).returncode == 0
    exported = zdlogs("export", "csv", "--config", str(path), "--tenant", "globex", env=no_account_env())
    assert exported.returncode == 0, exported.stderr
    rows = exported.stdout.splitlines()[1:]
    assert len(rows) == len(sims["globex"].truth()["audit_logs"])
    report = zdlogs(
        "report",
        "activity",
        "--tenant",
        "acme",
        "--format",
        "json",
        env={**no_account_env(), "ZDLOGS_CONFIG": str(path)},
    )
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout)["summary"]["records"] == len(sims["acme"].truth()["audit_logs"])
    alone = zdlogs("export", "csv", "--tenant", "acme", env=no_account_env())
    assert alone.returncode == 2 and "--tenant acme needs the fleet's file: give --config FILE" in alone.stderr


def test_export_and_report_across_tenants_attribute_each_record_and_keep_shared_actor_ids_apart(
    tmp_path: Path, sims: dict[str, Simulator]
) -> None:
    """Two tenants collected by a real run (initech not yet): the export's tenant column names the account each
    record came from, and the simulated accounts' admins share their ids, which the report keeps apart."""
    path, env, read = fleet_file(tmp_path, sims), no_account_env(), ("acme", "globex")
    collected = zdlogs("run", "--config", str(path), "--tenant", "acme", "--tenant", "globex", env=env)
    assert collected.returncode == 0, collected.stderr
    truth = {name: sims[name].truth()["audit_logs"] for name in read}
    exported = zdlogs("export", "csv", "--config", str(path), "--tenant", "acme", "--tenant", "globex",
                      "--all-columns", env=env)  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.DictReader(io.StringIO(exported.stdout, newline="")))
    assert exported.stdout.startswith("tenant,created_at,")
    assert Counter((row["tenant"], int(row["id"])) for row in rows) == Counter(
        (name, record["id"]) for name in read for record in truth[name]
    )
    report = zdlogs("report", "activity", "--config", str(path), "--all-tenants", "--top", "1000", "-f", "json",
                    env=env)  # fmt: skip
    assert report.returncode == 0, report.stderr
    assert "zdlogs: warning: tenant initech has collected no audit logs yet" in report.stderr
    document = json.loads(report.stdout)
    assert document["tenants"] == list(read)
    totals = {(row["tenant"], row["actor_id"]): row["total"] for row in document["rows"]}
    assert totals == {
        (name, actor): n for name in read for actor, n in Counter(r["actor_id"] for r in truth[name]).items()
    }
    shared = {actor for name, actor in totals if name == "acme"} & {actor for name, actor in totals if name == "globex"}
    assert shared, "the simulated accounts reuse their admins' ids: the check above is one of keeping them apart"
    typo = zdlogs("report", "rules", "--config", str(path), "--tenant", "acme", "--tenant", "globx", env=env)
    assert typo.returncode == 2 and "--tenant globx: no such tenant" in typo.stderr and "'globex'?" in typo.stderr
