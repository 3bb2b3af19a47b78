"""A bucket output read as --input: its stream's folder mirrored into the cache, through fake-gcs-server and
moto's S3 server (real HTTP, the libraries zdlogs run uses), then read like a local directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.gcs_fixture import gcs_server  # noqa: F401  (fake-gcs-server, one per session)
from tests.s3_fixture import s3_server  # noqa: F401  (moto's S3 server, one per session)
from zdlogs.analysis.inputs import audit_files
from zdlogs.analysis.remote import cache_root, newest_object
from zdlogs.errors import ConfigError, StorageError

DAY = "zendesk/crm/audit_logs/2026/11/30/"


def _line(record_id: int) -> bytes:
    return orjson.dumps({"id": record_id, "created_at": "2026-11-30T10:00:00Z", "action": "update"}) + b"\n"


@pytest.fixture(params=["gs", "s3"])
def bucket(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[str, Any]:
    """A fresh bucket on the fake of ``gs`` or ``s3`` holding two objects of a day, and an empty cache."""
    server = request.getfixturevalue("gcs_server" if request.param == "gs" else "s3_server")
    for name, value in server.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    name = server.create_bucket()
    server.write(name, DAY + "a.ndjson", _line(1) + _line(2))
    server.write(name, DAY + "b.ndjson", _line(3))
    server.write(name, "zendesk/crm/audit_logs/", b"")  # a folder placeholder, as the consoles create
    server.write(name, "zendesk/crm/incremental_tickets/2026/11/30/t.ndjson", _line(9))  # another stream
    return f"{request.param}://{name}", server


def test_a_bucket_output_is_read_from_its_mirror_with_only_its_stream_copied(bucket: tuple[str, Any]) -> None:
    location, _server = bucket
    files = audit_files(location)
    root = cache_root(location)
    assert [path.relative_to(root).as_posix() for path in files] == [DAY + "a.ndjson", DAY + "b.ndjson"]
    assert files[0].read_bytes() == _line(1) + _line(2)
    assert not (root / "zendesk/crm/incremental_tickets").exists()


def test_a_second_read_downloads_only_the_new_objects(bucket: tuple[str, Any]) -> None:
    location, server = bucket
    first = audit_files(location)
    marker = first[0].stat().st_mtime_ns
    first[0].write_bytes(first[0].read_bytes())  # same bytes, same size: kept, never fetched again
    kept = first[0].stat().st_mtime_ns
    server.write(location.split("://")[1], DAY + "c.ndjson", _line(4))
    again = audit_files(location)
    assert [path.name for path in again] == ["a.ndjson", "b.ndjson", "c.ndjson"]
    assert again[0].stat().st_mtime_ns == kept >= marker
    assert not list(cache_root(location).rglob("*.part"))


def test_a_missing_bucket_is_one_line_naming_it(bucket: tuple[str, Any]) -> None:
    scheme = bucket[0].split("://")[0]
    with pytest.raises(StorageError, match=r"bucket no-such-bucket-zdlogs does not exist: fix --input$"):
        audit_files(f"{scheme}://no-such-bucket-zdlogs")


def test_an_unknown_aws_profile_is_one_line_naming_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile-zdlogs")
    with pytest.raises(ConfigError, match=r"no-such-profile-zdlogs.*: fix AWS_PROFILE"):
        audit_files("s3://any-bucket")


def test_the_newest_object_of_a_stream_is_read_alone_without_mirroring(bucket: tuple[str, Any]) -> None:
    location, _server = bucket
    name, data = newest_object(location, "zendesk/crm/", "audit_logs") or ("", b"")
    assert (name, data) == (f"{location}/{DAY}b.ndjson", _line(3))  # names sort by time; the placeholder skipped
    assert not cache_root(location).exists()
    assert newest_object(location, "zendesk/crm/", "users") is None
