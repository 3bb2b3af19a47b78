"""What the object-store sinks (GCS, S3) share: content types and the lease document.

Kept apart from both so that neither imports the other's cloud library. The lease object is
``{"owner", "since", "expires"}`` (ISO-8601, milliseconds, UTC); an unreadable one counts as expired.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime

import orjson

from zdlogs.sinks.base import Lease

TAKE_TURNS = 3  # create / read / take over rounds before reporting the lease as contended
CONTENT_TYPES = {
    ".gz": "application/gzip",
    ".ndjson": "application/x-ndjson",
    ".json": "application/json",
    ".lease": "application/json",
}


def content_type(name: str) -> str:
    return next((kind for suffix, kind in CONTENT_TYPES.items() if name.endswith(suffix)), "application/octet-stream")


def now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def lease_body(owner: str, since: datetime, expires: datetime) -> bytes:
    return orjson.dumps({"owner": owner, "since": iso(since), "expires": iso(expires)})


def holder(raw: bytes) -> Lease:
    """Who holds the lease, as written; an unreadable lease object counts as expired."""
    with suppress(orjson.JSONDecodeError, TypeError, AttributeError):
        held = orjson.loads(raw)
        return Lease(False, str(held.get("owner")), str(held.get("since")), str(held.get("expires") or ""))
    return Lease(acquired=False, owner="unknown (unreadable lease)", since="", expires="")


def expired(expires: str) -> bool:
    try:
        moment = datetime.fromisoformat(expires)
    except ValueError:
        return True
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)) <= now()
