"""What the bucket stores (GCS, S3) share: their URLs, content types, the lease document and algorithm.

Kept apart from both so that neither imports the other's cloud library. The lease object is
``{"owner", "since", "expires"}`` (ISO-8601, milliseconds, UTC); an unreadable one counts as expired.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, Self
from urllib.parse import urlsplit

import orjson
import structlog

from zdlogs.errors import ConfigError, StorageError
from zdlogs.stores.base import Lease, ObjectDestination
from zdlogs.times import iso_offset, parse_utc, utc_now

log = structlog.get_logger("zdlogs.stores")

TAKE_TURNS = 3  # create / read / take over rounds before reporting the lease as contended
CONTENT_TYPES = {
    ".gz": "application/gzip",
    ".ndjson": "application/x-ndjson",
    ".json": "application/json",
    ".lease": "application/json",
}


def parse_bucket_url(url: str, scheme: str, kind: str) -> tuple[str, str]:
    """``gs://bucket/some/root/`` → ``("bucket", "some/root/")``; the root is empty or ends with ``/``."""
    parts = urlsplit(url)
    if parts.scheme != scheme or not parts.netloc:
        raise ConfigError(f"--output {url!r}: {kind} output is {scheme}://BUCKET/ or {scheme}://BUCKET/ROOT/")
    root = parts.path.strip("/")
    return parts.netloc, f"{root}/" if root else ""


def content_type(name: str) -> str:
    return next((kind for suffix, kind in CONTENT_TYPES.items() if name.endswith(suffix)), "application/octet-stream")


def lease_body(owner: str, since: datetime, expires: datetime) -> bytes:
    return orjson.dumps({"owner": owner, "since": iso_offset(since), "expires": iso_offset(expires)})


def holder(raw: bytes) -> Lease:
    """Who holds the lease, as written; an unreadable lease object counts as expired."""
    with suppress(orjson.JSONDecodeError, TypeError, AttributeError):
        held = orjson.loads(raw)
        return Lease(False, str(held.get("owner")), str(held.get("since")), str(held.get("expires") or ""))
    return Lease(acquired=False, owner="unknown (unreadable lease)", since="", expires="")


def expired(expires: str) -> bool:
    """The lease's ``expires`` is past (one without a zone is UTC); an unreadable one counts as past."""
    try:
        return parse_utc(expires) <= utc_now()
    except ValueError:
        return True


# -- the run lease on an object store with conditional writes ------------------------------------------


@dataclass(frozen=True)
class ObjectLease(Lease):
    """A Lease that can tell, while held, whether another run has since taken it over."""

    _lost: threading.Event = field(default_factory=threading.Event, repr=False, compare=False)

    def lease_lost(self) -> bool:
        """True once a renewal found the lease taken over: stop writing."""
        return self._lost.is_set()


