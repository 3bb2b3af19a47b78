"""The local directory store: create-if-absent, atomic replace, and the flock lease."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from zdlogs.errors import ConfigError, StorageError
from zdlogs.stores import open_store
from zdlogs.stores.local import LocalStore


def test_put_if_absent_writes_once_and_never_overwrites(tmp_path: Path) -> None:
    opened = LocalStore(tmp_path)
    assert opened.put_if_absent("a/b/c.ndjson", b"one\n") is True
    assert opened.put_if_absent("a/b/c.ndjson", b"two\n") is False
    assert (tmp_path / "a/b/c.ndjson").read_bytes() == b"one\n"
    assert [p.name for p in (tmp_path / "a/b").iterdir()] == ["c.ndjson"]  # no temp file left behind
    assert list((tmp_path / ".zdlogs-tmp").iterdir()) == []


def test_replace_is_atomic_and_leaves_no_temp(tmp_path: Path) -> None:
    opened = LocalStore(tmp_path)
    opened.replace("_zdlogs/state.json", b"{}")
    opened.replace("_zdlogs/state.json", b'{"a": 1}')
    assert opened.read("_zdlogs/state.json") == b'{"a": 1}'
    assert opened.read("missing") is None
    assert os.listdir(tmp_path / "_zdlogs") == ["state.json"]


def test_stale_temp_files_of_killed_runs_are_removed_recent_ones_kept(tmp_path: Path) -> None:
    LocalStore(tmp_path)
    stale, recent = tmp_path / ".zdlogs-tmp/a.ndjson.1.tmp", tmp_path / ".zdlogs-tmp/b.ndjson.2.tmp"
    stale.write_bytes(b"half")
    recent.write_bytes(b"half")
    os.utime(stale, (0, 0))
    LocalStore(tmp_path)
    assert not stale.exists() and recent.exists()


def test_keys_cannot_escape_the_output(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="escapes"):
        LocalStore(tmp_path / "out").put_if_absent("../outside.ndjson", b"x")


def test_unwritable_output_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigError, match="not writable"):
        open_store(str(blocker / "sub"))


def test_open_store_accepts_paths_and_file_urls_and_names_missing_schemes(tmp_path: Path) -> None:
    assert isinstance(open_store(str(tmp_path)), LocalStore)
    assert open_store(tmp_path.as_uri()).root == tmp_path.resolve()
    with pytest.raises(ConfigError, match="gs://"):
        open_store("gs://bucket/prefix/")
    with pytest.raises(ConfigError, match="unknown scheme"):
        open_store("ftp://host/x")


def test_lease_excludes_a_second_holder_in_the_same_process(tmp_path: Path) -> None:
    opened = LocalStore(tmp_path)
    with opened.lease("l", "a:1") as first, opened.lease("l", "a:1") as second:
        assert first.acquired and not second.acquired


def test_lease_excludes_a_second_process_and_is_freed_when_it_dies(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sys, time\n"
                "from zdlogs.stores.local import LocalStore\n"
                f"with LocalStore({str(tmp_path)!r}).lease('_zdlogs/state.json.lease', 'other:1') as h:\n"
                "    print('held', flush=True); time.sleep(60)\n"
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    opened = LocalStore(tmp_path)
    with opened.lease("_zdlogs/state.json.lease", "me:2") as got:
        assert not got.acquired and got.owner == "other:1"
    holder.kill()  # SIGKILL: the kernel drops the flock
    holder.wait()
    with opened.lease("_zdlogs/state.json.lease", "me:2") as got:
        assert got.acquired and got.owner == "me:2"
