"""The S3 sink against a real moto server: create-once objects, ETag-guarded checkpoints, the lease
between processes, clear errors, and a whole collection run into a bucket."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from botocore.exceptions import ClientError

from tests.e2e.helpers import collector_settings, sim_config
from tests.s3_fixture import FakeS3, s3_server
from zdlogs.errors import ConfigError, StorageError
from zdlogs.ndjson import object_key
from zdlogs.pipeline import run
from zdlogs.simulator import Simulator
from zdlogs.sinks import open_sink
from zdlogs.sinks.s3 import S3Lease, S3Sink
from zdlogs.state import StateStore

__all__ = ["s3_server"]

LEASE = "_zdlogs/state.json.lease"
STATE = "_zdlogs/state.json"
_AWS_SETTINGS = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
)


@pytest.fixture(autouse=True)
def _no_aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No real AWS settings reach a test: no ~/.aws files, no instance metadata probe."""
    for name in _AWS_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def bucket(s3_server: FakeS3, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh bucket, with zdlogs pointed at the moto server the standard way (environment)."""
    for name, value in s3_server.env.items():
        monkeypatch.setenv(name, value)
    yield s3_server.create_bucket()


def _lease_doc(owner: str, expires_in: float) -> bytes:
    now = datetime.now(UTC)
    expires = now + timedelta(seconds=expires_in)
    return orjson.dumps({"owner": owner, "since": now.isoformat(), "expires": expires.isoformat()})


# -- objects ------------------------------------------------------------------------------------------


def test_put_if_absent_creates_once_and_keeps_the_first_content(s3_server: FakeS3, bucket: str) -> None:
    sink = S3Sink(bucket)
    key = "zendesk/crm/audit_logs/2026/11/25/a.ndjson"
    assert sink.put_if_absent(key, b'{"id":1}\n') is True
    assert sink.put_if_absent(key, b'{"id":2}\n') is False
    assert s3_server.read(bucket, key) == b'{"id":1}\n'
    assert sink.exists(key) and not sink.exists("zendesk/crm/other.ndjson")


def test_open_sink_roots_the_layout_at_the_url_path_and_labels_content(s3_server: FakeS3, bucket: str) -> None:
    sink = open_sink(f"s3://{bucket}/some/root", lease_ttl=30)
    assert isinstance(sink, S3Sink) and sink.url == f"s3://{bucket}/some/root/" and sink.lease_ttl == 30
    body = b'{"id":1}\n'
    plain = object_key("zendesk/crm/", "audit_logs", "2026-11-25", "1", body, "none")
    packed = object_key("zendesk/crm/", "audit_logs", "2026-11-25", "1", body, "gzip")
    sink.put_if_absent(plain, body)
    sink.put_if_absent(packed, b"\x1f\x8b")
    assert s3_server.names(bucket) == sorted([f"some/root/{plain}", f"some/root/{packed}"])
    types = {
        name: s3_server.client.head_object(Bucket=bucket, Key=name)["ContentType"] for name in s3_server.names(bucket)
    }
    assert types == {f"some/root/{plain}": "application/x-ndjson", f"some/root/{packed}": "application/gzip"}
    assert open_sink(f"s3://{bucket}").url == f"s3://{bucket}/"


def test_the_service_specific_endpoint_variable_is_honoured(s3_server: FakeS3, bucket: str, monkeypatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_server.endpoint)
    assert S3Sink(bucket).put_if_absent("k.json", b"{}") is True


def test_read_is_none_when_absent_and_replace_follows_its_own_etags(s3_server: FakeS3, bucket: str) -> None:
    sink = S3Sink(bucket)
    assert sink.read(STATE) is None
    sink.replace(STATE, b'{"n": 1}')  # created: it was absent when read
    sink.replace(STATE, b'{"n": 2}')  # the ETag we wrote
    assert sink.read(STATE) == b'{"n": 2}'
    sink.replace(STATE, b'{"n": 3}')  # the ETag we read
    assert s3_server.read(bucket, STATE) == b'{"n": 3}'


def test_a_second_writer_cannot_advance_the_same_checkpoint(s3_server: FakeS3, bucket: str) -> None:
    first, second = StateStore(S3Sink(bucket), STATE), StateStore(S3Sink(bucket), STATE)
    first.commit("audit_logs", {"second": "2026-11-25T10:00:00Z"})
    with pytest.raises(StorageError, match="another writer changed") as raised:
        second.commit("audit_logs", {"second": "2026-11-25T11:00:00Z"})
    assert "\n" not in str(raised.value)
    stored = orjson.loads(s3_server.read(bucket, STATE) or b"")
    assert stored["streams"]["audit_logs"]["checkpoint"] == {"second": "2026-11-25T10:00:00Z"}


def test_a_checkpoint_changed_after_it_was_read_is_not_overwritten(s3_server: FakeS3, bucket: str) -> None:
    sink = S3Sink(bucket)
    s3_server.write(bucket, STATE, b'{"n": 1}')
    assert sink.read(STATE) == b'{"n": 1}'
    s3_server.write(bucket, STATE, b'{"theirs": true}')
    with pytest.raises(StorageError, match="another writer"):
        sink.replace(STATE, b'{"ours": true}')
    assert s3_server.read(bucket, STATE) == b'{"theirs": true}'


def test_a_checkpoint_never_read_is_not_overwritten(s3_server: FakeS3, bucket: str) -> None:
    s3_server.write(bucket, STATE, b'{"theirs": true}')
    with pytest.raises(StorageError, match="another writer"):
        S3Sink(bucket).replace(STATE, b'{"ours": true}')
    assert s3_server.read(bucket, STATE) == b'{"theirs": true}'


def test_a_checkpoint_deleted_after_it_was_read_is_not_recreated(s3_server: FakeS3, bucket: str) -> None:
    sink = S3Sink(bucket)
    s3_server.write(bucket, STATE, b'{"n": 1}')
    sink.read(STATE)
    s3_server.client.delete_object(Bucket=bucket, Key=STATE)
    with pytest.raises(StorageError, match="another writer"):
        sink.replace(STATE, b'{"n": 2}')
    assert s3_server.read(bucket, STATE) is None


def test_a_412_against_our_own_bytes_counts_as_written(s3_server: FakeS3, bucket: str) -> None:
    """What a boto3 retry meets when its first attempt landed: the object already holds our bytes."""
    sink = S3Sink(bucket)
    assert sink.read(STATE) is None
    s3_server.write(bucket, STATE, b'{"n": 1}')  # "our first attempt", which the client did not see succeed
    sink.replace(STATE, b'{"n": 1}')
    sink.replace(STATE, b'{"n": 2}')  # and the adopted ETag is the one the next write is checked against
    assert s3_server.read(bucket, STATE) == b'{"n": 2}'


# -- lease --------------------------------------------------------------------------------------------

RACER = """
import json, sys, time
from zdlogs.sinks.s3 import S3Sink
bucket, start, name = sys.argv[1], float(sys.argv[2]), sys.argv[3]
sink = S3Sink(bucket, lease_ttl=60)
time.sleep(max(0.0, start - time.time()))
with sink.lease("_zdlogs/state.json.lease", name) as lease:
    print(json.dumps({"name": name, "acquired": lease.acquired, "owner": lease.owner}), flush=True)
    if lease.acquired:
        sys.stdin.readline()  # hold it until every racer has answered
"""


def _race(s3: FakeS3, bucket: str, racers: int = 4) -> list[dict]:
    """Start ``racers`` processes that ask for the lease at the same instant; their answers."""
    start = time.time() + 3.0  # every process has imported boto3 and opened the sink by then
    env = {**os.environ, **s3.env}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, bucket, str(start), f"racer-{n}"],
            env=env,
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


def test_processes_racing_for_a_free_lease_exactly_one_acquires(s3_server: FakeS3, bucket: str) -> None:
    _one_winner(_race(s3_server, bucket))
    assert s3_server.read(bucket, LEASE) is None  # the winner released it


def test_processes_racing_to_take_over_an_expired_lease_exactly_one_wins(s3_server: FakeS3, bucket: str) -> None:
    s3_server.write(bucket, LEASE, _lease_doc("crashed-run:1", expires_in=-60))
    _one_winner(_race(s3_server, bucket))


def test_a_stale_lease_is_taken_over(s3_server: FakeS3, bucket: str) -> None:
    s3_server.write(bucket, LEASE, _lease_doc("crashed-run:1", expires_in=-1))
    with S3Sink(bucket).lease(LEASE, "me:1") as lease:
        assert lease.acquired and lease.owner == "me:1"
        assert orjson.loads(s3_server.read(bucket, LEASE) or b"")["owner"] == "me:1"
    assert s3_server.read(bucket, LEASE) is None


def test_a_live_lease_is_reported_with_its_holder_and_left_alone(s3_server: FakeS3, bucket: str) -> None:
    held = _lease_doc("other-host:42", expires_in=600)
    s3_server.write(bucket, LEASE, held)
    with S3Sink(bucket).lease(LEASE, "me:1") as lease:
        assert not lease.acquired and lease.owner == "other-host:42" and lease.expires
    assert s3_server.read(bucket, LEASE) == held


def test_a_lease_is_ours_while_held_and_deleted_on_exit(s3_server: FakeS3, bucket: str) -> None:
    sink = S3Sink(bucket)
    with sink.lease(LEASE, "me:1") as lease:
        assert lease.acquired and isinstance(lease, S3Lease) and not lease.lease_lost()
        assert orjson.loads(s3_server.read(bucket, LEASE) or b"")["owner"] == "me:1"
        with S3Sink(bucket).lease(LEASE, "me:2") as second:
            assert not second.acquired and second.owner == "me:1"
    assert s3_server.read(bucket, LEASE) is None


def test_release_leaves_a_lease_that_another_run_took_over(s3_server: FakeS3, bucket: str) -> None:
    with S3Sink(bucket, lease_ttl=60).lease(LEASE, "slow-run:1") as lease:
        assert lease.acquired
        s3_server.write(bucket, LEASE, _lease_doc("new-run:2", expires_in=600))  # it stalled past expiry
    assert orjson.loads(s3_server.read(bucket, LEASE) or b"")["owner"] == "new-run:2"


def test_renewal_keeps_the_lease_alive_past_its_ttl(s3_server: FakeS3, bucket: str) -> None:
    ttl = 1.5
    with S3Sink(bucket, lease_ttl=ttl).lease(LEASE, "long-run:1") as lease:
        first_expiry = datetime.fromisoformat(lease.expires)
        time.sleep(ttl * 2)
        with S3Sink(bucket, lease_ttl=ttl).lease(LEASE, "next-run:2") as other:
            assert not other.acquired and other.owner == "long-run:1"
        assert datetime.fromisoformat(orjson.loads(s3_server.read(bucket, LEASE) or b"")["expires"]) > first_expiry
        assert not lease.lease_lost()
    assert s3_server.read(bucket, LEASE) is None  # released with the ETag of the last renewal


def test_a_renewal_that_finds_the_lease_taken_over_reports_it_lost(s3_server: FakeS3, bucket: str) -> None:
    sink = S3Sink(bucket, lease_ttl=0.6)
    with sink.lease(LEASE, "stalled-run:1") as lease:
        s3_server.write(bucket, LEASE, _lease_doc("new-run:2", expires_in=600))
        deadline = time.monotonic() + 5
        while not lease.lease_lost() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert lease.lease_lost() and sink.lease_lost()
    assert orjson.loads(s3_server.read(bucket, LEASE) or b"")["owner"] == "new-run:2"


def test_the_lease_thread_stops_with_the_block(bucket: str) -> None:
    with S3Sink(bucket, lease_ttl=0.3).lease(LEASE, "me:1"):
        pass
    time.sleep(0.2)
    assert not [t for t in threading.enumerate() if t.name == "zdlogs-lease-renewal"]


# -- errors and configuration -------------------------------------------------------------------------


def test_a_missing_bucket_is_one_line_naming_the_fix(bucket: str) -> None:
    with pytest.raises(StorageError) as raised:
        open_sink("s3://no-such-bucket-zdlogs/")
    assert str(raised.value) == "bucket no-such-bucket-zdlogs does not exist: create it or fix --output"


def test_permission_denied_names_the_permissions_to_grant(bucket: str) -> None:
    """moto does not check IAM unless told to, so the 403 is botocore's own exception, built here."""
    denied = ClientError(
        {"Error": {"Code": "AccessDenied", "Message": "Access Denied"}, "ResponseMetadata": {"HTTPStatusCode": 403}},
        "PutObject",
    )
    message = S3Sink(bucket)._describe(denied, "write", "k")
    assert "permission denied to write" in message and "s3:PutObject" in message and "\n" not in message


def test_without_credentials_the_error_says_how_to_get_them(s3_server: FakeS3, monkeypatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server.endpoint)  # nothing may reach AWS
    with pytest.raises(ConfigError, match="no AWS credentials found") as raised:
        open_sink("s3://bucket/")
    assert "AWS_ACCESS_KEY_ID" in str(raised.value) and "\n" not in str(raised.value)


@pytest.mark.parametrize("url", ["s3://", "s3:///root/"])
def test_an_s3_url_without_bucket_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError, match="s3://BUCKET/"):
        open_sink(url)


