"""The stored form of a page: NDJSON, one raw Zendesk record per line, UTF-8, every line terminated.

Google SecOps treats each line of an object as one log entry, so one record per line is what its
ZENDESK_CRM parser needs (a whole page as one JSON document, as the original function wrote, is one
giant entry). gzip output sets mtime=0 so the same records always give the same bytes.
"""

from __future__ import annotations

import gzip
import hashlib
from typing import Any

import orjson

MAX_LINE_BYTES = 4 * 1024 * 1024  # SecOps' limit for one log line


def encode(records: list[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(record) + b"\n" for record in records)


def pack(body: bytes, compress: str) -> bytes:
    return gzip.compress(body, compresslevel=6, mtime=0) if compress == "gzip" else body


def object_key(prefix: str, stream: str, day: str, position: str, body: bytes, compress: str) -> str:
    """``<prefix><stream>/<yyyy/mm/dd>/<position>-<hash>.ndjson[.gz]``: the same records, the same name.

    The content hash makes a re-fetched identical page land on the existing object (create-if-absent
    skips it) and makes it impossible to overwrite an object with different content.
    """
    digest = hashlib.sha256(body).hexdigest()[:16]
    suffix = ".ndjson.gz" if compress == "gzip" else ".ndjson"
    return f"{prefix}{stream}/{day}/{position}-{digest}{suffix}"
