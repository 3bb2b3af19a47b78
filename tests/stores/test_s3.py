"""What only the S3 store does, against a real moto server: its endpoint variables, clear errors and
configuration. Create-once objects, ETag-guarded checkpoints, the lease between processes and a whole
collection run into a bucket are tested for GCS and S3 alike in test_object_stores.py."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.s3_fixture import FakeS3
from zdlogs.errors import ConfigError, StorageError
from zdlogs.stores import open_store
from zdlogs.stores.s3 import S3Store

pytestmark = pytest.mark.usefixtures("no_aws_credentials")


def test_the_service_specific_endpoint_variable_is_honoured(s3_server: FakeS3, s3_bucket: str, monkeypatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_server.endpoint)
    assert S3Store(s3_bucket).put_if_absent("k.json", b"{}") is True


def test_a_missing_bucket_is_one_line_naming_the_fix(s3_bucket: str) -> None:
    with pytest.raises(StorageError) as raised:
        open_store("s3://no-such-bucket-zdlogs/")
    assert str(raised.value) == "bucket no-such-bucket-zdlogs does not exist: create it or fix --output"


def test_permission_denied_names_the_permissions_to_grant(s3_bucket: str) -> None:
    """moto does not check IAM unless told to, so the 403 is botocore's own exception, built here."""
    denied = ClientError(
        {"Error": {"Code": "AccessDenied", "Message": "Access Denied"}, "ResponseMetadata": {"HTTPStatusCode": 403}},
        "PutObject",
    )
    message = S3Store(s3_bucket)._describe(denied, "write", "k")
    assert "permission denied to write" in message and "s3:PutObject" in message and "\n" not in message


def test_without_credentials_the_error_says_how_to_get_them(s3_server: FakeS3, monkeypatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server.endpoint)  # nothing may reach AWS
    with pytest.raises(ConfigError, match="no AWS credentials found") as raised:
        open_store("s3://bucket/")
    assert "AWS_ACCESS_KEY_ID" in str(raised.value) and "\n" not in str(raised.value)


@pytest.mark.parametrize("url", ["s3://", "s3:///root/"])
def test_an_s3_url_without_bucket_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError, match="s3://BUCKET/"):
        open_store(url)
