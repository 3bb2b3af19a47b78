"""Collected data in a bucket (``gs://``, ``s3://``), read by mirroring one stream's folder into a local cache.

zdlogs' data objects are created once and named by their content, so a file already in the cache under the
same name and size holds the same bytes: a later read downloads only what is new, like ``gcloud storage
rsync``, and DuckDB then reads local files at disk speed. The cache is ``$XDG_CACHE_HOME/zdlogs`` (by default
``~/.cache/zdlogs``), one folder per bucket and path; deleting it is always safe.

Only listing and reading are needed (roles/storage.objectViewer on GCS; s3:ListBucket and s3:GetObject on
S3). The cloud libraries are the ``gcs`` and ``s3`` extras, imported here only when such an input is read;
their endpoints and credentials are found as ``zdlogs run`` finds them (STORAGE_EMULATOR_HOST,
AWS_ENDPOINT_URL_S3, Application Default Credentials, boto3's chain).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import structlog

from zdlogs.errors import ConfigError, StorageError

log = structlog.get_logger("zdlogs.analysis")
Listing = Iterator[tuple[str, int]]  # (object name, size)


def cache_root(location: str) -> Path:
    """The local folder mirroring bucket ``location`` (``gs://b/path`` → ``~/.cache/zdlogs/gs/b/path``)."""
    url = urlsplit(location)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "zdlogs"
    return base / url.scheme / url.netloc / url.path.strip("/")


def mirrored(location: str, prefix: str, stream: str) -> Path:
    """The local mirror of ``location``, holding every object of ``<prefix><stream>/`` under it: what is not
    in the cache yet is downloaded (written whole, then renamed, so a stopped copy leaves no partial file)."""
    url = urlsplit(location)
    base = url.path.strip("/")
    folder = "/".join(part for part in (base, prefix.strip("/"), stream) if part) + "/"
    root = cache_root(location)
    bucket = _BUCKETS[url.scheme](url.netloc, location)
    fetched = 0
    for name, size in bucket.listing(folder):
        if name.endswith("/"):
            continue  # a folder placeholder (the cloud consoles create them), not an object of ours
        target = root / name[len(base) :].lstrip("/")
        if not (target.is_file() and target.stat().st_size == size):
            _write(target, bucket.read(name))
            fetched += 1
    if fetched:
        log.info(
            "bucket_mirrored",
            source=f"{location.rstrip('/')}/{folder[len(base) :].lstrip('/')}",
            new_objects=fetched,
            cache=str(root),
        )
    return root


def newest_object(location: str, prefix: str, stream: str) -> tuple[str, bytes] | None:
    """(URL, bytes) of the newest object of ``<prefix><stream>/`` in bucket ``location``, read without mirroring
    the folder (``zdlogs secops check`` needs one line); object names sort by time. None when there is none."""
    url = urlsplit(location)
    base = url.path.strip("/")
    folder = "/".join(part for part in (base, prefix.strip("/"), stream) if part) + "/"
    bucket = _BUCKETS[url.scheme](url.netloc, location)
    names = [name for name, _ in bucket.listing(folder) if not name.endswith("/")]
    if not names:
        return None
    newest = max(names)
    return f"{url.scheme}://{url.netloc}/{newest}", bucket.read(newest)


def _write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    partial.write_bytes(data)
    partial.replace(target)


class _Bucket:
    """One bucket's listing and reading, with its library's errors as one line naming the fix."""

    def __init__(self, listing: Callable[[str], Listing], read: Callable[[str], bytes]):
        self.listing, self.read = listing, read


def _gcs(bucket: str, location: str) -> _Bucket:
    try:
        from google.api_core import exceptions as api_exc
        from google.cloud import storage  # noqa: F401  (the extra is installed)
    except ImportError:
        raise ConfigError(
            f"--input {location} needs google-cloud-storage: pip install 'zdlogs[gcs,analysis]'"
        ) from None
    from zdlogs.stores.gcs import client as gcs_client

    client = gcs_client(location, "--input")  # as zdlogs run finds its credentials (or the emulator)

    def fail(exc: Exception) -> StorageError:
        if isinstance(exc, api_exc.NotFound):
            return StorageError(f"--input {location}: bucket {bucket} does not exist: fix --input")
        if isinstance(exc, api_exc.Forbidden):
            return StorageError(
                f"--input {location}: permission denied: grant roles/storage.objectViewer on gs://{bucket}"
            )
        return StorageError(f"--input {location}: GCS did not answer ({type(exc).__name__}): check the network")

    def listing(folder: str) -> Listing:
        try:
            yield from ((blob.name, int(blob.size or 0)) for blob in client.list_blobs(bucket, prefix=folder))
        except api_exc.GoogleAPIError as exc:
            raise fail(exc) from None

    def read(name: str) -> bytes:
        try:
            return bytes(client.bucket(bucket).blob(name).download_as_bytes())
        except api_exc.GoogleAPIError as exc:
            raise fail(exc) from None

    return _Bucket(listing, read)


def _s3(bucket: str, location: str) -> _Bucket:
    try:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound
    except ImportError:
        raise ConfigError(f"--input {location} needs boto3: pip install 'zdlogs[s3,analysis]'") from None
    try:
        client = boto3.session.Session().client("s3")
    except ProfileNotFound as exc:
        raise ConfigError(f"--input {location}: {exc}: fix AWS_PROFILE (`aws configure list-profiles`)") from None

    def fail(exc: Exception) -> Exception:
        code = exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""
        if isinstance(exc, NoCredentialsError):
            return ConfigError(f"--input {location}: no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID")
        if code == "NoSuchBucket":
            return StorageError(f"--input {location}: bucket {bucket} does not exist: fix --input")
        if code in ("AccessDenied", "403"):
            return StorageError(f"--input {location}: permission denied: grant s3:ListBucket and s3:GetObject")
        return StorageError(f"--input {location}: S3 refused or did not answer ({code or type(exc).__name__})")

    def listing(folder: str) -> Listing:
        try:
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=folder):
                yield from ((item["Key"], int(item["Size"])) for item in page.get("Contents", []))
        except (BotoCoreError, ClientError) as exc:
            raise fail(exc) from None

    def read(name: str) -> bytes:
        try:
            return bytes(client.get_object(Bucket=bucket, Key=name)["Body"].read())
        except (BotoCoreError, ClientError) as exc:
            raise fail(exc) from None

    return _Bucket(listing, read)


_BUCKETS: dict[str, Callable[[str, str], _Bucket]] = {"gs": _gcs, "s3": _s3}
