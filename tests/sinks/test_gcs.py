"""The GCS sink against a real fake-gcs-server: create-once objects, generation-guarded checkpoints,
the lease between processes, clear errors, and a whole collection run into a bucket."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from google.api_core import exceptions as gexc
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from tests.e2e.helpers import collector_settings, sim_config
from tests.gcs_fixture import FakeGCS
from zdlogs.errors import ConfigError, StorageError
from zdlogs.ndjson import object_key
from zdlogs.pipeline import run
from zdlogs.simulator import Simulator
from zdlogs.sinks import open_sink
from zdlogs.sinks.gcs import GCSLease, GCSSink
from zdlogs.state import StateStore

LEASE = "_zdlogs/state.json.lease"
STATE = "_zdlogs/state.json"


@pytest.fixture
def bucket(gcs_server: FakeGCS, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket, with zdlogs pointed at the fake server the standard way."""
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_server.endpoint)
    return gcs_server.create_bucket()


def _lease_doc(owner: str, expires_in: float) -> bytes:
    now = datetime.now(UTC)
    expires = now + timedelta(seconds=expires_in)
    return orjson.dumps({"owner": owner, "since": now.isoformat(), "expires": expires.isoformat()})


def _subprocess_env(gcs: FakeGCS) -> dict[str, str]:
    return {**os.environ, **gcs.env, "NO_GCE_CHECK": "true"}


# -- objects ------------------------------------------------------------------------------------------


def test_put_if_absent_creates_once_and_keeps_the_first_content(gcs_server: FakeGCS, bucket: str) -> None:
    sink = GCSSink(bucket)
    key = "zendesk/crm/audit_logs/2026/11/25/a.ndjson"
    assert sink.put_if_absent(key, b'{"id":1}\n') is True
    assert sink.put_if_absent(key, b'{"id":2}\n') is False
    assert gcs_server.read(bucket, key) == b'{"id":1}\n'
    assert sink.exists(key) and not sink.exists("zendesk/crm/other.ndjson")


def test_open_sink_roots_the_layout_at_the_url_path_and_labels_content(gcs_server: FakeGCS, bucket: str) -> None:
    sink = open_sink(f"gs://{bucket}/some/root")
    assert isinstance(sink, GCSSink) and sink.url == f"gs://{bucket}/some/root/"
    body = b'{"id":1}\n'
    plain = object_key("zendesk/crm/", "audit_logs", "2026-11-25", "1", body, "none")
    packed = object_key("zendesk/crm/", "audit_logs", "2026-11-25", "1", body, "gzip")
    sink.put_if_absent(plain, body)
    sink.put_if_absent(packed, b"\x1f\x8b")
    assert gcs_server.names(bucket) == sorted([f"some/root/{plain}", f"some/root/{packed}"])
    client = storage.Client(project="test", credentials=AnonymousCredentials())
    types = {blob.name: blob.content_type for blob in client.list_blobs(bucket)}
    assert types == {f"some/root/{plain}": "application/x-ndjson", f"some/root/{packed}": "application/gzip"}
    assert open_sink(f"gs://{bucket}").url == f"gs://{bucket}/"


def test_read_is_none_when_absent_and_replace_follows_its_own_generations(gcs_server: FakeGCS, bucket: str) -> None:
    sink = GCSSink(bucket)
    assert sink.read(STATE) is None
    sink.replace(STATE, b'{"n": 1}')  # created: it was absent when read
    sink.replace(STATE, b'{"n": 2}')  # the generation we wrote
    assert sink.read(STATE) == b'{"n": 2}'
    sink.replace(STATE, b'{"n": 3}')  # the generation we read
    assert gcs_server.read(bucket, STATE) == b'{"n": 3}'


def test_a_second_writer_cannot_advance_the_same_checkpoint(gcs_server: FakeGCS, bucket: str) -> None:
    first, second = StateStore(GCSSink(bucket), STATE), StateStore(GCSSink(bucket), STATE)
    first.commit("audit_logs", {"second": "2026-11-25T10:00:00Z"})
    with pytest.raises(StorageError, match="another writer changed") as raised:
        second.commit("audit_logs", {"second": "2026-11-25T11:00:00Z"})
    assert "\n" not in str(raised.value)
    stored = orjson.loads(gcs_server.read(bucket, STATE) or b"")
    assert stored["streams"]["audit_logs"]["checkpoint"] == {"second": "2026-11-25T10:00:00Z"}


def test_a_checkpoint_never_read_is_not_overwritten(gcs_server: FakeGCS, bucket: str) -> None:
    gcs_server.write(bucket, STATE, b'{"theirs": true}')
    with pytest.raises(StorageError, match="another writer"):
        GCSSink(bucket).replace(STATE, b'{"ours": true}')
    assert gcs_server.read(bucket, STATE) == b'{"theirs": true}'


