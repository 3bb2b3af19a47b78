"""``zdlogs demo``: the whole job on the bundled simulator, for someone without a Zendesk account.

Two passes show the point of the collector: the first collects the simulated history, the second,
after new activity, collects exactly the new records and nothing twice. The simulated history ends when
the demo runs, so the night of its compromised admin moves with the clock: the demo ends by finding it in
what it collected and printing the exact ``report incident`` command, which the README can then describe
instead of giving a date that would go stale.

With ``--profile detections`` the history is instead benign to every detection rule but for one planted
incident per rule (``zdlogs.simulator._planted``); the demo writes their record ids, rule by rule, to
``planted-incidents.json`` next to the data, the ground truth ``zdlogs detect`` is measured against.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from zdlogs.config import KNOWN_RESOURCES, load_settings
from zdlogs.pipeline import RunSummary, run
from zdlogs.simulator import SimConfig, Simulator
from zdlogs.simulator._generate import INCIDENT_IP
from zdlogs.times import iso_z, parse_utc

MARKER = ".zdlogs-demo"
PLANTED_FILE = "planted-incidents.json"
SETTLE_SECONDS = 2


def run_demo(
    output: str, *, audit_logs: int, tickets: int, seed: int, echo: Callable[[str], None], profile: str = "default"
) -> None:
    config = _sim_config(seed=seed, audit_logs=audit_logs, tickets=tickets, profile=profile)
    root = _fresh_directory(Path(output))
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
        planted = sim.planted()
    _show_tree(root, echo)
    if profile == "detections":
        _write_planted(output, seed, planted, echo)
    _next_steps(output, root / settings.data_prefix.strip("/") / "audit_logs", echo)


def _sim_config(**account: Any) -> SimConfig:
    """The demo's account; a profile or size the simulator refuses is one line naming the option."""
    from zdlogs.errors import ConfigError
    from zdlogs.simulator import SimConfigError

    try:
        return SimConfig(recent_exclusion_seconds=1, **account)
    except SimConfigError as exc:
        raise ConfigError(f"--{exc.field.replace('_', '-')} {exc.value}: give a value {exc.rule}") from None


def _write_planted(output: str, seed: int, planted: dict[str, list[int | str]], echo: Callable[[str], None]) -> None:
    """The ground truth of the detections profile: rule id -> the ids of the records planted to fire it."""
    path = Path(output) / PLANTED_FILE
    body = {"profile": "detections", "seed": seed, "planted": planted}
    path.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    echo(f"\nThe history is benign but for one planted incident per detection rule ({len(planted)}): ids in {path}.")
    echo(f"Find them: {invoked_as()} detect --input {shlex.quote(output)}")


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
    checkpoints = [str(p.relative_to(root)) for p in files if p.name.endswith(".json") and p.name != PLANTED_FILE]
    echo(f"Checkpoints: {checkpoints}")
    echo("Each line of an object is one raw Zendesk record.")


def _next_steps(output: str, audit_folder: Path, echo: Callable[[str], None]) -> None:
    """The analyst's commands on what was collected, the incident one with the time it happened this time."""
    program, where = invoked_as(), shlex.quote(output)
    echo('\nAnswer the audit questions on it (README, "Export and reports"):')
    echo(f"  {program} report activity --input {where}")
    incident = sorted(
        (record["created_at"], record.get("actor_name") or "")
        for record in _records(audit_folder)
        if record.get("ip_address") == INCIDENT_IP
    )
    if incident:
        first, last = parse_utc(incident[0][0]), parse_utc(incident[-1][0])
        echo(
            f"The history hides a compromised admin: {incident[0][1]} signed in from {INCIDENT_IP} at {iso_z(first)}, "
            f"then {len(incident) - 1} more records until {iso_z(last)}. See them:"
        )
        echo(f"  {program} report incident --input {where} --around {incident_time(first, last)} --window 30m")
    echo("Next: point zdlogs at your account (see README).")


def incident_time(first: datetime, last: datetime) -> str:
    """The middle of the incident to the minute, as ``--around`` takes it: ``2026-11-07T02:20Z``."""
    middle = first + (last - first) / 2
    return (middle - timedelta(seconds=middle.second, microseconds=middle.microsecond)).strftime("%Y-%m-%dT%H:%MZ")


def _records(folder: Path) -> Iterator[dict[str, Any]]:
    for path in sorted(folder.rglob("*.ndjson")):
        with path.open(encoding="utf-8") as lines:
            yield from (json.loads(line) for line in lines if line.strip())


def invoked_as() -> str:
    """How the user ran zdlogs, so the printed commands can be pasted: ``.venv/bin/zdlogs`` after ``make demo``,
    ``zdlogs`` when that is on PATH, ``python -m zdlogs`` from a module run."""
    argv0 = sys.argv[0] if sys.argv else ""
    if Path(argv0).name == "__main__.py" and Path(argv0).parent.name == "zdlogs":
        return "python -m zdlogs"
    if Path(argv0).name != "zdlogs":
        return "zdlogs"
    on_path = shutil.which("zdlogs")
    return "zdlogs" if on_path and os.path.samefile(on_path, argv0) else shlex.quote(argv0)
