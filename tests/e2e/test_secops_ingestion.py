"""`zdlogs run --output secops://…` as a process: the bundled Zendesk simulator on one side, the fake SecOps
ingestion API (tests/destinations/secops_fake.py) on the other. Every simulator record arrives exactly once, a
second run sends only what is new, transient failures are retried, a refused batch stops the run without
moving the checkpoint, and a page stopped between its batches is completed without a duplicate."""

from __future__ import annotations

import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.destinations.secops_fake import FakeSecOps, Fault, secops_fake
from tests.e2e.helpers import collector_env, duplicates, zdlogs
from zdlogs.simulator import Simulator

__all__ = ["secops_fake"]


def secops_run(sim: Simulator, fake: FakeSecOps, state: Path, *extra: str) -> subprocess.CompletedProcess:
    """One scheduled run into SecOps; nothing it prints may hold a token or the service account's key."""
    args = ["run", "--output", fake.output, "--secops-endpoint", fake.url, "--secops-state", str(state), *extra]
    result = zdlogs(*args, env=collector_env(sim.url, state / "unused-output"), timeout=180)
    printed = result.stdout + result.stderr
    assert fake.account and fake.account.key_material not in printed
    assert not any(token in printed for token in fake.tokens_issued)
    return result


def delivered(fake: FakeSecOps, kind: str) -> list[dict[str, Any]]:
    return [record for record in fake.records() if f"/api/v2/{kind}/" in record["url"]]


def assert_delivered_once(sim: Simulator, fake: FakeSecOps) -> None:
    """Every audit record exactly once; every ticket's latest version, no version twice; a valid shape."""
    truth = sim.truth()
    audit = Counter(record["id"] for record in delivered(fake, "audit_logs"))
    assert duplicates(audit) == []
    assert set(audit) == {record["id"] for record in truth["audit_logs"]}
    versions = Counter((record["id"], record["updated_at"]) for record in delivered(fake, "tickets"))
    assert duplicates(versions) == []
    assert set(versions) <= {tuple(item) for item in truth["ticket_versions"]}
    latest: dict[int, str] = {}
    for ticket_id, updated in truth["ticket_versions"]:
        latest[ticket_id] = max(latest.get(ticket_id, updated), updated)
    assert set(latest.items()) <= set(versions), "the latest version of some ticket was not delivered"
    assert fake.violations == []


def error_lines(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("zdlogs: error:")]


def checkpoints(state: Path) -> dict[str, Any]:
    doc = orjson.loads((state / "_zdlogs/state.json").read_bytes())
    return {name: entry["checkpoint"] for name, entry in doc["streams"].items()}


@pytest.fixture
def settled(sim: Simulator) -> Simulator:
    time.sleep(2.2)  # past the settle delay and the simulator's recent-second exclusion
    return sim


def test_every_record_arrives_once_and_a_second_run_sends_only_the_new_ones(
    settled: Simulator, secops_fake: FakeSecOps, tmp_path: Path
) -> None:
    first = secops_run(settled, secops_fake, tmp_path)
    assert first.returncode == 0, first.stderr
    assert_delivered_once(settled, secops_fake)
    assert {item["log_entry_time"][:19] for item in secops_fake.accepted[:5]} == {
        record["created_at"][:19] for record in secops_fake.records()[:5]
    }
    before = len(secops_fake.records())

    new = settled.append_audit_logs(5)
    time.sleep(2.2)
    second = secops_run(settled, secops_fake, tmp_path)
    assert second.returncode == 0, second.stderr
    assert sorted(record["id"] for record in secops_fake.records()[before:]) == sorted(record["id"] for record in new)
    assert_delivered_once(settled, secops_fake)


def test_rate_limits_and_server_errors_are_retried_and_nothing_is_lost(
    settled: Simulator, secops_fake: FakeSecOps, tmp_path: Path
) -> None:
    secops_fake.inject(
        Fault(status=429, times=2, retry_after="1", message="Quota exceeded for quota metric 'Import requests'"),
        Fault(status=503, times=2, after=3, message="The service is currently unavailable."),
        Fault(status=0, times=1, after=2),
    )
    result = secops_run(settled, secops_fake, tmp_path, "--object-records", "0")  # a call per page: enough calls
    assert result.returncode == 0, result.stderr
    assert Counter(call.status for call in secops_fake.calls)[429] == 2
    assert Counter(call.status for call in secops_fake.calls)[503] == 2
    assert '"secops_retrying"' in result.stderr
    assert_delivered_once(settled, secops_fake)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, "HTTP 400: Invalid argument: log entry 7 could not be decoded"),
        (403, "grant the service account a role with chronicle.logs.import"),
    ],
)
def test_a_refused_batch_stops_the_run_with_one_line_and_the_next_run_delivers_everything(
    settled: Simulator, secops_fake: FakeSecOps, tmp_path: Path, status: int, expected: str
) -> None:
    secops_fake.inject(Fault(status=status, times=-1, message="Invalid argument: log entry 7 could not be decoded"))
    failed = secops_run(settled, secops_fake, tmp_path)
    assert failed.returncode == 5
    assert len(error_lines(failed)) == 1 and expected in error_lines(failed)[0], failed.stderr
    assert secops_fake.records() == []
    assert all(checkpoint == {} for checkpoint in checkpoints(tmp_path).values()), "the checkpoint moved"

    secops_fake.clear_faults()
    again = secops_run(settled, secops_fake, tmp_path)
    assert again.returncode == 0, again.stderr
    assert_delivered_once(settled, secops_fake)


