"""What an object store must guarantee: durable, atomic objects that are created once and never rewritten,
replace guarded by the version read, and the run lease.

An object store serves the state (``zdlogs.state``: the checkpoint file and its lease) and, for a local
directory, ``gs://`` and ``s3://``, is also the destination of the pages (``zdlogs.destinations``): a page
is then one object under its key (:class:`ObjectDestination`). A new store is a new module here
implementing :class:`ObjectStore`, registered by URL scheme in ``zdlogs.stores``.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from zdlogs.destinations.base import StoredPage


@dataclass(frozen=True)
class Lease:
    """The outcome of asking for the run lease: ours (``acquired``) or who holds it, for the log line."""

    acquired: bool
    owner: str
    since: str
    expires: str = ""


@runtime_checkable
class ObjectStore(Protocol):
    """A durable key → bytes store with create-if-absent, replace-if-unchanged and a lease."""

    url: str

    def put_if_absent(self, key: str, data: bytes) -> bool:
        """Store ``data`` at ``key`` durably and atomically unless ``key`` exists; True if written."""
        ...

    def exists(self, key: str) -> bool: ...

    def read(self, key: str) -> bytes | None:
        """The object's bytes, or None if absent (remembering its version for :meth:`replace`)."""
        ...

    def replace(self, key: str, data: bytes) -> None:
        """Atomically and durably set ``key`` if it is still the version last read or written (absent if
        never seen): readers see the old or the new, never half, and two writers never both advance it."""
        ...

    def lease_lost(self) -> bool:
        """True once another run took over the lease this store holds: stop writing."""
        ...

    def lease(self, key: str, owner: str) -> AbstractContextManager[Lease]:
        """Hold the run lease for the ``with`` block if free; the yielded Lease says whether we got it."""
        ...


class ObjectDestination:
    """An object store as the destination of pages: a page is one object under its key, created once."""

    def put_if_absent(self, key: str, data: bytes) -> bool:
        raise NotImplementedError

    def exists(self, key: str) -> bool:
        raise NotImplementedError

    def deliver(self, page: StoredPage) -> bool:
        """Create the page's object unless it exists; True if written now."""
        return self.put_if_absent(page.key, page.data)

    def delivered(self, key: str) -> bool:
        """Whether the page named ``key`` is stored (how a pending page is settled at the next start)."""
        return self.exists(key)