def test_a_412_against_our_own_bytes_counts_as_written(gcs_server: FakeGCS, bucket: str) -> None:
    """What a library retry meets when its first attempt landed: the object already holds our bytes."""
    sink = GCSSink(bucket)
    assert sink.read(STATE) is None
    gcs_server.write(bucket, STATE, b'{"n": 1}')  # "our first attempt", which the library did not see succeed
    sink.replace(STATE, b'{"n": 1}')
    sink.replace(STATE, b'{"n": 2}')  # and the adopted generation is the one the next write is checked against
    assert gcs_server.read(bucket, STATE) == b'{"n": 2}'


# -- lease --------------------------------------------------------------------------------------------

RACER = """
import json, sys, time
from zdlogs.sinks.gcs import GCSSink
bucket, start, name = sys.argv[1], float(sys.argv[2]), sys.argv[3]
sink = GCSSink(bucket, lease_ttl=60)
time.sleep(max(0.0, start - time.time()))
with sink.lease("_zdlogs/state.json.lease", name) as lease:
    print(json.dumps({"name": name, "acquired": lease.acquired, "owner": lease.owner}), flush=True)
    if lease.acquired:
        sys.stdin.readline()  # hold it until every racer has answered
"""


def _race(gcs: FakeGCS, bucket: str, racers: int = 4) -> list[dict]:
    """Start ``racers`` processes that ask for the lease at the same instant; their answers."""
    start = time.time() + 2.5  # every process has imported google-cloud-storage by then
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, bucket, str(start), f"racer-{n}"],
            env=_subprocess_env(gcs),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(racers)
    ]
    try:
        results = [_answer(proc) for proc in procs]
    finally:
        for proc in procs:
            _, err = proc.communicate(input="release\n", timeout=60)
            assert proc.returncode == 0, err
    return results


def _answer(proc: subprocess.Popen) -> dict:
    """The racer's JSON line (log lines, such as a takeover warning, may come first)."""
    for line in proc.stdout:  # type: ignore[union-attr]
        if line.startswith('{"name"'):
            return orjson.loads(line)
    raise AssertionError(f"racer said nothing: {proc.stderr.read() if proc.stderr else ''}")


def _one_winner(results: list[dict]) -> str:
    winners = [item["name"] for item in results if item["acquired"]]
    assert len(winners) == 1, results
    assert all(item["owner"] == winners[0] for item in results if not item["acquired"]), results
    return winners[0]


def test_processes_racing_for_a_free_lease_exactly_one_acquires(gcs_server: FakeGCS, bucket: str) -> None:
    _one_winner(_race(gcs_server, bucket))
    assert gcs_server.read(bucket, LEASE) is None  # the winner released it


def test_processes_racing_to_take_over_an_expired_lease_exactly_one_wins(gcs_server: FakeGCS, bucket: str) -> None:
    gcs_server.write(bucket, LEASE, _lease_doc("crashed-run:1", expires_in=-60))
    _one_winner(_race(gcs_server, bucket))


def test_a_live_lease_is_reported_with_its_holder_and_left_alone(gcs_server: FakeGCS, bucket: str) -> None:
    held = _lease_doc("other-host:42", expires_in=600)
    gcs_server.write(bucket, LEASE, held)
    with GCSSink(bucket).lease(LEASE, "me:1") as lease:
        assert not lease.acquired and lease.owner == "other-host:42" and lease.expires
    assert gcs_server.read(bucket, LEASE) == held


def test_a_lease_is_ours_while_held_and_deleted_on_exit(gcs_server: FakeGCS, bucket: str) -> None:
    sink = GCSSink(bucket)
    with sink.lease(LEASE, "me:1") as lease:
        assert lease.acquired and isinstance(lease, GCSLease) and not lease.lease_lost()
        assert orjson.loads(gcs_server.read(bucket, LEASE) or b"")["owner"] == "me:1"
        with GCSSink(bucket).lease(LEASE, "me:2") as second:
            assert not second.acquired and second.owner == "me:1"
    assert gcs_server.read(bucket, LEASE) is None


def test_release_leaves_a_lease_that_another_run_took_over(gcs_server: FakeGCS, bucket: str) -> None:
    with GCSSink(bucket, lease_ttl=60).lease(LEASE, "slow-run:1") as lease:
        assert lease.acquired
        gcs_server.write(bucket, LEASE, _lease_doc("new-run:2", expires_in=600))  # it stalled past expiry
    assert orjson.loads(gcs_server.read(bucket, LEASE) or b"")["owner"] == "new-run:2"


