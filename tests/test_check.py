"""`zdlogs check` as a user meets it: the CLI as a process against the simulator in each refusal (403 plan, 403
add-on, 401, an OAuth scope missing), a bad setting, and every kind of output on its real fake (a directory,
fake-gcs-server, moto, a secops:// output with the SecOps fake), writing nothing that stays."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.destinations.secops_fake import FakeSecOps, secops_fake
from tests.e2e.helpers import collector_env, sim_config, zdlogs
from tests.gcs_fixture import FakeGCS, gcs_server
from tests.s3_fixture import FakeS3, s3_server
from zdlogs.simulator import SimConfig, Simulator
from zdlogs.stores.local import LocalStore

__all__ = ["gcs_server", "s3_server", "secops_fake"]

ALL = "audit_logs,incremental_tickets,access_logs,ticket_events,users,organizations"
OAUTH = {"AUTH_MODE": "oauth", "ZENDESK_CLIENT_ID": "zdlogs-sim", "ZENDESK_CLIENT_SECRET": "sim-client-secret"}


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(sim_config(audit_logs=50, tickets=10, access_logs=20, users=10, organizations=5)).start() as sim:
        yield sim


def check(url: str, output: Path | str, *args: str, **env: str) -> subprocess.CompletedProcess:
    return zdlogs("check", "--output", str(output), *args, env=collector_env(url, Path(output), **env))


def as_json(result: subprocess.CompletedProcess) -> dict[str, dict]:
    """The report's lines by name, from ``--format json``."""
    return {line["check"]: line for line in orjson.loads(result.stdout)["checks"]}


def test_every_stream_allowed_is_exit_0_in_one_request_each_and_the_table_fits_80_columns(
    sim: Simulator, tmp_path: Path
) -> None:
    result = check(sim.url, tmp_path / "out", "--resources", ALL)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "zdlogs check (7 requests to Zendesk)" in result.stdout  # users/me + one per stream
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    assert "not ok" not in result.stdout
    assert not (tmp_path / "out").exists()  # a directory that does not exist yet is not created


def test_a_plan_without_the_audit_log_is_refused_with_exit_4_and_the_fix(tmp_path: Path) -> None:
    with Simulator(sim_config(audit_logs=5, tickets=5, plan="professional")).start() as sim:
        result = check(sim.url, tmp_path / "out", "--resources", "audit_logs,incremental_tickets", "--format", "json")
    assert result.returncode == 4, result.stderr
    lines = as_json(result)
    assert not lines["audit_logs"]["ok"] and "needs the Enterprise plan" in lines["audit_logs"]["detail"]
    assert lines["incremental_tickets"]["ok"] and lines["output"]["ok"]
    assert "1 check(s) not ok: audit_logs" in result.stderr


def test_the_access_log_without_its_add_on_is_refused_with_exit_4(tmp_path: Path) -> None:
    with Simulator(sim_config(audit_logs=5, tickets=5, access_logs_addon=False)).start() as sim:
        result = check(sim.url, tmp_path / "out", "--resources", "audit_logs,access_logs")
    assert result.returncode == 4, result.stderr
    assert "Advanced Data Privacy and" in result.stdout and "Protection add-on" in result.stdout
    assert "audit_logs" in result.stdout and result.stdout.count("not ok") == 1


def test_rejected_credentials_are_exit_3_and_no_stream_is_asked(sim: Simulator, tmp_path: Path) -> None:
    result = check(sim.url, tmp_path / "out", "--format", "json", ZENDESK_API_TOKEN="wrong-token")
    assert result.returncode == 3, result.stderr
    report = orjson.loads(result.stdout)
    lines = as_json(result)
    assert report["requests"] == 1 and "ZENDESK_API_TOKEN" in lines["credentials"]["detail"]
    assert "audit_logs" not in lines and lines["output"]["ok"]


def test_an_oauth_client_without_the_audit_log_scope_is_told_which_scope(sim: Simulator, tmp_path: Path) -> None:
    env = {**OAUTH, "ZENDESK_API_TOKEN": "", "ZENDESK_OAUTH_SCOPES": "tickets:read"}
    streams = ("--resources", "audit_logs,incremental_tickets")
    result = check(sim.url, tmp_path / "out", *streams, "--format", "json", **env)
    assert result.returncode == 4, result.stderr
    lines = as_json(result)
    assert "ZENDESK_OAUTH_SCOPES (tickets:read) needs auditlogs:read or read" in lines["audit_logs"]["detail"]
    assert lines["incremental_tickets"]["ok"]
    granted = {**env, "ZENDESK_OAUTH_SCOPES": "auditlogs:read tickets:read"}
    assert check(sim.url, tmp_path / "out", *streams, **granted).returncode == 0


def test_a_bad_setting_is_one_line_and_exit_2(sim: Simulator, tmp_path: Path) -> None:
    result = check(sim.url, tmp_path / "out", RESOURCES="audit_logs,tickets")
    assert result.returncode == 2
    assert result.stdout == "" and [line for line in result.stderr.splitlines() if "unknown resource" in line]
    assert "Traceback" not in result.stderr


