"""Object stores, chosen by the scheme of a URL: a path or ``file://`` (a local directory), ``gs://bucket/[root/]``
(GCS, the ``gcs`` extra) or ``s3://bucket/[root/]`` (S3 and S3-compatible stores, the ``s3`` extra); each cloud
library is imported only when its scheme is asked for. They hold the state (checkpoints and the run lease) and
are destinations of pages as they are (``zdlogs.destinations``)."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from zdlogs.config import check_file_url
from zdlogs.errors import ConfigError
from zdlogs.stores.base import Lease, ObjectDestination, ObjectStore
from zdlogs.stores.local import LocalStore

__all__ = ["Lease", "LocalStore", "ObjectDestination", "ObjectStore", "is_local", "open_store"]


def is_local(url: str) -> bool:
    """A bare path (or a Windows drive letter) or a ``file://`` URL."""
    scheme = urlsplit(url).scheme
    return scheme in ("", "file") or len(scheme) == 1


def open_store(
    url: str, *, lease_ttl: float | None = None, timeout: float | None = None, read_only: bool = False
) -> ObjectStore:
    """The object store at a URL or path; a clear error for schemes that are not one.

    ``lease_ttl`` is how long a lease held by a run that died stays valid in a bucket (a local
    directory's flock dies with its process); ``timeout`` how long one call to a bucket may retry;
    ``read_only`` opens a local directory for a reader (``zdlogs status``: nothing created, nothing written;
    a bucket store writes nothing until asked to)."""
    scheme = urlsplit(url).scheme
    given = {"lease_ttl": lease_ttl, "timeout": timeout}
    options = {name: value for name, value in given.items() if value}
    if is_local(url):
        return LocalStore(_local_path(url), read_only=read_only)
    if scheme == "gs":
        from zdlogs.stores.gcs import GCSStore  # google-cloud-storage is loaded only for gs:// outputs

        return GCSStore.from_url(url, **options)
    if scheme == "s3":
        from zdlogs.stores.s3 import S3Store  # boto3 is loaded only for s3:// outputs

        return S3Store.from_url(url, **options)
    raise ConfigError(
        f"--output {url!r}: unknown scheme {scheme!r}; use a directory path, file://, gs://, s3:// or secops:// URL"
    )


def _local_path(url: str) -> str:
    """The directory of a path or ``file://`` URL; ``file://relative/out`` (host ``relative``) is refused, not
    read as ``/out``."""
    if urlsplit(url).scheme != "file":
        return url
    try:
        return unquote(urlsplit(check_file_url(url)).path)
    except ValueError as exc:
        raise ConfigError(f"--output {exc}") from None