def test_without_the_library_s3_output_names_the_extra() -> None:
    code = (
        "import sys; sys.modules['boto3'] = None\n"
        "from zdlogs.sinks import open_sink\n"
        "from zdlogs.errors import ConfigError\n"
        "try:\n    open_sink('s3://bucket/')\nexcept ConfigError as exc:\n    print(exc)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "s3:// output needs the S3 extra: pip install 'zdlogs[s3]'", result.stderr


# -- a whole run --------------------------------------------------------------------------------------


def _stored_audit_ids(s3: FakeS3, bucket: str) -> Counter:
    ids: Counter = Counter()
    for name in s3.names(bucket, "zendesk/crm/audit_logs/"):
        ids.update(orjson.loads(line)["id"] for line in (s3.read(bucket, name) or b"").splitlines())
    return ids


def test_a_collection_run_into_a_bucket_and_a_second_run_adds_nothing(s3_server: FakeS3, bucket: str) -> None:
    with Simulator(sim_config(audit_logs=300, tickets=40)).start() as sim:
        settings = collector_settings(sim.url, f"s3://{bucket}/")  # type: ignore[arg-type]
        assert settings.output == f"s3://{bucket}/"
        first = run(settings)
        names = s3_server.names(bucket)
        second = run(settings)
        truth = {record["id"] for record in sim.truth()["audit_logs"]}
    assert all(item.status == "ok" for item in first.streams + second.streams)
    assert s3_server.names(bucket) == names
    assert sum(item.objects for item in second.streams) == 0
    data = [name for name in names if name != STATE]
    assert data and all(name.startswith("zendesk/crm/") for name in data)
    assert any(name.startswith("zendesk/crm/audit_logs/") for name in data)
    assert any(name.startswith("zendesk/crm/incremental_tickets/") for name in data)
    assert STATE in names and LEASE not in names
    ids = _stored_audit_ids(s3_server, bucket)
    assert set(ids) == truth and max(ids.values()) == 1