def test_an_unwritable_output_is_a_not_ok_line(sim: Simulator, tmp_path: Path) -> None:
    result = check(sim.url, "/proc/zdlogs-cannot-write", "--format", "json")
    assert result.returncode == 2, result.stderr
    assert not as_json(result)["output"]["ok"] and "not writable" in as_json(result)["output"]["detail"]


def test_a_directory_output_is_probed_and_a_held_lease_is_a_warning(sim: Simulator, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert zdlogs("run", env=collector_env(sim.url, out)).returncode == 0
    before = sorted(path.relative_to(out) for path in out.rglob("*"))
    assert check(sim.url, out).returncode == 0
    with LocalStore(out).lease("_zdlogs/state.json.lease", "host-a:42") as lease:
        assert lease.acquired
        held = check(sim.url, out, "--format", "json")
    assert held.returncode == 0, held.stderr
    line = as_json(held)["lease"]
    assert line["warning"] and "held by host-a:42" in line["detail"]
    assert sorted(path.relative_to(out) for path in out.rglob("*")) == before  # nothing stays


@pytest.mark.parametrize("kind", ["gs", "s3", "secops"])
def test_a_bucket_or_secops_output_is_written_and_left_as_it_was(
    sim: Simulator, tmp_path: Path, request: pytest.FixtureRequest, kind: str
) -> None:
    names, args, env = bucket_of(kind, tmp_path, request)
    result = zdlogs("check", *args, "--format", "json", env=collector_env(sim.url, tmp_path / "unused", **env))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = as_json(result)
    assert lines["output"]["ok"] and lines["lease"]["detail"] == "free: taken and released"
    assert names() == []  # the lease object was created and removed: nothing stays
    if kind == "secops":
        assert lines["secops"]["ok"] and "Google credentials accepted" in lines["secops"]["detail"]


def bucket_of(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> tuple:
    """What the output holds (a listing), the flags naming it, its environment."""
    if kind == "gs":
        gcs: FakeGCS = request.getfixturevalue("gcs_server")
        bucket = gcs.create_bucket()
        return (lambda: gcs.names(bucket)), ["--output", f"gs://{bucket}/"], gcs.env
    if kind == "s3":
        s3: FakeS3 = request.getfixturevalue("s3_server")
        bucket = s3.create_bucket()
        return (lambda: s3.names(bucket)), ["--output", f"s3://{bucket}/"], s3.env
    fake: FakeSecOps = request.getfixturevalue("secops_fake")
    gcs = request.getfixturevalue("gcs_server")
    bucket = gcs.create_bucket()
    args = ["--output", fake.output, "--secops-state", f"gs://{bucket}/"]
    return (lambda: gcs.names(bucket) + fake.records()), args, {"ZDLOGS_SECOPS_ENDPOINT": fake.url, **gcs.env}


def test_the_readme_sample_is_what_check_prints(tmp_path: Path) -> None:
    """The README's sample, run as it says, up to the output's line (its absolute path differs)."""
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    sample = readme.split("$ zdlogs check --output ./zendesk-out --resources audit_logs,incremental_tickets\n")[1]
    command = ["check", "--output", "./zendesk-out", "--resources", "audit_logs,incremental_tickets"]
    with Simulator(SimConfig(audit_logs=5, tickets=5, plan="professional")).start() as sim:
        env = {**collector_env(sim.url, tmp_path), "ZENDESK_EMAIL": "admin@example.com"}
        env["ZENDESK_API_TOKEN"] = "sim-api-token"  # the simulator's own credentials, as in the README
        result = subprocess.run(
            [sys.executable, "-m", "zdlogs", *command], env=env, cwd=tmp_path, capture_output=True, text=True
        )
    assert result.returncode == 4 and "zdlogs: error: 1 check(s) not ok: audit_logs" in result.stderr
    assert "zdlogs: error: 1 check(s) not ok: audit_logs; each line above says the fix" in sample

    def until_output(lines: list[str]) -> list[str]:
        lines = [line.rstrip() for line in lines if "127.0.0.1" not in line]
        return lines[: next(i for i, line in enumerate(lines) if line.startswith("│ output"))]

    assert until_output(sample.splitlines()) == until_output(result.stdout.splitlines())


@pytest.mark.parametrize("kind", ["gs", "s3"])
def test_a_bucket_that_does_not_exist_is_run_s_storage_exit_5(
    sim: Simulator, tmp_path: Path, request: pytest.FixtureRequest, kind: str
) -> None:
    fake = request.getfixturevalue("gcs_server" if kind == "gs" else "s3_server")
    env = collector_env(sim.url, tmp_path, ZDLOGS_STORAGE_TIMEOUT="5", **fake.env)
    result = zdlogs("check", "--output", f"{kind}://no-such-bucket/", "--format", "json", env=env)
    assert result.returncode == 5, result.stderr
    lines = as_json(result)
    assert lines["audit_logs"]["ok"] and "no-such-bucket does not exist: create it" in lines["output"]["detail"]
