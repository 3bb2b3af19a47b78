"""Google Cloud Storage (``gs://bucket/[root/]``): the Cloud Run function's destination.

The store root is the bucket plus an optional root path, so the layout is the local store's: data under
the data prefix (``ZDLOGS_DATA_PREFIX``) and the checkpoint at ``STATE_KEY``, both relative to the root.

Every write is one single-request upload, which GCS applies whole or not at all, guarded by a generation
precondition: the keyword ``if_generation_match`` of ``Blob.upload_from_string``, ``Blob.delete`` and
``Blob.reload`` (google-cloud-storage, docs/generation_metageneration.rst, "Conditional Requests Via
Generation / Metageneration Preconditions": ``0`` means "only if there is no live object"). A failed
precondition is HTTP 412, raised as ``google.api_core.exceptions.PreconditionFailed``:

* data objects are created with ``if_generation_match=0``: a page stored twice is stored once;
* the checkpoint is replaced only if it is still the generation this store last read or wrote, so two
  writers can never both advance it;
* the run lease is an object ``{"owner", "since", "expires"}``: created with ``if_generation_match=0``,
  taken over when expired with ``if_generation_match=<its generation>`` (one contender wins), renewed by
  a thread and deleted on exit only if still ours.

The library retries conditional requests on transient failures (Cloud Storage "Retry strategy": a
precondition makes an upload idempotent), so a retried upload whose first attempt landed meets a 412
against its own object: a 412 whose object holds exactly our bytes counts as our write.

Credentials: Application Default Credentials (a service account on Cloud Run), or none when
``STORAGE_EMULATOR_HOST`` points at an emulator. Every google error becomes a one-line StorageError
naming the fix.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import structlog

from zdlogs.config import env_name
from zdlogs.errors import ConfigError, StorageError
from zdlogs.stores._objects import LeasedObjectStore, ObjectLease
from zdlogs.stores._objects import content_type as _content_type

try:
    from google.api_core import exceptions as gexc
    from google.auth import exceptions as auth_exc
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage
    from google.cloud.storage.retry import DEFAULT_RETRY
except ImportError:  # the base install: only gs:// needs the extra
    storage = None

log = structlog.get_logger("zdlogs.stores.gcs")

LEASE_TTL_SECONDS = 15 * 60
TIMEOUT_SECONDS = 60.0  # ZDLOGS_STORAGE_TIMEOUT's default
MISSING_EXTRA = "gs:// output needs the GCS extra: pip install 'zdlogs[gcs]'"
EMULATOR_ENV = "STORAGE_EMULATOR_HOST"


GCSLease = ObjectLease  # the lease a GCS store yields (kept as a name for callers and tests)


class GCSStore(LeasedObjectStore):
    SCHEME, KIND = "gs", "a GCS"

    def __init__(
        self, bucket: str, root: str = "", *, lease_ttl: float = LEASE_TTL_SECONDS, timeout: float = TIMEOUT_SECONDS
    ):
        if storage is None:
            raise ConfigError(MISSING_EXTRA)
        self.bucket_name = bucket
        self._place(bucket, root, lease_ttl)
        self._calls = bounded(timeout)
        self.TRANSIENT = (gexc.GoogleAPIError, auth_exc.GoogleAuthError, OSError)  # what a renewal retries
        self._bucket = self._handle = self._new_bucket()
        self._check_bucket()

    def _new_bucket(self) -> Any:
        """A bucket handle on a client of its own (the lease renewal thread gets another)."""
        return client(self.url).bucket(self.bucket_name)

    def _check_bucket(self) -> None:
        """Fail at start, like the local store, if the bucket is missing or not ours to use."""
        with self._errors("list objects in", ""):
            blobs = self._bucket.client.list_blobs(self._bucket, prefix=self.root, max_results=1, **self._calls)
            next(iter(blobs), None)

    # -- objects ------------------------------------------------------------------------------------

    def put_if_absent(self, key: str, data: bytes) -> bool:
        with self._errors("write", key):
            try:
                _upload(self._bucket, self._name(key), data, 0, self._calls)
                return True
            except gexc.PreconditionFailed:
                return False

    def exists(self, key: str) -> bool:
        with self._errors("read", key):
            return bool(self._bucket.blob(self._name(key)).exists(**self._calls))

    # -- lease: the algorithm is LeasedObjectStore's; these are its conditional calls on GCS ---------------

    ABSENT = 0  # generation 0: "only if the object does not exist"

    def _new_handle(self) -> Any:
        return self._new_bucket()

    def _write_if(self, bucket: Any, name: str, data: bytes, generation: int) -> int | None:
        return _upload_or_adopt(bucket, name, data, generation, self._calls)

    def _fetch(self, bucket: Any, name: str) -> tuple[bytes | None, int]:
        return _download(bucket, name, self._calls)

    # -- lease --------------------------------------------------------------------------------------

    def _release(self, key: str, generation: int) -> None:
        """Delete the lease if it is still the generation we wrote; a failure only delays the next run.

        The delete carries ``if_generation_match``; the metadata check before it is what emulators that
        ignore preconditions on delete (fake-gcs-server) need, and names the case in the log.
        """
        blob = self._bucket.blob(self._name(key))
        try:
            blob.reload(**self._calls)
            if blob.generation != generation:
                log.error("lease_not_released", key=self.url + key, reason="another run took it over")
                return
            blob.delete(if_generation_match=generation, **self._calls)
        except (gexc.PreconditionFailed, gexc.NotFound):
            return
        except (gexc.GoogleAPIError, auth_exc.GoogleAuthError, OSError) as exc:
            log.warning("lease_not_released", key=self.url + key, error=self._describe(exc, "delete", key))

    # -- errors -------------------------------------------------------------------------------------

    @contextmanager
    def _errors(self, action: str, key: str) -> Iterator[None]:
        try:
            yield
        except (gexc.GoogleAPIError, auth_exc.GoogleAuthError, OSError) as exc:
            raise StorageError(self._describe(exc, action, key)) from None

    def _describe(self, exc: BaseException, action: str, key: str) -> str:
        """One line naming the problem and the fix; never a traceback, never a credential."""
        where = f"{self.url}{key}"
        if isinstance(exc, gexc.NotFound):
            return f"bucket {self.bucket_name} does not exist: create it or fix {env_name('gcs_bucket')} / --output"
        if isinstance(exc, gexc.Forbidden):
            return (
                f"permission denied to {action} {where} ({_reason(exc)}): grant roles/storage.objectAdmin "
                "on the bucket to the function's service account"
            )
        if isinstance(exc, gexc.Unauthorized | auth_exc.GoogleAuthError):
            return (
                f"Google credentials were refused or unavailable ({type(exc).__name__}) while trying to "
                f"{action} {where}: on Cloud Run attach a service account; elsewhere run "
                "'gcloud auth application-default login' or set GOOGLE_APPLICATION_CREDENTIALS"
            )
        if isinstance(exc, gexc.GoogleAPICallError) and exc.code and exc.code < 500 and exc.code != 429:
            return f"GCS refused to {action} {where} (HTTP {exc.code}: {_reason(exc)})"
        return (
            f"GCS did not answer while trying to {action} {where} ({_reason(exc)}): check the network "
            f"(or {EMULATOR_ENV}); the checkpoint was not moved, so the next run continues from it"
        )


# -- the google calls --------------------------------------------------------------------------------


def client(url: str, option: str = "--output") -> Any:
    """Application Default Credentials, or anonymous ones against an emulator (no real credentials); ``option``
    names where ``url`` was given in the message when there are none (``--input`` for the analyst's commands)."""
    emulator = os.environ.get(EMULATOR_ENV, "")
    if emulator:
        if not emulator.startswith(("http://", "https://")):
            raise ConfigError(f"{EMULATOR_ENV}={emulator!r} needs a scheme: http://HOST:PORT")
        return storage.Client(project=None, credentials=AnonymousCredentials())
    try:
        return storage.Client(project=None)
    except auth_exc.DefaultCredentialsError:
        raise ConfigError(
            f"{option} {url}: no Google credentials found: on Cloud Run attach a service account; elsewhere "
            f"run 'gcloud auth application-default login' or set GOOGLE_APPLICATION_CREDENTIALS "
            f"({EMULATOR_ENV} for an emulator)"
        ) from None


# Each call takes a fresh Blob: a Blob that has learnt a generation pins later downloads and reloads to
# it (``?generation=N``), which 404s once another writer has replaced the object.


def bounded(seconds: float) -> dict[str, Any]:
    """The ``retry`` and ``timeout`` of every call: the library's retry policy (DEFAULT_RETRY: 429, 5xx,
    resets; exponential backoff from 1 s) within ``seconds`` in all, instead of its 120 s, each request
    at most that long too, so an outage costs a run at most ``ZDLOGS_STORAGE_TIMEOUT`` per call (issue 19).
    ``with_timeout`` is google-api-core >= 2.17's name for the older ``with_deadline``."""
    limit = getattr(DEFAULT_RETRY, "with_timeout", None) or DEFAULT_RETRY.with_deadline
    return {"retry": limit(seconds), "timeout": seconds}


def _upload(bucket: Any, name: str, data: bytes, generation: int, calls: dict[str, Any]) -> int:
    """One single-request upload, applied only if the object's generation is ``generation`` (0: absent)."""
    blob = bucket.blob(name)
    blob.upload_from_string(data, content_type=_content_type(name), if_generation_match=generation, **calls)
    return int(blob.generation)


def _upload_or_adopt(bucket: Any, name: str, data: bytes, generation: int, calls: dict[str, Any]) -> int | None:
    """Upload with the precondition; on 412, our own earlier attempt (same bytes) counts as success."""
    try:
        return _upload(bucket, name, data, generation, calls)
    except gexc.PreconditionFailed:
        current, current_generation = _download(bucket, name, calls)
        return current_generation if current == data else None


def _download(bucket: Any, name: str, calls: dict[str, Any]) -> tuple[bytes | None, int]:
    """The object and the generation those bytes belong to (one response), or (None, 0) if absent."""
    blob = bucket.blob(name)
    try:
        data = blob.download_as_bytes(**calls)
    except gexc.NotFound:
        return None, 0
    return data, int(blob.generation)


def _reason(exc: BaseException) -> str:
    """The server's message (or the exception's), first line only, bounded; a retry timeout names its cause."""
    text = str(getattr(exc, "message", "") or exc).strip()
    text = text.splitlines()[0][:200] if text else type(exc).__name__
    cause = getattr(exc, "cause", None)
    return f"{text}, last error: {type(cause).__name__}" if isinstance(exc, gexc.RetryError) and cause else text
