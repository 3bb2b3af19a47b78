"""What the GCS and S3 stores share, run against each one's fake server (fake-gcs-server, moto): create-once
objects, checkpoints guarded by the version read (GCS generation, S3 ETag), the run lease between processes
(one algorithm for both: zdlogs.stores._objects.LeasedObjectStore), and a whole collection run into a bucket.
What only one store does (its URLs, errors, credentials) is in test_gcs.py and test_s3.py."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from tests.e2e.helpers import collector_settings, sim_config
from tests.gcs_fixture import FakeGCS
from tests.s3_fixture import FakeS3
from zdlogs.config import Settings
from zdlogs.errors import StorageError
from zdlogs.ndjson import object_key
from zdlogs.pipeline import run
from zdlogs.simulator import Simulator
from zdlogs.state import StateStore
from zdlogs.stores import open_store
from zdlogs.stores.gcs import GCSLease, GCSStore
from zdlogs.stores.s3 import S3Lease, S3Store
from zdlogs.streams import AuditLogs, WindowCheckpoint

LEASE = "_zdlogs/state.json.lease"
STATE = "_zdlogs/state.json"


@dataclass(frozen=True)
class Store:
    """One object store under test: a fresh bucket on its fake server, zdlogs pointed at it, and the
    server's own view of the bucket (reads and writes that bypass the store, as another writer would)."""

    scheme: str
    store_class: type[GCSStore] | type[S3Store]
    lease_class: type
    server: FakeGCS | FakeS3
    bucket: str
    subprocess_env: dict[str, str]
    racer_warmup: float  # seconds for a racing process to import the store's library and open the store
    settings: Callable[[str], Settings]  # collector settings for a simulator URL, writing into the bucket
    delete: Callable[[str], None]
    content_types: Callable[[], dict[str, str]]  # every object's name and content type

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.bucket}/"

    def open(self, **options: Any) -> GCSStore | S3Store:
        return self.store_class(self.bucket, **options)

    def read(self, name: str) -> bytes | None:
        return self.server.read(self.bucket, name)

    def write(self, name: str, data: bytes) -> None:
        self.server.write(self.bucket, name, data)

    def names(self, prefix: str = "") -> list[str]:
        return self.server.names(self.bucket, prefix)

    def lease_owner(self) -> str:
        return orjson.loads(self.read(LEASE) or b"")["owner"]


def _gcs(request: pytest.FixtureRequest) -> Store:
    server: FakeGCS = request.getfixturevalue("gcs_server")
    bucket: str = request.getfixturevalue("gcs_bucket")
    client = storage.Client(project="test", credentials=AnonymousCredentials())
    return Store(
        "gs", GCSStore, GCSLease, server, bucket,
        subprocess_env={**os.environ, **server.env, "NO_GCE_CHECK": "true"},
        racer_warmup=2.5,  # every process has imported google-cloud-storage by then
        # GCS_BUCKET alone: GCS_PREFIX is applied once
        settings=lambda url: collector_settings(url, "", gcs_bucket=bucket),  # type: ignore[arg-type]
        delete=lambda name: client.bucket(bucket).delete_blob(name),
        content_types=lambda: {blob.name: blob.content_type for blob in client.list_blobs(bucket)},
    )  # fmt: skip


def _s3(request: pytest.FixtureRequest) -> Store:
    server: FakeS3 = request.getfixturevalue("s3_server")
    bucket: str = request.getfixturevalue("s3_bucket")
    return Store(
        "s3", S3Store, S3Lease, server, bucket,
        subprocess_env={**os.environ, **server.env},
        racer_warmup=3.0,  # every process has imported boto3 and opened the store by then
        settings=lambda url: collector_settings(url, f"s3://{bucket}/"),  # type: ignore[arg-type]
        delete=lambda name: server.client.delete_object(Bucket=bucket, Key=name),
        content_types=lambda: {
            name: server.client.head_object(Bucket=bucket, Key=name)["ContentType"] for name in server.names(bucket)
        },
    )  # fmt: skip


@pytest.fixture(params=["gcs", "s3"])
def store(request: pytest.FixtureRequest) -> Store:
    return _gcs(request) if request.param == "gcs" else _s3(request)


