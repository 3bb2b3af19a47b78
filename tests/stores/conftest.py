"""Sink tests: the fake GCS and S3 servers, a fresh bucket on each, and cloud credentials kept out of the tests.

google-auth looks for Application Default Credentials when a gs:// store is opened without an emulator:
the user's gcloud files, then the GCE metadata server over the network. Tests must do neither, so the
metadata probe is switched off for this process and its children (google-auth reads ``NO_GCE_CHECK``
once, when it first loads its GCE module, hence here at import), and each test gets an empty gcloud
configuration. S3 tests ask for ``no_aws_credentials``: no AWS settings of the shell, no ~/.aws files,
no instance metadata probe.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.gcs_fixture import FakeGCS, gcs_server
from tests.s3_fixture import FakeS3, s3_server

__all__ = ["gcs_server", "s3_server"]

os.environ.setdefault("NO_GCE_CHECK", "true")

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
def _no_google_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path_factory.mktemp("gcloud")))
    for name in ("GOOGLE_APPLICATION_CREDENTIALS", "STORAGE_EMULATOR_HOST", "GOOGLE_CLOUD_PROJECT"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def no_aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No real AWS settings reach a test: no ~/.aws files, no instance metadata probe."""
    for name in _AWS_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def gcs_bucket(gcs_server: FakeGCS, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket, with zdlogs pointed at the fake server the standard way (STORAGE_EMULATOR_HOST)."""
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_server.endpoint)
    return gcs_server.create_bucket()


@pytest.fixture
def s3_bucket(no_aws_credentials: None, s3_server: FakeS3, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket, with zdlogs pointed at the moto server the standard way (environment)."""
    for name, value in s3_server.env.items():
        monkeypatch.setenv(name, value)
    return s3_server.create_bucket()
