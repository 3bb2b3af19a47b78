"""What every comparison needs: the simulator in its own process, the original function on fake GCS, a table.

The simulator runs in a forked process so that neither its CPU nor its memory is counted against the
collector being measured; the benchmark talks to it over HTTP (its ``/_sim/*`` control endpoints). The
original Cloud Run function (``../shared/baseline/seed_function/main.py``) needs GCS, which
fake-gcs-server provides, as in ``reliability/targets.py``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from tests.gcs_fixture import FakeGCS, running_fake_gcs

from zdlogs.simulator import SimConfig, Simulator

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT.parent / "shared/baseline/seed_function/main.py"
EMAIL, TOKEN = "bench@example.com", "bench-api-token"


@dataclass
class SimHandle:
    """A simulator served by another process, driven through its control endpoints."""

    url: str

    def _call(self, method: str, path: str, body: dict | None = None) -> Any:
        response = httpx.request(method, f"{self.url}{path}", json=body, timeout=120)
        response.raise_for_status()
        return response.json()

    def stats(self) -> dict:
        return self._call("GET", "/_sim/stats")

    def reset_stats(self) -> None:
        self._call("POST", "/_sim/reset-stats")

    def append(self, audit_logs: int = 0, tickets_created: int = 0, tickets_updated: int = 0) -> dict:
        body = {"audit_logs": audit_logs, "tickets_created": tickets_created, "tickets_updated": tickets_updated}
        return self._call("POST", "/_sim/append", body)

    def audit_count(self) -> int:
        return self._call("GET", "/_sim/summary")["audit_logs"]

    def truth(self) -> dict:
        return self._call("GET", "/_sim/truth")


def sim_config(**overrides: Any) -> SimConfig:
    """Benchmark credentials, a 1-second recent-minute exclusion; limits high unless a figure is about them."""
    values: dict[str, Any] = {
        "email": EMAIL,
        "api_token": TOKEN,
        "recent_exclusion_seconds": 1,
        "account_limit": 1_000_000,
        "incremental_limit": 1_000_000,
    }
    values.update(overrides)
    return SimConfig(**values)


def _serve(config: SimConfig, pipe: Any) -> None:
    sim = Simulator(config).start()
    pipe.send(sim.url)
    pipe.recv()  # anything (or EOF) means stop
    sim.stop()


@contextmanager
def simulator_process(config: SimConfig) -> Iterator[SimHandle]:
    """Generate and serve ``config``'s account in a forked child; stop it on exit."""
    parent, child = multiprocessing.get_context("fork").Pipe()
    process = multiprocessing.get_context("fork").Process(target=_serve, args=(config, child), daemon=True)
    process.start()
    try:
        if not parent.poll(600):
            raise RuntimeError("the simulator did not start within 600 s")
        yield SimHandle(parent.recv())
    finally:
        parent.send("stop")
        process.join(30)
        if process.is_alive():
            process.kill()


@contextmanager
def fake_gcs_bucket() -> Iterator[tuple[FakeGCS, str]]:
    with running_fake_gcs() as gcs:
        yield gcs, gcs.create_bucket()


def original_env(url: str, gcs: FakeGCS, bucket: str, **extra: str) -> dict[str, str]:
    """The original function's environment (its own variable names), on fake GCS."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZENDESK_", "ZDLOGS_", "GCS_"))}
    env.update(
        ZENDESK_BASE_URL=url,
        ZENDESK_EMAIL=EMAIL,
        ZENDESK_API_TOKEN=TOKEN,
        GCS_BUCKET=bucket,
        STORAGE_EMULATOR_HOST=gcs.endpoint,
        GOOGLE_CLOUD_PROJECT="bench",
    )
    env.update(extra)
    return env


def zdlogs_env(url: str, output: str, **extra: str) -> dict[str, str]:
    """zdlogs' environment for the same account (the same variable names, plus its own)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZENDESK_", "ZDLOGS_", "GCS_"))}
    env.update(ZENDESK_BASE_URL=url, ZENDESK_EMAIL=EMAIL, ZENDESK_API_TOKEN=TOKEN, ZDLOGS_OUTPUT=output)
    env.update(extra)
    return env


def require_baseline() -> None:
    if not BASELINE.exists():
        sys.exit(f"the original function is not at {BASELINE}: the comparison needs it")


def ratio(ours: float, theirs: float) -> str:
    """``ours / theirs`` as ``0.12x``; a dash when undefined."""
    return f"{ours / theirs:.3g}x" if theirs else "-"


def print_table(title: str, header: list[str], rows: list[list[Any]]) -> None:
    """A Markdown table (it goes into docs/PERFORMANCE.md as printed)."""
    print(f"\n### {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")
    sys.stdout.flush()


Section = tuple[Callable[[], None], list[str]]


def run_sections(description: str, full: list[Section], quick: list[Section], quick_help: str) -> None:
    """Run each section's ``main`` with its own argv: the full figures, or ``--quick`` small sizes."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help=quick_help)
    args = parser.parse_args()
    for section, argv in quick if args.quick else full:
        sys.argv = [section.__module__, *argv]
        section()
