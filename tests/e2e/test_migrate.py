"""Taking over from the original Cloud Run function: its ticket cursor reused, the audit log from a time."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson

from tests.conftest import CANARY_EMAIL, CANARY_TOKEN
from tests.e2e.helpers import audit_ids, collector_env, sim_config, ticket_versions, zdlogs
from zdlogs.simulator import Simulator


def old_function_cursor(sim: Simulator) -> str:
    """Where the original function would have left the ticket export: the end of the stream today."""
    start = int((datetime.now(UTC) - timedelta(days=60)).timestamp())
    params = {"start_time": start, "per_page": 1000}
    body = httpx.get(
        f"{sim.url}/api/v2/incremental/tickets/cursor.json", params=params, auth=(f"{CANARY_EMAIL}/token", CANARY_TOKEN)
    ).json()
    assert body["end_of_stream"] is True
    return body["after_cursor"]


def test_import_state_reuses_the_ticket_cursor_and_resumes_audit_from_a_time(tmp_path: Path) -> None:
    with Simulator(sim_config(audit_logs=300, tickets=50)).start() as sim:
        old = tmp_path / "old-state.json"
        next_url = f"{sim.url}/api/v2/audit_logs.json?page=3"
        old.write_bytes(
            orjson.dumps(
                {"audit_logs": {"next_url": next_url}, "incremental_tickets": {"cursor": old_function_cursor(sim)}}
            )
        )
        cutoff = datetime.now(UTC) - timedelta(days=3)
        out = tmp_path / "out"
        env = collector_env(sim.url, out)
        imported = zdlogs("import-state", "--from", str(old), "--audit-since", cutoff.isoformat(), env=env)
        assert imported.returncode == 0, imported.stderr
        assert "Delete" in imported.stdout
        again = zdlogs("import-state", "--from", str(old), env=env)
        assert again.returncode == 5 and "--force" in again.stderr  # never overwrites our checkpoints
        sim.update_tickets(4)

        time.sleep(2.2)
        result = zdlogs("run", env=env)
        assert result.returncode == 0, result.stderr
        truth = sim.truth()["audit_logs"]
        expected = {r["id"] for r in truth if r["created_at"] >= cutoff.strftime("%Y-%m-%dT%H:%M:%SZ")}
        assert set(audit_ids(out)) == expected  # from the cut-off on, nothing older
        assert len(ticket_versions(out)) == 4  # only what changed after the old function's cursor


def test_import_state_refuses_what_is_not_the_old_state(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    result = zdlogs("import-state", "--from", str(bad), "-o", str(tmp_path / "out"))
    assert result.returncode == 2 and "not the original function's state" in result.stderr
    missing = zdlogs("import-state", "--from", str(tmp_path / "nope.json"), "-o", str(tmp_path / "out"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr
