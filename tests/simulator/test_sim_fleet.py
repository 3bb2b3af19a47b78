"""A fleet of simulated accounts in one process (``zdlogs simulate --tenants N``): each member its own port,
data and credentials — a fleet collector's tests hold only if a mix-up between tenants shows."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml
from typer.testing import CliRunner

from zdlogs.cli import app
from zdlogs.simulator import SimConfig, Simulator, SimulatorFleet, fleet_configs, tenant_names

BASE = SimConfig(seed=7, audit_logs=30, tickets=5, access_logs=5, users=10, organizations=3)
TENANT_NAME = re.compile(r"[a-z0-9-]{1,63}")  # what a fleet config accepts as a tenant's name


def _auth(config: SimConfig) -> tuple[str, str]:
    return (f"{config.email}/token", config.api_token)


def _first_audit_id(sim: Simulator, auth: tuple[str, str]) -> int:
    answer = httpx.get(f"{sim.url}/api/v2/audit_logs", auth=auth, timeout=10)
    assert answer.status_code == 200, answer.text
    return int(answer.json()["audit_logs"][0]["id"])


def test_tenant_names_sort_in_order_and_are_fleet_names() -> None:
    assert tenant_names(3) == ["t001", "t002", "t003"]
    assert tenant_names(1000)[0] == "t0001" and tenant_names(1000)[-1] == "t1000"
    assert all(TENANT_NAME.fullmatch(name) for name in tenant_names(1000))
    with pytest.raises(ValueError, match="at least one tenant"):
        tenant_names(0)


def test_each_config_is_the_base_with_its_own_seed_and_credentials() -> None:
    configs = fleet_configs(BASE, 2)
    assert [name for name, _ in configs] == ["t001", "t002"]
    second = configs[1][1]
    assert (second.seed, second.email, second.api_token) == (8, "admin@t002.example.com", "sim-api-token-t002")
    assert (second.client_secret, second.audit_logs, second.plan) == ("sim-client-secret-t002", 30, "enterprise")
    assert BASE.api_token == "sim-api-token" and second.faults is not BASE.faults  # the base is left alone


def test_three_members_serve_their_own_data_to_their_own_credentials_only() -> None:
    with SimulatorFleet(fleet_configs(BASE, 3)) as fleet:
        sims = [sim for _, sim in fleet.members]
        firsts = {_first_audit_id(sim, _auth(sim.config)) for sim in sims}
        refused = httpx.get(f"{sims[0].url}/api/v2/audit_logs", auth=_auth(sims[1].config), timeout=10)
    assert len(firsts) == 3  # different seeds, different accounts
    assert len({sim.url for sim in sims}) == 3
    assert refused.status_code == 401


def test_fleet_yaml_names_each_members_port_and_credentials(tmp_path: Path) -> None:
    with SimulatorFleet(fleet_configs(BASE, 3)) as fleet:
        text = fleet.fleet_yaml(tmp_path / "fleet.yaml")
        ports = [int(sim.url.rsplit(":", 1)[1]) for _, sim in fleet.members]
    config = yaml.safe_load(text)
    assert (tmp_path / "fleet.yaml").read_text() == text
    assert config["defaults"] == {"auth_mode": "token", "lookback_seconds": 30 * 86400}
    assert list(config["tenants"]) == ["t001", "t002", "t003"]
    assert [int(t["base_url"].rsplit(":", 1)[1]) for t in config["tenants"].values()] == ports
    assert config["tenants"]["t002"] == {
        "base_url": f"http://127.0.0.1:{ports[1]}",
        "email": "admin@t002.example.com",
        "api_token": "sim-api-token-t002",
    }


def test_members_take_consecutive_ports_from_the_start_port_or_each_any_free_one() -> None:
    asked: list[int] = []

    def bind(config: SimConfig, host: str, port: int) -> Simulator:
        asked.append(port)
        return Simulator(config, host=host, port=0)  # any free port: the test only records what was asked

    SimulatorFleet(fleet_configs(BASE, 3), port=9000, bind=bind).stop()
    SimulatorFleet(fleet_configs(BASE, 2), port=0, bind=bind).stop()
    assert asked == [9000, 9001, 9002, 0, 0]


def test_a_member_that_cannot_bind_releases_the_ports_already_bound() -> None:
    bound: list[Simulator] = []

    def bind(config: SimConfig, host: str, port: int) -> Simulator:
        if bound:
            raise OSError("no second port")
        bound.append(Simulator(config, host=host, port=0))
        return bound[0]

    with pytest.raises(OSError, match="no second port"):
        SimulatorFleet(fleet_configs(BASE, 2), bind=bind)
    with pytest.raises(httpx.ConnectError):
        httpx.get(bound[0].url, timeout=2)


# ---- the command


def _error_line(args: list[str]) -> str:
    result = CliRunner().invoke(app, ["simulate", "--audit-logs", "5", "--tickets", "1", *args])
    lines = [line for line in result.stderr.splitlines() if line.startswith("zdlogs: error:")]
    assert result.exit_code == 2 and len(lines) == 1 and result.stdout == "", result.output
    return lines[0]


@pytest.mark.parametrize("count", ["0", "1001"])
def test_a_tenant_count_out_of_range_is_one_line_naming_the_flag_and_the_range(count: str) -> None:
    line = _error_line(["--port", "0", "--tenants", count])
    assert f"--tenants {count} is out of range: give a number of accounts from 1 to 1000" in line


def test_tenants_whose_ports_would_run_past_the_last_port_are_refused() -> None:
    assert "needs ports up to 65536: give a lower --port, or 0" in _error_line(["--port", "65535", "--tenants", "2"])


def test_a_tenant_port_in_use_is_the_one_line_error_of_one_simulator() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = _error_line(["--port", str(port - 1), "--tenants", "2"])  # the second tenant's port is taken
    # (the port below it is free unless another program took it meanwhile: the same error names it then)
    assert re.search(f"cannot listen on 127.0.0.1:({port}|{port - 1}): another program", line), line
    assert "pass --port 0 (any free port)" in line


def test_a_fleet_file_that_cannot_be_written_is_one_line_naming_the_flag(tmp_path: Path) -> None:
    line = _error_line(["--port", "0", "--tenants", "2", "--fleet-file", str(tmp_path / "no" / "fleet.yaml")])
    assert f"--fleet-file {tmp_path}/no/fleet.yaml: cannot write it (No such file or directory)" in line


def _wait_for(path: Path, process: subprocess.Popen, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None and time.monotonic() < deadline, "the fleet file never appeared"
        time.sleep(0.05)
    return path.read_text()


def _sigint_as_a_terminal_gives_it() -> None:
    """A shell starts background jobs with SIGINT ignored, and Python then keeps ignoring it: restore it, so
    the simulator meets Ctrl-C as in a terminal whether or not pytest itself runs in the background."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_simulate_tenants_writes_the_fleet_file_serves_each_tenant_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    fleet_file = tmp_path / "fleet.yaml"
    args = ["--tenants", "2", "--port", "0", "--fleet-file", str(fleet_file), "--audit-logs", "20", "--tickets", "3"]
    command = [sys.executable, "-m", "zdlogs", "simulate", *args]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_sigint_as_a_terminal_gives_it
    ) as server:
        try:
            tenants = yaml.safe_load(_wait_for(fleet_file, server))["tenants"]
            answers = {
                name: httpx.get(f"{t['base_url']}/api/v2/audit_logs", auth=(f"{t['email']}/token", t["api_token"]))
                for name, t in tenants.items()
            }
        finally:
            server.send_signal(signal.SIGINT)
            stdout, stderr = server.communicate(timeout=30)
    assert server.returncode == 0, stderr  # as one simulator: Ctrl-C is how it is meant to end
    assert {name: answer.status_code for name, answer in answers.items()} == {"t001": 200, "t002": 200}
    assert stdout.splitlines()[0] == "2 Zendesk simulators (Ctrl-C to stop):"
    assert (
        f"  t002  {tenants['t002']['base_url']}  email admin@t002.example.com  api token sim-api-token-t002" in stdout
    )
    assert f"zdlogs run --config {fleet_file} --max-pages 1000" in stdout
