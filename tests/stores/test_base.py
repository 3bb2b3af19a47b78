"""Every object store is an ObjectStore and, a page being one object, a Destination."""

from __future__ import annotations

from pathlib import Path

from zdlogs.destinations import Destination, StoredPage
from zdlogs.stores import LocalStore, ObjectStore
from zdlogs.stores.gcs import GCSStore
from zdlogs.stores.s3 import S3Store


def test_the_stores_are_object_stores_and_destinations(tmp_path: Path) -> None:
    local = LocalStore(tmp_path)
    assert isinstance(local, ObjectStore) and isinstance(local, Destination)
    for kind in (GCSStore, S3Store):
        assert all(callable(getattr(kind, name)) for name in ("put_if_absent", "read", "replace", "lease", "deliver"))


def test_deliver_is_create_if_absent_and_delivered_is_exists(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    assert store.deliver(StoredPage("p/a.ndjson", b"1\n")) and not store.deliver(StoredPage("p/a.ndjson", b"2\n"))
    assert (tmp_path / "p/a.ndjson").read_bytes() == b"1\n"
    assert store.delivered("p/a.ndjson") and not store.delivered("p/b.ndjson")
