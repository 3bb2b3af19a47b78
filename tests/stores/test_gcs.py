"""What only the GCS store does, against a real fake-gcs-server: clear errors and configuration. Create-once
objects, generation-guarded checkpoints, the lease between processes and a whole collection run into a
bucket are tested for GCS and S3 alike in test_object_stores.py."""

from __future__ import annotations

import pytest
from google.api_core import exceptions as gexc

from tests.gcs_fixture import FakeGCS
from zdlogs.errors import ConfigError, StorageError
from zdlogs.stores import open_store
from zdlogs.stores.gcs import GCSStore


def test_a_missing_bucket_is_one_line_naming_the_fix(gcs_server: FakeGCS, gcs_bucket: str) -> None:
    with pytest.raises(StorageError) as raised:
        open_store("gs://no-such-bucket-zdlogs/")
    assert str(raised.value) == ("bucket no-such-bucket-zdlogs does not exist: create it or fix GCS_BUCKET / --output")


def test_permission_denied_names_the_role_to_grant(gcs_bucket: str) -> None:
    """fake-gcs-server has no IAM, so the 403 is the library's own exception type, built here."""
    message = GCSStore(gcs_bucket)._describe(gexc.Forbidden("sa@p.iam.gserviceaccount.com lacks access"), "write", "k")
    assert "grant roles/storage.objectAdmin on the bucket" in message and "\n" not in message


def test_without_credentials_or_emulator_the_error_says_how_to_get_them() -> None:
    with pytest.raises(ConfigError, match="no Google credentials found") as raised:
        open_store("gs://bucket/")
    assert "gcloud auth application-default login" in str(raised.value)


@pytest.mark.parametrize("url", ["gs://", "gs:///root/"])
def test_a_gs_url_without_bucket_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError, match="gs://BUCKET/"):
        open_store(url)


def test_an_emulator_host_without_scheme_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", "127.0.0.1:4443")
    with pytest.raises(ConfigError, match="needs a scheme"):
        open_store("gs://bucket/")
