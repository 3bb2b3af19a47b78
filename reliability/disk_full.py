"""Storage-side fault: a real full disk (a small tmpfs filled up mid-collection; needs root for `mount`).

    sudo .venv/bin/python -m reliability.disk_full

The output lives on a 4 MiB tmpfs, almost filled by a ballast file, so the kernel answers ENOSPC in the
middle of a collection. The run must stop with exit 5 and a one-line error, the checkpoint must not move
past stored data, and once space is freed the next run must complete: 0 lost, 0 duplicated.
(CI runs the same check with a sink that raises ENOSPC: tests/e2e/test_resilience.py -k disk.)
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import orjson

from reliability.common import account, compare, drain, env_for, records, report, settings_for, start_run
from zdlogs.simulator import Simulator

SIZE = "4m"


def checkpoint_within_stored(root: Path) -> bool:
    """The audit checkpoint's second is not later than the newest stored audit record."""
    state = orjson.loads((root / "_zdlogs/state.json").read_bytes())["streams"].get("audit_logs", {})
    since = state.get("checkpoint", {}).get("since")
    stored = [
        orjson.loads(line)["created_at"]
        for p in (root / "zendesk/crm/audit_logs").rglob("*.ndjson")
        for line in p.read_bytes().splitlines()
    ]
    return since is None or (bool(stored) and since <= max(stored))


def main() -> bool:
    with tempfile.TemporaryDirectory() as mount_point, Simulator(account(audit_logs=6000, tickets=100)).start() as sim:
        root = Path(mount_point)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(root)], check=True)
        try:
            ballast = root / "ballast"
            ballast.write_bytes(b"\0" * (3 * 1024 * 1024))  # leaves ~1 MiB: about a third of the records fit
            process = start_run(env_for(sim.url, str(root), RESOURCES="audit_logs", MAX_PAGES="1000"))
            _out, err = process.communicate(timeout=300)
            one_line = [line for line in err.splitlines() if line.startswith("zdlogs: error:")]
            print(f"disk-full suite: first run exit {process.returncode}: {one_line[0] if one_line else err[-300:]}")
            consistent = checkpoint_within_stored(root)
            print(f"  checkpoint within stored data: {consistent}")
            ballast.unlink()
            drain(settings_for(sim.url, str(root), resources="audit_logs"))
            outcome = compare(sim.truth(), {"audit_logs": records(root, "audit_logs")})
            passed = report(outcome, 0)
        finally:
            subprocess.run(["umount", str(root)], check=False)
    return process.returncode == 5 and len(one_line) == 1 and consistent and passed


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
