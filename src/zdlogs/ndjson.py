"""The stored form of pages: NDJSON, one raw Zendesk record per line, UTF-8, every line terminated.

Google SecOps treats each line of an object as one log entry, so one record per line (the ``record`` form, the
default) makes one entry per record. The ``page`` form (``ZDLOGS_RECORD_FORM=page``) writes each page's records as
one line ``{"<the resource's list key>": [records...]}``, the envelope the original function of Google's guide
wrote (it stored ``json.dumps`` of the whole API page, ``audit_logs``/``tickets`` and the pagination fields: the
seed function's ``put_page``), for a parser that expects it; ``zdlogs secops check`` shows which form an
instance's parser reads. gzip output sets mtime=0 so the same records always give the same bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from typing import Any, NamedTuple

import orjson

MAX_LINE_BYTES = 4 * 1024 * 1024  # SecOps' limit for one log line
RECORD_FORMS = ("record", "page")


class Encoded(NamedTuple):
    body: bytes
    oversized: list[int]  # indexes of records whose line exceeds MAX_LINE_BYTES


def encode(records: list[dict[str, Any]]) -> Encoded:
    """One line per record; the indexes of lines a SIEM would reject are reported, the records kept."""
    lines, oversized = encode_lines(records)
    return Encoded(b"".join(lines), oversized)


def encode_lines(records: list[dict[str, Any]]) -> tuple[list[bytes], list[int]]:
    """Each record's line, newline included (an object of many pages may end inside a page), and the indexes of
    the lines a SIEM would reject."""
    lines = [_dumps(record) + b"\n" for record in records]
    return lines, [index for index, line in enumerate(lines) if len(line) > MAX_LINE_BYTES]


def page_line(key: str, lines: list[bytes]) -> bytes:
    """The page form of record ``lines`` (each ending in a newline): ``{"<key>":[<record>,...]}`` and a newline, the
    bytes ``orjson.dumps({key: records})`` would give, built from the lines already encoded."""
    return b"{" + orjson.dumps(key) + b":[" + b",".join(line[:-1] for line in lines) + b"]}\n"


def _dumps(record: dict[str, Any]) -> bytes:
    """orjson, or the stdlib for the rare record orjson refuses: a lone UTF-16 surrogate in a string
    (valid JSON, but not encodable as UTF-8). It becomes ``?`` so every stored line stays valid UTF-8."""
    try:
        return orjson.dumps(record)
    except orjson.JSONEncodeError:
        return json.dumps(record, ensure_ascii=False).encode("utf-8", errors="replace")


def pack(body: bytes, compress: str) -> bytes:
    return gzip.compress(body, compresslevel=6, mtime=0) if compress == "gzip" else body


def object_key(prefix: str, stream: str, day: str, position: str, body: bytes, compress: str) -> str:
    """``<prefix><stream>/<yyyy/mm/dd>/<position>-<hash>.ndjson[.gz]``: the same records, the same name.

    The content hash makes a re-fetched identical page land on the existing object (create-if-absent
    skips it) and makes it impossible to overwrite an object with different content.
    """
    return named_object(prefix, stream, day, position, hashlib.sha256(body).hexdigest(), compress)


def named_object(prefix: str, stream: str, day: str, position: str, sha256: str, compress: str) -> str:
    """:func:`object_key` from the body's SHA-256 (hex) already computed: an object of many pages is hashed page
    by page as it grows, never joined just to be hashed."""
    suffix = ".ndjson.gz" if compress == "gzip" else ".ndjson"
    return f"{prefix}{stream}/{day}/{position}-{sha256[:16]}{suffix}"
