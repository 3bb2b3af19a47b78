"""A real fake S3 for tests: moto in server mode (``python -m moto.server``), one process per session.

Use it with ``from tests.s3_fixture import s3_server  # noqa: F401``::

    def test_x(s3_server, monkeypatch):
        bucket = s3_server.create_bucket()                 # a fresh, uniquely named bucket
        for name, value in s3_server.env.items():          # what boto3 (and so zdlogs) reads
            monkeypatch.setenv(name, value)
        ...
        s3_server.read(bucket, "zendesk/crm/...")          # bytes or None
        s3_server.names(bucket)                            # every object name, sorted

The server runs as a subprocess, not moto's in-process decorator, so zdlogs talks HTTP to it exactly as
to S3, and several processes can race against the same bucket. Its log goes to a file; its data lives in
memory and dies with it. moto 5.2 honours ``If-None-Match: *`` and ``If-Match`` on PutObject (412
PreconditionFailed; 404 NoSuchKey for If-Match on a missing key) and ``If-Match`` on DeleteObject.
"""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

READY_TIMEOUT = 30.0
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}
_bucket_numbers = itertools.count(1)


@dataclass
class FakeS3:
    """A running moto server: ``endpoint`` is ``http://127.0.0.1:PORT`` (the AWS_ENDPOINT_URL value)."""

    endpoint: str
    log_path: Path
    process: subprocess.Popen = field(repr=False)

    @property
    def env(self) -> dict[str, str]:
        """What a process needs to reach this server instead of AWS, with fake credentials."""
        return {**FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": self.endpoint}

    @property
    def client(self) -> Any:
        """A boto3 client of the test's own, independent of the environment."""
        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    def create_bucket(self, name: str | None = None) -> str:
        """Create a bucket (a unique ``zdlogs-test-N-PID`` unless named) and return its name."""
        name = name or f"zdlogs-test-{next(_bucket_numbers)}-{os.getpid()}"
        self.client.create_bucket(Bucket=name)
        return name

    def names(self, bucket: str, prefix: str = "") -> list[str]:
        """Every object name in ``bucket`` under ``prefix``, sorted."""
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def read(self, bucket: str, name: str) -> bytes | None:
        """An object's bytes, or None if it does not exist."""
        try:
            return self.client.get_object(Bucket=bucket, Key=name)["Body"].read()
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchKey", "404"):
                return None
            raise

    def write(self, bucket: str, name: str, data: bytes) -> None:
        """Store an object unconditionally (what a foreign writer would do)."""
        self.client.put_object(Bucket=bucket, Key=name, Body=data)


@contextmanager
def running_moto(log_dir: Path | None = None) -> Iterator[FakeS3]:
    """Start moto's server on a free loopback port, wait until it answers, stop it."""
    log_dir = log_dir or Path(tempfile.mkdtemp(prefix="moto-"))
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log_path = log_dir / "moto-server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = FakeS3(endpoint=endpoint, log_path=log_path, process=process)
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
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeS3]:
    """One moto server for the whole session; tests isolate themselves with fresh buckets."""
    with running_moto(tmp_path_factory.mktemp("moto")) as server:
        yield server


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_ready(server: FakeS3) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"moto server exited with {server.process.returncode}: {server.log_path.read_text()}")
        try:
            with urllib.request.urlopen(server.endpoint + "/moto-api/", timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"moto server did not answer on {server.endpoint} within {READY_TIMEOUT}s")
