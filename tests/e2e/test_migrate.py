"""Taking over from the original Cloud Run function: its ticket cursor reused, the audit log from a time."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson

from tests.conftest import CANARY_EMAIL, CANARY_TOKEN
from tests.e2e.helpers import audit_ids, collector_env, sim_config, ticket_versions, zdlogs
from tests.gcs_fixture import FakeGCS
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
        assert "delete the function's state object" in imported.stdout
        again = zdlogs("import-state", "--from", str(old), "--audit-since", cutoff.isoformat(), env=env)
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
    bad.write_text('{"foo": 1}')
    foo = zdlogs("import-state", "--from", str(bad), "--audit-since", "2026-01-01", "-o", str(tmp_path / "out"))
    assert foo.returncode == 2 and "not the original function's state (unexpected keys foo)" in foo.stderr
    assert "or at a local copy of it" in foo.stderr and "Traceback" not in foo.stderr
    assert not (tmp_path / "out").exists()


def test_import_state_without_audit_since_imports_nothing_and_asks_for_it(tmp_path: Path) -> None:
    old = tmp_path / "old.json"
    old.write_text('{"audit_logs": {"next_url": null}, "incremental_tickets": {"cursor": "abc"}}')
    result = zdlogs("import-state", "--from", str(old), "-o", str(tmp_path / "out"))
    lines = [line for line in result.stderr.splitlines() if line.startswith("zdlogs: error:")]
    assert result.returncode == 2 and len(lines) == 1 and "Traceback" not in result.stderr
    assert "holds no time for the audit log" in lines[0] and "pass --audit-since" in lines[0]
    assert not (tmp_path / "out").exists()


def test_import_state_from_gs_refuses_other_json_and_advises_for_the_bucket(
    tmp_path: Path, gcs_server: FakeGCS
) -> None:
    bucket = gcs_server.create_bucket()
    env = {**collector_env("http://127.0.0.1:9", tmp_path), **gcs_server.env}
    gcs_server.write(bucket, "zendesk/crm/state.json", b'{"foo": 1}')
    source = f"gs://{bucket}/zendesk/crm/state.json"
    refused = zdlogs("import-state", "--from", source, "--audit-since", "2026-01-01", "-o", f"gs://{bucket}/", env=env)
    assert refused.returncode == 2 and "local" not in refused.stderr, refused.stderr
    assert "point --from at the object of the function's STATE_KEY" in refused.stderr
    gcs_server.write(bucket, "zendesk/crm/state.json", b'{"audit_logs": {}, "incremental_tickets": {"cursor": "c"}}')
    done = zdlogs("import-state", "--from", source, "--audit-since", "2026-01-01", "-o", f"gs://{bucket}/", env=env)
    assert done.returncode == 0, done.stderr
    assert f"delete {source}: it sits in the feed prefix" in done.stdout
    assert orjson.loads(gcs_server.read(bucket, "_zdlogs/state.json") or b"")["streams"]["incremental_tickets"]