class LeasedObjectStore(ObjectDestination):
    """A bucket (plus a root path) as an object store, and its run lease, written once for GCS and S3.

    The lease object is created only if absent; an expired one is taken over with a precondition on the
    version read (so exactly one contender wins), renewed every TTL/3 with a precondition on our version,
    and released only if still ours. A store supplies its conditional calls:

    * ``_write_if(handle, name, data, version)``: write if the object is at ``version`` (``ABSENT``: if
      absent); the new version, or None when refused;
    * ``_fetch(handle, name)``: the bytes and the version they belong to, ``(None, ABSENT)`` if absent;
    * ``_new_handle()``: a client of its own for the renewal thread; ``_handle``: the store's own;
    * ``_release(key, version)``, ``_errors(action, key)``, ``_describe(exc, action, key)``,
      ``TRANSIENT`` (the library's error types), ``SCHEME`` and ``KIND`` (its URLs, for messages).
    """

    ABSENT: Any = None
    TRANSIENT: tuple[type[BaseException], ...] = (OSError,)
    SCHEME: ClassVar[str]
    KIND: ClassVar[str]
    url: str
    root: str
    lease_ttl: float
    _handle: Any
    _lost: threading.Event

    def _place(self, bucket: str, root: str, lease_ttl: float) -> None:
        """Where the store's objects live: ``<root><key>`` in ``bucket``."""
        self.root, self.url, self.lease_ttl = root, f"{self.SCHEME}://{bucket}/{root}", lease_ttl
        self._lost = threading.Event()
        self._versions: dict[str, Any] = {}  # what this store last read or wrote, per key
        self._unanswered: dict[str, list[bytes]] = {}  # writes whose answer never came: they may have landed

    # -- read and replace (the checkpoint): conditional on the version last seen ---------------------------

    def read(self, key: str) -> bytes | None:
        """The object, remembering its version for the next :meth:`replace` of ``key``."""
        with self._errors("read", key):  # type: ignore[attr-defined]
            data, self._versions[key] = self._fetch(self._handle, self._name(key))  # type: ignore[attr-defined]
            return data

    def replace(self, key: str, data: bytes) -> None:
        """Write ``key`` only if it is still what we last read or wrote (absent if never seen).

        A refusal means another writer only if what is there is not ours: a write of ours whose answer was
        lost (the error reached the caller, the bytes reached the bucket) is found there and adopted, and
        the replace goes on from its version (issue 19: not "another writer" for our own lost answer)."""
        with self._errors("write", key):  # type: ignore[attr-defined]
            version = self._replace(key, data)
        if version is None:
            raise StorageError(
                f"another writer changed {self.url}{key} since this run read it: this run stops without "
                "moving the checkpoint; check that only one zdlogs collects into this output"
            )
        self._versions[key] = version
        self._unanswered.pop(key, None)

    def _replace(self, key: str, data: bytes) -> Any:
        name = self._name(key)
        try:
            version = self._write_if(self._handle, name, data, self._versions.get(key, self.ABSENT))  # type: ignore[attr-defined]
        except BaseException:
            self._unanswered.setdefault(key, []).append(data)  # it may have landed unseen
            raise
        if version is not None:
            return version
        current, current_version = self._fetch(self._handle, name)  # type: ignore[attr-defined]
        if current is None or current not in self._unanswered.get(key, []):
            return None
        log.warning("unacknowledged_write_found", key=self.url + key, action="taken as ours; writing again")
        return self._write_if(self._handle, name, data, current_version)  # type: ignore[attr-defined]

    @classmethod
    def from_url(cls, url: str, **options: Any) -> Self:
        return cls(*parse_bucket_url(url, cls.SCHEME, cls.KIND), **options)  # type: ignore[call-arg]  # (bucket, root)

    def _name(self, key: str) -> str:
        return self.root + key

    def lease_lost(self) -> bool:
        """True if the lease this store holds (or last held) was taken over while held."""
        return self._lost.is_set()

    @contextmanager
    def lease(self, key: str, owner: str) -> Iterator[Lease]:
        """Hold the run lease for the block if it is free or expired; renew it while held."""
        self._lost = threading.Event()
        with self._errors("take the lease", key):  # type: ignore[attr-defined]
            lease, version = self._acquire(key, owner)
        if not lease.acquired:
            yield lease
            return
        renewal = Renewal(self, key, lease, version, self._lost)
        renewal.start()
        try:
            yield lease
        finally:
            renewal.finish()
            self._release(key, renewal.version)  # type: ignore[attr-defined]

    def _acquire(self, key: str, owner: str) -> tuple[Lease, Any]:
        since = utc_now()
        expires = since + timedelta(seconds=self.lease_ttl)
        body = lease_body(owner, since, expires)
        ours = ObjectLease(True, owner, iso_offset(since), iso_offset(expires), self._lost)
        name = self._name(key)
        for _ in range(TAKE_TURNS):
            version = self._write_if(self._handle, name, body, self.ABSENT)  # type: ignore[attr-defined]
            if version is not None:
                return ours, version
            raw, current = self._fetch(self._handle, name)  # type: ignore[attr-defined]
            if raw is None:  # released between our attempt and the read: try again
                continue
            held = holder(raw)
            if not expired(held.expires):
                return held, self.ABSENT
            version = self._write_if(self._handle, name, body, current)  # type: ignore[attr-defined]
            if version is not None:
                log.warning("lease_taken_over", key=self.url + key, previous=held.owner, expired=held.expires)
                return ours, version
        return Lease(acquired=False, owner="unknown (contended)", since=iso_offset(since)), self.ABSENT


class Renewal:
    """Pushes the lease's expiry forward every TTL/3 with a precondition on our version."""

    def __init__(self, sink: LeasedObjectStore, key: str, lease: Lease, version: Any, lost: threading.Event):
        self.sink, self.key, self.lease, self.version, self.lost = sink, key, lease, version, lost
        self._handle = sink._new_handle()  # type: ignore[attr-defined]  # its own client: not thread-safe
        self._name = sink._name(key)
        self._finished = threading.Event()
        self._thread = threading.Thread(  # in a copy of the run's context: its log lines name the tenant
            target=contextvars.copy_context().run, args=(self._loop,), name="zdlogs-lease-renewal", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def finish(self) -> None:
        """Stop renewing; wait for a renewal in flight so :attr:`version` is the latest."""
        self._finished.set()
        self._thread.join(timeout=120)

    def _loop(self) -> None:
        while not self._finished.wait(self.sink.lease_ttl / 3):
            if not self._renew():
                return

    def _renew(self) -> bool:
        """Renew once; False when the lease turned out to be someone else's (stop renewing)."""
        since = parse_utc(self.lease.since)
        body = lease_body(self.lease.owner, since, utc_now() + timedelta(seconds=self.sink.lease_ttl))
        try:
            version = self.sink._write_if(self._handle, self._name, body, self.version)  # type: ignore[attr-defined]
        except self.sink.TRANSIENT as exc:
            log.warning("lease_renewal_failed", error=self.sink._describe(exc, "renew the lease", self.key))  # type: ignore[attr-defined]
            return True  # still ours until it expires: try again next time
        if version is None:
            self.lost.set()
            log.error("lease_lost", key=self.sink.url + self.key, reason="another run took the lease over")
            return False
        self.version = version
        return True