def test_a_page_stopped_between_its_batches_is_completed_without_a_duplicate(
    settled: Simulator, secops_fake: FakeSecOps, tmp_path: Path
) -> None:
    """Batch 2 of the first page fails for good (as if the run had been killed there); the next run
    re-sends only the batches SecOps had not accepted."""
    secops_fake.limit = 20_000
    secops_fake.inject(Fault(status=400, after=1, times=-1, message="stopped on purpose"))
    stopped = secops_run(settled, secops_fake, tmp_path, "--secops-batch-bytes", "20000")
    assert stopped.returncode == 5 and "batch 2/" in error_lines(stopped)[0], stopped.stderr
    first_batch = [record["id"] for record in secops_fake.records()]
    assert 0 < len(first_batch) < 100, "the first page should span several batches"
    assert len(list((tmp_path / "_zdlogs/secops").rglob("*.batch"))) == 1

    secops_fake.clear_faults()
    resumed = secops_run(settled, secops_fake, tmp_path, "--secops-batch-bytes", "20000")
    assert resumed.returncode == 0, resumed.stderr
    assert_delivered_once(settled, secops_fake)
    assert all(call.bytes <= 20_000 for call in secops_fake.calls)
    assert Counter(record["id"] for record in delivered(secops_fake, "audit_logs"))[first_batch[0]] == 1


def test_an_object_of_many_pages_stopped_between_its_batches_is_completed_without_a_duplicate(
    settled: Simulator, secops_fake: FakeSecOps, tmp_path: Path
) -> None:
    """Objects of many pages (issue 17): one object's batches span pages; batch 3 fails for good (a kill there), the
    next run fetches the same records from the committed checkpoint, names the same object and re-sends only the
    batches SecOps had not accepted, the `.batch` markers keeping their meaning across pages."""
    options = ("--secops-batch-bytes", "100000", "--object-records", "5000", "--resources", "audit_logs")
    secops_fake.inject(Fault(status=400, after=2, times=-1, message="stopped on purpose"))
    stopped = secops_run(settled, secops_fake, tmp_path, *options)
    assert stopped.returncode == 5 and "batch 3/" in error_lines(stopped)[0], stopped.stderr
    accepted = [record["id"] for record in secops_fake.records()]
    assert len(accepted) > 100, "the first two batches should hold more than a page"
    assert len(list((tmp_path / "_zdlogs/secops").rglob("*.batch"))) == 2

    secops_fake.clear_faults()
    resumed = secops_run(settled, secops_fake, tmp_path, *options)
    assert resumed.returncode == 0, resumed.stderr
    audit = Counter(record["id"] for record in delivered(secops_fake, "audit_logs"))
    assert duplicates(audit) == [] and set(audit) == {record["id"] for record in settled.truth()["audit_logs"]}
    assert len(list((tmp_path / "_zdlogs/secops").rglob("*.done"))) == 1  # the 800 records: one object


def test_each_stream_goes_under_its_log_type_gzipped_and_a_stream_set_to_none_is_not_sent(
    settled: Simulator, secops_fake: FakeSecOps, tmp_path: Path
) -> None:
    """The CLI's settings reach the sink: ZDLOGS_SECOPS_LOG_TYPES over the defaults, one import URL per type."""
    secops_fake.log_types |= {"ZENDESK_TICKETS"}
    result = secops_run(
        settled,
        secops_fake,
        tmp_path,
        "--resources",
        "audit_logs,incremental_tickets,users",
        "--secops-log-types",
        "incremental_tickets=zendesk_tickets,users=",
    )
    assert result.returncode == 0, result.stderr
    by_type = Counter(call.log_type for call in secops_fake.accepted_calls())
    assert set(by_type) == {"ZENDESK_CRM", "ZENDESK_TICKETS"}
    assert {"/api/v2/audit_logs/" in r["url"] for r in secops_fake.records("ZENDESK_CRM")} == {True}
    assert {"/api/v2/tickets/" in r["url"] for r in secops_fake.records("ZENDESK_TICKETS")} == {True}
    assert not any("/api/v2/users/" in r["url"] for r in secops_fake.records())
    assert '"secops_stream_not_sent"' in result.stderr
    assert {(call.version, call.encoding) for call in secops_fake.calls} == {("v1beta", "gzip")}
    assert_delivered_once(settled, secops_fake)
