"""What a destination must guarantee: a page delivered once, and a way to tell afterwards that it was.

The page writer (``zdlogs.writer``) hands each page to a destination as its stored form (the object
key, deterministic from the content, and the NDJSON bytes, possibly gzipped). A local directory,
``gs://`` and ``s3://`` are object stores that are destinations as they are
(``zdlogs.stores.base.ObjectDestination``); ``secops://`` pushes the records to an API and keeps its
delivery markers in an object store of its own (``zdlogs.destinations.secops``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class StoredPage:
    """One page as it is stored: its object key and its bytes."""

    key: str
    data: bytes


@runtime_checkable
class Destination(Protocol):
    url: str

    def deliver(self, page: StoredPage) -> bool:
        """Deliver the page unless it already was; True if (some of) it was written now."""
        ...

    def delivered(self, key: str) -> bool:
        """Whether the page named ``key`` was fully delivered (a pending page at the next start)."""
        ...