def _lease_doc(owner: str, expires_in: float) -> bytes:
    now = datetime.now(UTC)
    expires = now + timedelta(seconds=expires_in)
    return orjson.dumps({"owner": owner, "since": now.isoformat(), "expires": expires.isoformat()})


# -- objects ------------------------------------------------------------------------------------------


def test_put_if_absent_creates_once_and_keeps_the_first_content(store: Store) -> None:
    opened = store.open()
    key = "zendesk/crm/audit_logs/2026/11/25/a.ndjson"
    assert opened.put_if_absent(key, b'{"id":1}\n') is True
    assert opened.put_if_absent(key, b'{"id":2}\n') is False
    assert store.read(key) == b'{"id":1}\n'
    assert opened.exists(key) and not opened.exists("zendesk/crm/other.ndjson")


def test_open_store_roots_the_layout_at_the_url_path_and_labels_content(store: Store) -> None:
    opened = open_store(f"{store.url}some/root", lease_ttl=30)
    assert isinstance(opened, store.store_class) and opened.url == f"{store.url}some/root/" and opened.lease_ttl == 30
    body = b'{"id":1}\n'
    plain = object_key("zendesk/crm/", "audit_logs", "2026-11-25", "1", body, "none")
    packed = object_key("zendesk/crm/", "audit_logs", "2026-11-25", "1", body, "gzip")
    opened.put_if_absent(plain, body)
    opened.put_if_absent(packed, b"\x1f\x8b")
    assert store.names() == sorted([f"some/root/{plain}", f"some/root/{packed}"])
    types = store.content_types()
    assert types == {f"some/root/{plain}": "application/x-ndjson", f"some/root/{packed}": "application/gzip"}
    assert open_store(f"{store.scheme}://{store.bucket}").url == store.url


def test_read_is_none_when_absent_and_replace_follows_its_own_versions(store: Store) -> None:
    opened = store.open()
    assert opened.read(STATE) is None
    opened.replace(STATE, b'{"n": 1}')  # created: it was absent when read
    opened.replace(STATE, b'{"n": 2}')  # the version (generation, ETag) we wrote
    assert opened.read(STATE) == b'{"n": 2}'
    opened.replace(STATE, b'{"n": 3}')  # the version we read
    assert store.read(STATE) == b'{"n": 3}'


def test_a_second_writer_cannot_advance_the_same_checkpoint(store: Store) -> None:
    first, second = StateStore(store.open(), STATE), StateStore(store.open(), STATE)
    first.slot(AuditLogs()).commit(WindowCheckpoint("2026-11-25T10:00:00Z"))
    with pytest.raises(StorageError, match="another writer changed") as raised:
        second.slot(AuditLogs()).commit(WindowCheckpoint("2026-11-25T11:00:00Z"))
    assert "\n" not in str(raised.value)
    stored = orjson.loads(store.read(STATE) or b"")
    assert stored["streams"]["audit_logs"]["checkpoint"] == {"since": "2026-11-25T10:00:00Z", "seen_ids": []}


def test_a_checkpoint_changed_after_it_was_read_is_not_overwritten(store: Store) -> None:
    opened = store.open()
    store.write(STATE, b'{"n": 1}')
    assert opened.read(STATE) == b'{"n": 1}'
    store.write(STATE, b'{"theirs": true}')
    with pytest.raises(StorageError, match="another writer"):
        opened.replace(STATE, b'{"ours": true}')
    assert store.read(STATE) == b'{"theirs": true}'


def test_a_checkpoint_never_read_is_not_overwritten(store: Store) -> None:
    store.write(STATE, b'{"theirs": true}')
    with pytest.raises(StorageError, match="another writer"):
        store.open().replace(STATE, b'{"ours": true}')
    assert store.read(STATE) == b'{"theirs": true}'


def test_a_checkpoint_deleted_after_it_was_read_is_not_recreated(store: Store) -> None:
    opened = store.open()
    store.write(STATE, b'{"n": 1}')
    opened.read(STATE)
    store.delete(STATE)
    with pytest.raises(StorageError, match="another writer"):
        opened.replace(STATE, b'{"n": 2}')
    assert store.read(STATE) is None


