"""A local directory (or ``file://`` URL): the embedded default.

Objects are written to a temporary file under ``<output>/.zdlogs-tmp/`` (same filesystem, outside the
data prefix, so a run killed mid-write never leaves a stray file where a SIEM reads), fsynced, then
hard-linked to their final name — ``link`` fails if the name exists, which makes create-if-absent
atomic — and the directory is fsynced so the name itself survives a power cut. A reader never sees
half a file under a final name.
The lease is an ``flock`` on a lock file: the kernel drops it when the process dies, even by SIGKILL,
so a crashed run never blocks the next one.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import orjson

from zdlogs.config import env_name, flag_name
from zdlogs.errors import ConfigError, StorageError
from zdlogs.stores.base import Lease, ObjectDestination
from zdlogs.times import iso_offset, utc_now

TEMP_DIR = ".zdlogs-tmp"
STALE_TEMP_SECONDS = 3600


class LocalStore(ObjectDestination):
    """Objects in a local directory, written through a temp file, fsync, link and a directory fsync."""

    def __init__(self, root: str | Path, *, read_only: bool = False):
        """``read_only``: for readers (``zdlogs status``), which may not be allowed to write and must change
        nothing: no directory is created, no temp file removed, and nothing is written."""
        self.root = Path(root).expanduser().resolve()
        self.url = self.root.as_uri()
        self._tmp = self.root / TEMP_DIR
        if not read_only:
            self._check_writable()
            self._remove_stale_temps()

    def _check_writable(self) -> None:
        try:
            self._tmp.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self._tmp, prefix="probe-"):
                pass
        except OSError as exc:
            raise ConfigError(
                f"output directory {self.root} is not writable ({exc.strerror}): "
                f"choose another {flag_name('output')} / {env_name('output')} or fix its permissions"
            ) from None

    def _remove_stale_temps(self) -> None:
        """Temp files of runs killed mid-write; recent ones may belong to the run holding the lease."""
        horizon = time.time() - STALE_TEMP_SECONDS
        for leftover in self._tmp.glob("*.tmp"):
            with suppress(OSError):
                if leftover.stat().st_mtime < horizon:
                    leftover.unlink()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise StorageError(f"object key {key!r} escapes the output directory: refused")
        return path

    def put_if_absent(self, key: str, data: bytes) -> bool:
        target = self._path(key)
        if target.exists():
            return False
        with self._storage_errors(target):
            tmp = self._write_temp(target, data)
            try:
                os.link(tmp, target)
                _fsync_dir(target.parent)
                return True
            except FileExistsError:
                return False
            finally:
                tmp.unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def read(self, key: str) -> bytes | None:
        target = self._path(key)
        with self._storage_errors(target):
            try:
                return target.read_bytes()
            except FileNotFoundError:
                return None

    def replace(self, key: str, data: bytes) -> None:
        target = self._path(key)
        with self._storage_errors(target):
            tmp = self._write_temp(target, data)
            os.replace(tmp, target)
            _fsync_dir(target.parent)

    def _write_temp(self, target: Path, data: bytes) -> Path:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self._tmp, prefix=f"{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
        return Path(name)

    @contextmanager
    def _storage_errors(self, target: Path) -> Iterator[None]:
        try:
            yield
        except OSError as exc:
            raise StorageError(
                f"cannot write {target} ({exc.strerror}): free space or fix permissions; "
                "the checkpoint was not moved, so the next run re-collects from it"
            ) from None

    def lease_lost(self) -> bool:
        """An flock cannot be taken over while its process lives."""
        return False

    @contextmanager
    def lease(self, key: str, owner: str) -> Iterator[Lease]:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield _read_holder(path)
                return
            since = iso_offset(utc_now(), "seconds")
            os.ftruncate(fd, 0)
            os.pwrite(fd, orjson.dumps({"owner": owner, "since": since}), 0)
            yield Lease(acquired=True, owner=owner, since=since)
        finally:
            os.close(fd)


def lease_holder(path: Path) -> Lease | None:
    """Who holds the lease whose lock file is ``path`` right now, None if nobody (for ``zdlogs status``): a
    shared lock taken and dropped at once, so the file is neither created nor written. A run starting in
    that instant finds the lease held and exits 0, as when two runs overlap."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(path)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _read_holder(path: Path) -> Lease:
    with suppress(OSError, orjson.JSONDecodeError, TypeError, AttributeError):
        held = orjson.loads(path.read_bytes())
        return Lease(acquired=False, owner=str(held.get("owner")), since=str(held.get("since")))
    return Lease(acquired=False, owner="unknown", since="unknown")


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
