"""What a sink must guarantee: durable, atomic objects that are created once and never rewritten.

The streams never see a sink; the pipeline and the state store do. A new destination (GCS, S3) is a
new module implementing :class:`Sink`, registered by URL scheme in ``zdlogs.sinks``.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Lease:
    """The outcome of asking for the run lease: ours (``acquired``) or who holds it, for the log line."""

    acquired: bool
    owner: str
    since: str
    expires: str = ""


class Sink(Protocol):
    """A durable key → bytes store with create-if-absent and atomic replace."""

    url: str

    def put_if_absent(self, key: str, data: bytes) -> bool:
        """Store ``data`` at ``key`` durably and atomically unless ``key`` exists; True if written."""
        ...

    def exists(self, key: str) -> bool: ...

    def read(self, key: str) -> bytes | None:
        """The object's bytes, or None if absent."""
        ...

    def replace(self, key: str, data: bytes) -> None:
        """Atomically and durably set ``key`` (checkpoints): readers see the old or the new, never half."""
        ...

    def lease_lost(self) -> bool:
        """True once another run took over the lease this sink holds: stop writing."""
        ...

    def lease(self, key: str, owner: str) -> AbstractContextManager[Lease]:
        """Hold the run lease for the ``with`` block if free; the yielded Lease says whether we got it."""
        ...
