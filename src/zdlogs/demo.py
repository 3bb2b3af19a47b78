"""``zdlogs demo``: the whole job on the bundled simulator, for someone without a Zendesk account.

Two passes show the point of the collector: the first collects the simulated history, the second,
after new activity, collects exactly the new records and nothing twice.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

from zdlogs.config import KNOWN_RESOURCES, load_settings
from zdlogs.pipeline import RunSummary, run
from zdlogs.simulator import SimConfig, Simulator

MARKER = ".zdlogs-demo"
SETTLE_SECONDS = 2


def run_demo(output: str, *, audit_logs: int, tickets: int, seed: int, echo: Callable[[str], None]) -> None:
    root = _fresh_directory(Path(output))
    config = SimConfig(seed=seed, audit_logs=audit_logs, tickets=tickets, recent_exclusion_seconds=1)
    with Simulator(config).start() as sim:
        settings = load_settings(
            base_url=sim.url,
            auth_mode="oauth",  # the recommended mode: API tokens stop working on 2027-04-30
            client_id=config.client_id,
            client_secret=config.client_secret,
            output=str(root),
            lookback_seconds=int(config.history_days * 86400) + 3600,
            settle_seconds=SETTLE_SECONDS,
            max_pages=10_000,
            incremental_limit=600,
            resources=list(KNOWN_RESOURCES),
            oauth_scopes="read",
        )
        echo(
            f"Simulated Zendesk at {sim.url}: {audit_logs} audit-log records, {tickets} tickets, "
            f"{config.access_logs} access-log records, {config.users} users, {config.organizations} organizations."
        )
        _report("First run (history)", run(settings), echo)
        _new_activity(sim)
        time.sleep(SETTLE_SECONDS + 1)
        _report(
            "Second run (after 25 new audit records, 10 ticket updates, 40 access-log records, "
            "3 user and 2 organization changes)",
            run(settings),
            echo,
        )
    _show_tree(root, echo)


def _new_activity(sim: Simulator) -> None:
    """What an hour on an account brings: the second run must collect exactly this."""
    sim.append_audit_logs(25)
    sim.update_tickets(10)
    sim.append_access_logs(40)
    sim.update_users(3)
    sim.update_organizations(2)


def _fresh_directory(root: Path) -> Path:
    """The demo owns its directory: replace an earlier demo, refuse to touch anything else."""
    if root.exists() and any(root.iterdir()):
        if not (root / MARKER).exists():
            from zdlogs.errors import ConfigError

            raise ConfigError(f"{root} exists and is not a demo directory: pass another --output")
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    (root / MARKER).write_text("created by zdlogs demo; deleted by the next demo\n")
    return root


def _report(title: str, summary: RunSummary, echo: Callable[[str], None]) -> None:
    echo(f"\n{title}:")
    for item in summary.streams:
        echo(
            f"  {item.stream:<20} {item.records:>6} records  {item.objects:>4} new objects  "
            f"{item.requests:>4} requests  {item.seconds:.2f}s  [{item.status}]"
        )


def _show_tree(root: Path, echo: Callable[[str], None]) -> None:
    files = sorted(path for path in root.rglob("*") if path.is_file() and path.name != MARKER)
    data = [path for path in files if path.suffix in (".ndjson", ".gz")]
    echo(f"\nWrote {len(data)} NDJSON objects under {root}:")
    shown = data if len(data) <= 6 else [*data[:3], None, *data[-3:]]
    for path in shown:
        echo(f"  {path.relative_to(root)}" if path else "  ...")
    echo(f"Checkpoints: {[str(p.relative_to(root)) for p in files if p.name.endswith('.json')]}")
    echo("Each line of an object is one raw Zendesk record. Next: point zdlogs at your account (see README).")
