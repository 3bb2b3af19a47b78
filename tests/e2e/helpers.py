"""Helpers for tests that go through the real parts: the simulator over HTTP, the CLI as a process."""

from __future__ import annotations

import fcntl
import gzip
import os
import pty
import re
import signal
import struct
import subprocess
import sys
import termios
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import yaml

from tests.conftest import CANARY_EMAIL, CANARY_TOKEN, leaked
from zdlogs.config import Settings, load_settings
from zdlogs.simulator import SimConfig, Simulator

DATA_PREFIX = "zendesk/crm/"


def sim_config(**overrides: object) -> SimConfig:
    """A simulator that accepts the canary credentials, with limits relaxed for fast tests."""
    values: dict[str, object] = {
        "email": CANARY_EMAIL,
        "api_token": CANARY_TOKEN,
        "recent_exclusion_seconds": 1,
        "incremental_limit": 10_000,
        "account_limit": 100_000,
    }
    values.update(overrides)
    return SimConfig(**values)  # type: ignore[arg-type]


def collector_settings(url: str, output: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "base_url": url,
        "email": CANARY_EMAIL,
        "api_token": CANARY_TOKEN,
        "output": str(output),
        "lookback_seconds": 40 * 86400,
        "settle_seconds": 1,
        "max_pages": 10_000,
        "incremental_limit": 10_000,
        "rate_share": 1.0,
        "http_timeout": 5,
    }
    values.update(overrides)
    return load_settings(**values)


def collector_env(url: str, output: Path, **extra: str) -> dict[str, str]:
    """Environment for ``zdlogs run`` in a subprocess, the way the Cloud Run function is configured."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ZENDESK_", "ZDLOGS_"))}
    env.update(
        ZENDESK_BASE_URL=url,
        ZENDESK_EMAIL=CANARY_EMAIL,
        ZENDESK_API_TOKEN=CANARY_TOKEN,
        ZDLOGS_OUTPUT=str(output),
        LOOKBACK_SECONDS=str(40 * 86400),
        ZDLOGS_SETTLE_SECONDS="1",
        MAX_PAGES="10000",
        ZDLOGS_INCREMENTAL_LIMIT="10000",
        ZDLOGS_RATE_SHARE="1",
        HTTP_TIMEOUT="5",
    )
    env.update(extra)
    return env


def zdlogs(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the CLI as a process; whatever it prints must never hold the canary credential."""
    result = subprocess.run(
        [sys.executable, "-m", "zdlogs", *args], env=env, capture_output=True, text=True, timeout=timeout
    )
    assert not leaked(result.stdout + result.stderr), "the canary credential leaked into the CLI's output"
    return result


def read_records(output: Path, stream: str) -> list[dict]:
    """Every record stored for ``stream``, checking each object is well-formed NDJSON."""
    records = []
    for path in sorted((output / DATA_PREFIX / stream).rglob("*.ndjson*")):
        raw = path.read_bytes()
        text = gzip.decompress(raw) if path.suffix == ".gz" else raw
        assert text.endswith(b"\n"), f"{path} does not end with a newline"
        records.extend(orjson.loads(line) for line in text.splitlines())
    return records


def audit_ids(output: Path) -> Counter:
    return Counter(record["id"] for record in read_records(output, "audit_logs"))


def ticket_versions(output: Path) -> Counter:
    return Counter((record["id"], record["updated_at"]) for record in read_records(output, "incremental_tickets"))


def duplicates(counter: Counter) -> list:
    return [key for key, count in counter.items() if count > 1]


def on_a_terminal(
    command: list[str], env: dict[str, str], columns: int, interrupt_on: bytes = b""
) -> tuple[int, bytes]:
    """``command`` with stdout and stderr on a pseudo-terminal of ``columns`` columns: its exit code and all it
    showed. ``interrupt_on``: once this is shown, Ctrl-C (SIGINT), and the process must end within 5 s."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    with subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=follower, stderr=follower, env=env) as process:
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the process has gone and the terminal is closed
                break
            if not chunk:
                break
            shown += chunk
            if interrupt_on and interrupt_on in shown:
                interrupt_on = b""
                process.send_signal(signal.SIGINT)
                process.wait(timeout=5)
    os.close(leader)
    return process.returncode, shown


def plain(shown: str) -> str:
    """Terminal output without its colour and cursor escapes, with plain newlines."""
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07", "", shown).replace("\r\n", "\n")


@contextmanager
def fleet_simulators(names: tuple[str, ...], seed: int = 100, **overrides: Any) -> Iterator[dict[str, Simulator]]:
    """One simulated account per tenant: its own seed (so its own records) and its own credentials."""
    started: dict[str, Simulator] = {}
    try:
        for index, name in enumerate(names):
            values = {"audit_logs": 300, "tickets": 40, **overrides}
            config = sim_config(seed=seed + index, email=f"admin@{name}.example.com", **values)
            config.api_token = f"token-of-{name}"
            started[name] = Simulator(config).start()
        yield started
    finally:
        for simulator in started.values():
            simulator.stop()


def fleet_file(tmp_path: Path, sims: dict[str, Simulator], tokens: dict[str, str] | None = None) -> Path:
    """The fleet config a provider would write: shared settings in defaults, each tenant's account and token
    file in its own section; ``tokens`` gives a tenant a token its account refuses."""
    tokens = tokens or {}
    secrets = tmp_path / "secrets"
    secrets.mkdir(exist_ok=True)
    tenants = {}
    for name, simulator in sims.items():
        (secrets / name).write_text(tokens.get(name, simulator.config.api_token) + "\n")
        tenants[name] = {
            "base_url": simulator.url,
            "email": simulator.config.email,
            "api_token_file": str(secrets / name),
        }
    defaults = {
        "auth_mode": "token",
        "output": str(tmp_path / "out"),
        "lookback_seconds": 40 * 86400,
        "settle_seconds": 1,
        "max_pages": 10_000,
        "incremental_limit": 10_000,
        "rate_share": 1.0,
        "http_timeout": 5,
    }
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump({"defaults": defaults, "tenants": tenants}))
    return path


def no_account_env() -> dict[str, str]:
    """This process's environment without any ZENDESK_ or ZDLOGS_ variable: a fleet refuses an account there."""
    return {key: value for key, value in os.environ.items() if not key.startswith(("ZENDESK_", "ZDLOGS_"))}
