"""Destinations, chosen by the scheme of ``--output``: a path or ``file://`` (local directory), or
``gs://bucket/[root/]`` (GCS, the ``gcs`` extra) or ``s3://bucket/[root/]`` (S3 and S3-compatible stores,
the ``s3`` extra), or ``secops://project/location/instance`` (records pushed to the Google SecOps ingestion
API, the ``secops`` extra, with checkpoints in ``ZDLOGS_SECOPS_STATE``); each cloud library is imported only
when its scheme is asked for."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from zdlogs.errors import ConfigError
from zdlogs.sinks.base import Lease, Sink
from zdlogs.sinks.local import LocalSink

if TYPE_CHECKING:
    from zdlogs.config import Settings

__all__ = ["Lease", "LocalSink", "Sink", "open_sink"]

_PLANNED: dict[str, str] = {}


def open_sink(output: str, *, lease_ttl: float | None = None, settings: Settings | None = None) -> Sink:
    """The sink for an output URL or path; a clear error for schemes not available.

    ``lease_ttl`` is how long a lease held by a run that died stays valid on object stores (a local
    directory's flock dies with its process). ``settings`` carries a secops:// output's options
    (``ZDLOGS_SECOPS_*``); without it they are read from the environment."""
    scheme = urlsplit(output).scheme
    if scheme in ("", "file") or len(scheme) == 1:  # a bare path (or a Windows drive letter)
        return LocalSink(unquote(urlsplit(output).path) if scheme == "file" else output)
    if scheme == "gs":
        from zdlogs.sinks.gcs import GCSSink  # google-cloud-storage is loaded only for gs:// outputs

        return GCSSink.from_url(output, **({"lease_ttl": lease_ttl} if lease_ttl else {}))
    if scheme == "s3":
        from zdlogs.sinks.s3 import S3Sink  # boto3 is loaded only for s3:// outputs

        return S3Sink.from_url(output, **({"lease_ttl": lease_ttl} if lease_ttl else {}))
    if scheme == "secops":
        return _open_secops(output, lease_ttl, settings)
    if scheme in _PLANNED:
        raise ConfigError(
            f"--output {scheme}:// needs {_PLANNED[scheme]}, which this version does not include yet: "
            "use a local directory"
        )
    raise ConfigError(
        f"--output {output!r}: unknown scheme {scheme!r}; use a directory path, file://, gs://, s3:// or secops:// URL"
    )


def _open_secops(output: str, lease_ttl: float | None, settings: Settings | None) -> Sink:
    """The SecOps sink on top of its state store (checkpoints, lease, delivery markers)."""
    from zdlogs.config import load_settings
    from zdlogs.sinks.secops import SecOpsSink, parse_secops_url, require_extra  # google-auth: only for secops://

    parse_secops_url(output)
    require_extra()  # both before the state store is opened (a local one is created)
    settings = settings or load_settings()
    if urlsplit(settings.secops_state).scheme == "secops":
        raise ConfigError("ZDLOGS_SECOPS_STATE must be a directory, gs:// or s3:// URL, not a secops:// output")
    return SecOpsSink.from_url(
        output,
        state=open_sink(settings.secops_state, lease_ttl=lease_ttl),
        log_type=settings.secops_log_type,
        forwarder=settings.secops_forwarder,
        endpoint=settings.secops_endpoint,
        batch_bytes=settings.secops_batch_bytes,
    )