def test_a_412_against_our_own_bytes_counts_as_written(store: Store) -> None:
    """What a library retry meets when its first attempt landed: the object already holds our bytes."""
    opened = store.open()
    assert opened.read(STATE) is None
    store.write(STATE, b'{"n": 1}')  # "our first attempt", which the library did not see succeed
    opened.replace(STATE, b'{"n": 1}')
    opened.replace(STATE, b'{"n": 2}')  # and the adopted version is the one the next write is checked against
    assert store.read(STATE) == b'{"n": 2}'


def test_our_own_write_that_landed_unanswered_is_not_another_writer(store: Store) -> None:
    """A checkpoint write lands but its answer is lost (the run saw an error); the next replace, sent with
    the version before it, meets a refusal: finding our own unanswered bytes there is not another writer
    (issue 19's second outage), while someone else's bytes still are."""
    opened = store.open()
    opened.replace(STATE, b'{"n": 1}')
    landed_then_lost = opened._write_if

    def once(*args: Any) -> Any:
        opened._write_if = landed_then_lost  # type: ignore[method-assign]
        landed_then_lost(*args)
        raise OSError("connection reset after the request was sent")

    opened._write_if = once  # type: ignore[method-assign]
    with pytest.raises(StorageError, match="did not answer"):
        opened.replace(STATE, b'{"n": 2}')
    assert store.read(STATE) == b'{"n": 2}'  # it landed
    opened.replace(STATE, b'{"n": 3}')
    assert store.read(STATE) == b'{"n": 3}'
    store.write(STATE, b'{"n": "someone else"}')
    with pytest.raises(StorageError, match="another writer"):
        opened.replace(STATE, b'{"n": 4}')


def test_every_call_is_bounded_by_the_storage_timeout(store: Store) -> None:
    """ZDLOGS_STORAGE_TIMEOUT reaches the library: its retries stop within it (google-api-core's Retry
    timeout, botocore's attempts and socket timeouts), instead of the libraries' own 120 s or more."""
    opened = store.open(timeout=8)
    if store.scheme == "gs":
        assert opened._calls["timeout"] == 8 and opened._calls["retry"].timeout == 8
    else:
        config = opened._client.meta.config
        assert (config.connect_timeout, config.read_timeout, config.retries["total_max_attempts"]) == (1, 1, 3)


# -- lease --------------------------------------------------------------------------------------------

RACER = """
import importlib, json, sys, time
module, kind, bucket, start, name = sys.argv[1:6]
opened = getattr(importlib.import_module(module), kind)(bucket, lease_ttl=60)
time.sleep(max(0.0, float(start) - time.time()))
with opened.lease("_zdlogs/state.json.lease", name) as lease:
    print(json.dumps({"name": name, "acquired": lease.acquired, "owner": lease.owner}), flush=True)
    if lease.acquired:
        sys.stdin.readline()  # hold it until every racer has answered
"""


def _race(store: Store, racers: int = 4) -> list[dict]:
    """Start ``racers`` processes that ask for the lease at the same instant; their answers."""
    start = time.time() + store.racer_warmup
    opened = [store.store_class.__module__, store.store_class.__name__, store.bucket, str(start)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, *opened, f"racer-{n}"],
            env=store.subprocess_env,
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


def test_processes_racing_for_a_free_lease_exactly_one_acquires(store: Store) -> None:
    _one_winner(_race(store))
    assert store.read(LEASE) is None  # the winner released it


def test_processes_racing_to_take_over_an_expired_lease_exactly_one_wins(store: Store) -> None:
    store.write(LEASE, _lease_doc("crashed-run:1", expires_in=-60))
    _one_winner(_race(store))


def test_a_stale_lease_is_taken_over(store: Store) -> None:
    store.write(LEASE, _lease_doc("crashed-run:1", expires_in=-1))
    with store.open().lease(LEASE, "me:1") as lease:
        assert lease.acquired and lease.owner == "me:1"
        assert store.lease_owner() == "me:1"
    assert store.read(LEASE) is None


def test_a_live_lease_is_reported_with_its_holder_and_left_alone(store: Store) -> None:
    held = _lease_doc("other-host:42", expires_in=600)
    store.write(LEASE, held)
    with store.open().lease(LEASE, "me:1") as lease:
        assert not lease.acquired and lease.owner == "other-host:42" and lease.expires
    assert store.read(LEASE) == held


