"""Where pages go, chosen by the scheme of ``--output``: a local directory, ``gs://`` or ``s3://`` (object stores,
``zdlogs.stores``, which are destinations as they are and also hold the state), or
``secops://project/location/instance`` (records pushed to the Google SecOps ingestion API, the ``secops`` extra,
with the state and the delivery markers in the object store ``ZDLOGS_SECOPS_STATE`` names).

``open_state_store(settings)`` opens the object store of the checkpoints and the lease,
``open_destination(settings, state_store)`` the destination on top of it."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from zdlogs.config import env_name
from zdlogs.destinations.base import Destination, StoredPage
from zdlogs.errors import ConfigError
from zdlogs.stores import ObjectStore, open_store

if TYPE_CHECKING:
    from zdlogs.config import Settings

__all__ = ["Destination", "StoredPage", "open_destination", "open_state_store"]


def _is_secops(url: str) -> bool:
    return urlsplit(url).scheme == "secops"


def open_state_store(settings: Settings) -> ObjectStore:
    """The object store holding the checkpoints and the run lease: the output itself, or a secops:// output's
    state store (checked, with the secops extra, before a local state directory is created)."""
    if not _is_secops(settings.output):
        return open_store(settings.output, lease_ttl=settings.lease_ttl, timeout=settings.storage_timeout)
    from zdlogs.destinations.secops import parse_secops_url, require_extra  # google-auth: only for secops://

    parse_secops_url(settings.output)
    require_extra()
    if _is_secops(settings.secops_state):
        raise ConfigError(f"{env_name('secops_state')} must be a directory, gs:// or s3:// URL, not a secops:// output")
    return open_store(settings.secops_state, lease_ttl=settings.lease_ttl, timeout=settings.storage_timeout)


def open_destination(settings: Settings, state_store: ObjectStore) -> Destination:
    """The destination of ``--output``: the state store itself, or SecOps keeping its markers in it."""
    if not _is_secops(settings.output):
        assert isinstance(state_store, Destination), f"{state_store.url} is not a destination"
        return state_store
    from zdlogs.destinations.secops import SecOpsDestination

    return SecOpsDestination.from_url(
        settings.output,
        state=state_store,
        log_type=settings.secops_log_type,
        log_types=settings.secops_stream_log_types(),
        api_version=settings.secops_api_version,
        compress=settings.secops_compress == "gzip",
        forwarder=settings.secops_forwarder,
        namespace=settings.secops_namespace,
        labels=settings.secops_labels,
        endpoint=settings.secops_endpoint,
        batch_bytes=settings.secops_batch_bytes,
    )
