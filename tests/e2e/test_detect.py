"""``zdlogs detect`` through the real parts: the simulator's detections profile (a benign history with one
planted incident per rule) served over HTTP, collected by ``zdlogs run`` as a process, then ``zdlogs detect``
as a process finding exactly the planted records, each rule its own."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.e2e.helpers import collector_env, sim_config, zdlogs
from tests.gcs_fixture import FakeGCS
from zdlogs.simulator import Simulator


def test_detect_finds_each_planted_incident_and_nothing_else_in_what_run_collected(tmp_path: Path) -> None:
    config = sim_config(profile="detections", audit_logs=600, access_logs=300, tickets=5, users=20, organizations=3)
    with Simulator(config).start() as sim:
        env = collector_env(sim.url, tmp_path)
        collected = zdlogs("run", "--resources", "audit_logs,access_logs", env=env)
        assert collected.returncode == 0, collected.stderr
        planted = sim.planted()
    _assert_finds_exactly(planted, zdlogs("detect", "--input", str(tmp_path), "--format", "json", env=env))

    failing = zdlogs("detect", "--input", str(tmp_path), "--fail-on", "high", "--format", "csv", env=env)
    assert failing.returncode == 8
    assert failing.stdout.splitlines()[0] == "rule,severity,time,actor_id,actor_name,ip_address,record_ids,summary"
    assert "findings at or above high" in failing.stderr and "Traceback" not in failing.stderr


def _assert_finds_exactly(planted: dict[str, list], result: subprocess.CompletedProcess) -> None:
    """``detect --format json``'s findings are the planted records, each under its own rule."""
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    found: dict[str, set] = {}
    for finding in shown["findings"]:
        assert set(finding) == {"rule", "severity", "time", "actor_id", "actor_name", "ip_address", "record_ids",
                                "summary"}  # fmt: skip
        found.setdefault(finding["rule"], set()).update(finding["record_ids"])
    assert found == {rule: set(ids) for rule, ids in planted.items()}
    assert set(planted) <= set(shown["rules_run"])


def test_detect_reads_a_gcs_output_through_its_local_mirror(tmp_path: Path, gcs_server: FakeGCS) -> None:
    """``run -o gs://B`` then ``detect --input gs://B``: both streams mirrored into the cache, then judged."""
    bucket = gcs_server.create_bucket()
    config = sim_config(profile="detections", audit_logs=600, access_logs=300, tickets=5, users=20, organizations=3)
    with Simulator(config).start() as sim:
        env = {**collector_env(sim.url, tmp_path), **gcs_server.env, "ZDLOGS_OUTPUT": f"gs://{bucket}"}
        env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
        collected = zdlogs("run", "--resources", "audit_logs,access_logs", env=env)
        assert collected.returncode == 0, collected.stderr
        planted = sim.planted()
    _assert_finds_exactly(planted, zdlogs("detect", "--input", f"gs://{bucket}", "--format", "json", env=env))
    mirror = tmp_path / "cache" / "zdlogs" / "gs" / bucket / "zendesk" / "crm"
    assert {folder.name for folder in mirror.iterdir()} == {"audit_logs", "access_logs"}  # only what detect reads


def test_detect_refuses_an_unknown_rule_and_a_missing_input_in_one_line(tmp_path: Path) -> None:
    env = collector_env("http://127.0.0.1:9", tmp_path)
    missing = zdlogs("detect", "--input", str(tmp_path / "nowhere"), env=env)
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "does not exist" in missing.stderr
    (tmp_path / "zendesk" / "crm" / "audit_logs").mkdir(parents=True)
    (tmp_path / "zendesk" / "crm" / "audit_logs" / "a.ndjson").write_text("")
    unknown = zdlogs("detect", "--input", str(tmp_path), "--rule", "zendesk_nope", env=env)
    assert unknown.returncode == 2 and "--rule zendesk_nope: no such rule" in unknown.stderr


def test_run_with_detect_logs_each_new_finding_once_as_a_json_line(tmp_path: Path) -> None:
    config = sim_config(profile="detections", audit_logs=600, access_logs=300, tickets=5, users=20, organizations=3)
    with Simulator(config).start() as sim:
        env = collector_env(sim.url, tmp_path)
        args = ("--log-format", "json", "run", "--resources", "audit_logs,access_logs", "--detect")
        first = zdlogs(*args, env=env)
        second = zdlogs(*args, env=env)  # new activity is benign: nothing new to log
        planted = sim.planted()
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr

    def findings(result: object) -> list[dict]:
        lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]  # type: ignore[attr-defined]
        return [line for line in lines if line.get("event") == "detection_finding"]

    assert sorted(line["rule"] for line in findings(first)) == sorted(planted)
    assert all(line["level"] == "warning" and line["record_ids"] for line in findings(first))
    assert findings(second) == []