def test_a_lease_is_ours_while_held_and_deleted_on_exit(store: Store) -> None:
    opened = store.open()
    with opened.lease(LEASE, "me:1") as lease:
        assert lease.acquired and isinstance(lease, store.lease_class) and not lease.lease_lost()
        assert store.lease_owner() == "me:1"
        with store.open().lease(LEASE, "me:2") as second:
            assert not second.acquired and second.owner == "me:1"
    assert store.read(LEASE) is None


def test_release_leaves_a_lease_that_another_run_took_over(store: Store) -> None:
    with store.open(lease_ttl=60).lease(LEASE, "slow-run:1") as lease:
        assert lease.acquired
        store.write(LEASE, _lease_doc("new-run:2", expires_in=600))  # it stalled past expiry
    assert store.lease_owner() == "new-run:2"


def test_renewal_keeps_the_lease_alive_past_its_ttl(store: Store) -> None:
    ttl = 1.5
    with store.open(lease_ttl=ttl).lease(LEASE, "long-run:1") as lease:
        first_expiry = datetime.fromisoformat(lease.expires)
        time.sleep(ttl * 2)
        with store.open(lease_ttl=ttl).lease(LEASE, "next-run:2") as other:
            assert not other.acquired and other.owner == "long-run:1"
        assert datetime.fromisoformat(orjson.loads(store.read(LEASE) or b"")["expires"]) > first_expiry
        assert not lease.lease_lost()
    assert store.read(LEASE) is None  # released with the version of the last renewal


def test_a_renewal_that_finds_the_lease_taken_over_reports_it_lost(store: Store) -> None:
    opened = store.open(lease_ttl=0.6)
    with opened.lease(LEASE, "stalled-run:1") as lease:
        store.write(LEASE, _lease_doc("new-run:2", expires_in=600))
        deadline = time.monotonic() + 5
        while not lease.lease_lost() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert lease.lease_lost() and opened.lease_lost()
    assert store.lease_owner() == "new-run:2"


def test_the_lease_thread_stops_with_the_block(store: Store) -> None:
    with store.open(lease_ttl=0.3).lease(LEASE, "me:1"):
        pass
    time.sleep(0.2)
    assert not [t for t in threading.enumerate() if t.name == "zdlogs-lease-renewal"]


# -- configuration ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("library", "url", "message"),
    [
        ("google.cloud.storage", "gs://bucket/", "gs:// output needs the GCS extra: pip install 'zdlogs[gcs]'"),
        ("boto3", "s3://bucket/", "s3:// output needs the S3 extra: pip install 'zdlogs[s3]'"),
    ],
    ids=["gcs", "s3"],
)
def test_without_the_library_the_output_names_the_extra(library: str, url: str, message: str) -> None:
    code = (
        f"import sys; sys.modules[{library!r}] = None\n"
        "from zdlogs.stores import open_store\n"
        "from zdlogs.errors import ConfigError\n"
        f"try:\n    open_store({url!r})\nexcept ConfigError as exc:\n    print(exc)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == message, result.stderr


# -- a whole run --------------------------------------------------------------------------------------


def _stored_audit_ids(store: Store) -> Counter:
    ids: Counter = Counter()
    for name in store.names("zendesk/crm/audit_logs/"):
        ids.update(orjson.loads(line)["id"] for line in (store.read(name) or b"").splitlines())
    return ids


def test_a_collection_run_into_a_bucket_and_a_second_run_adds_nothing(store: Store) -> None:
    with Simulator(sim_config(audit_logs=300, tickets=40)).start() as sim:
        settings = store.settings(sim.url)
        assert settings.output == store.url
        first = run(settings)
        names = store.names()
        second = run(settings)
        truth = {record["id"] for record in sim.truth()["audit_logs"]}
    assert all(item.status == "ok" for item in first.streams + second.streams)
    assert store.names() == names
    assert sum(item.objects for item in second.streams) == 0
    data = [name for name in names if name != STATE]
    assert data and all(name.startswith("zendesk/crm/") for name in data)
    assert any(name.startswith("zendesk/crm/audit_logs/") for name in data)
    assert any(name.startswith("zendesk/crm/incremental_tickets/") for name in data)
    assert STATE in names and LEASE not in names
    ids = _stored_audit_ids(store)
    assert set(ids) == truth and max(ids.values()) == 1