def test_renewal_keeps_the_lease_alive_past_its_ttl(gcs_server: FakeGCS, bucket: str) -> None:
    ttl = 1.5
    with GCSSink(bucket, lease_ttl=ttl).lease(LEASE, "long-run:1") as lease:
        first_expiry = datetime.fromisoformat(lease.expires)
        time.sleep(ttl * 2)
        with GCSSink(bucket, lease_ttl=ttl).lease(LEASE, "next-run:2") as other:
            assert not other.acquired and other.owner == "long-run:1"
        assert datetime.fromisoformat(orjson.loads(gcs_server.read(bucket, LEASE) or b"")["expires"]) > first_expiry
        assert not lease.lease_lost()


def test_a_renewal_that_finds_the_lease_taken_over_reports_it_lost(gcs_server: FakeGCS, bucket: str) -> None:
    sink = GCSSink(bucket, lease_ttl=0.6)
    with sink.lease(LEASE, "stalled-run:1") as lease:
        gcs_server.write(bucket, LEASE, _lease_doc("new-run:2", expires_in=600))
        deadline = time.monotonic() + 5
        while not lease.lease_lost() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert lease.lease_lost() and sink.lease_lost()
    assert orjson.loads(gcs_server.read(bucket, LEASE) or b"")["owner"] == "new-run:2"


# -- errors and configuration -------------------------------------------------------------------------


def test_a_missing_bucket_is_one_line_naming_the_fix(gcs_server: FakeGCS, bucket: str) -> None:
    with pytest.raises(StorageError) as raised:
        open_sink("gs://no-such-bucket-zdlogs/")
    assert str(raised.value) == ("bucket no-such-bucket-zdlogs does not exist: create it or fix GCS_BUCKET / --output")


def test_permission_denied_names_the_role_to_grant(bucket: str) -> None:
    """fake-gcs-server has no IAM, so the 403 is the library's own exception type, built here."""
    message = GCSSink(bucket)._describe(gexc.Forbidden("sa@p.iam.gserviceaccount.com lacks access"), "write", "k")
    assert "grant roles/storage.objectAdmin on the bucket" in message and "\n" not in message


def test_without_credentials_or_emulator_the_error_says_how_to_get_them() -> None:
    with pytest.raises(ConfigError, match="no Google credentials found") as raised:
        open_sink("gs://bucket/")
    assert "gcloud auth application-default login" in str(raised.value)


@pytest.mark.parametrize("url", ["gs://", "gs:///root/"])
def test_a_gs_url_without_bucket_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError, match="gs://BUCKET/"):
        open_sink(url)


def test_an_emulator_host_without_scheme_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", "127.0.0.1:4443")
    with pytest.raises(ConfigError, match="needs a scheme"):
        open_sink("gs://bucket/")


def test_without_the_library_gs_output_names_the_extra() -> None:
    code = (
        "import sys; sys.modules['google.cloud.storage'] = None\n"
        "from zdlogs.sinks import open_sink\n"
        "from zdlogs.errors import ConfigError\n"
        "try:\n    open_sink('gs://bucket/')\nexcept ConfigError as exc:\n    print(exc)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "gs:// output needs the GCS extra: pip install 'zdlogs[gcs]'", result.stderr


# -- a whole run --------------------------------------------------------------------------------------


def _stored_audit_ids(gcs: FakeGCS, bucket: str) -> Counter:
    ids: Counter = Counter()
    for name in gcs.names(bucket, "zendesk/crm/audit_logs/"):
        ids.update(orjson.loads(line)["id"] for line in (gcs.read(bucket, name) or b"").splitlines())
    return ids


def test_a_collection_run_into_a_bucket_and_a_second_run_adds_nothing(gcs_server: FakeGCS, bucket: str) -> None:
    with Simulator(sim_config(audit_logs=300, tickets=40)).start() as sim:
        settings = collector_settings(sim.url, "", gcs_bucket=bucket)  # type: ignore[arg-type]
        assert settings.output == f"gs://{bucket}/"  # GCS_BUCKET alone: GCS_PREFIX is applied once
        first = run(settings)
        names = gcs_server.names(bucket)
        second = run(settings)
        truth = {record["id"] for record in sim.truth()["audit_logs"]}
    assert all(item.status == "ok" for item in first.streams + second.streams)
    assert gcs_server.names(bucket) == names
    assert sum(item.objects for item in second.streams) == 0
    data = [name for name in names if name != STATE]
    assert data and all(name.startswith("zendesk/crm/") for name in data)
    assert any(name.startswith("zendesk/crm/audit_logs/") for name in data)
    assert any(name.startswith("zendesk/crm/incremental_tickets/") for name in data)
    assert STATE in names and LEASE not in names
    ids = _stored_audit_ids(gcs_server, bucket)
    assert set(ids) == truth and max(ids.values()) == 1


def test_the_lease_thread_stops_with_the_block(bucket: str) -> None:
    with GCSSink(bucket, lease_ttl=0.3).lease(LEASE, "me:1"):
        pass
    time.sleep(0.2)
    assert not [t for t in threading.enumerate() if t.name == "zdlogs-lease-renewal"]
