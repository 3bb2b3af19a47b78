"""The two record forms zdlogs stores (zdlogs.ndjson), read as one relation of records by DuckDB.

A file in the record form holds one record per line; in the page form (``ZDLOGS_RECORD_FORM=page``, or the objects
of Google's guide function, which stored each API page whole) each line is ``{"<list key>": [records...], ...}``.
A file's form is told from its first bytes, so record-form data is read exactly as before (one ``read_json`` scan,
no unnesting: reading both shapes in one scan costs 1.7x on 300,000 records), and page-form files are read with the
list key typed as a list of the record's struct and unnested twice (the list, then the struct) into the same
columns. A collection that switched forms has both kinds of files: the two reads are joined by name.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Mapping

_READ = "read_json(${files}, columns=${columns}, format='newline_delimited', compression='auto')"
_FIRST_BYTES = 256


def split(paths: list[str], key: str) -> tuple[list[str], list[str]]:
    """``paths`` as (record-form files, page-form files under ``key``), each in the given order."""
    pages = {path for path in paths if _page_form(path, key)}
    return [path for path in paths if path not in pages], [path for path in paths if path in pages]


def _page_form(path: str, key: str) -> bool:
    """The file's first line starts ``{"<key>": [`` (zdlogs' page form, or the guide's ``json.dumps`` of a page)."""
    try:
        with (gzip.open if path.endswith(".gz") else open)(path, "rb") as stream:
            head = stream.read(_FIRST_BYTES)
    except (OSError, EOFError):
        return False  # unreadable here: DuckDB's read names the file
    return re.match(rb'\s*\{\s*"' + re.escape(key.encode()) + rb'"\s*:\s*\[', head) is not None


def page_columns(fields: Mapping[str, str], key: str) -> dict[str, str]:
    """The columns of a page-form read: ``key`` as a list of the record's struct."""
    struct = ", ".join('"' + name.replace('"', '""') + '" ' + kind for name, kind in fields.items())
    return {key: f"STRUCT({struct})[]"}


def relation(key: str, records: str | None, pages: str | None, columns: str, paged: str) -> str:
    """SQL reading the record-form files of parameter ``records`` and the page-form files of ``pages`` (None: there
    are none) as one relation with the columns of parameter ``columns`` (``paged``: :func:`page_columns`'s)."""
    parts = []
    if records:
        parts.append(f"SELECT * FROM {_READ.format(files=records, columns=columns)}")
    if pages:
        quoted = '"' + key.replace('"', '""') + '"'
        read = _READ.format(files=pages, columns=paged)
        parts.append(f"SELECT unnest(r) FROM (SELECT unnest({quoted}) AS r FROM {read})")
    return "(" + " UNION ALL BY NAME ".join(parts) + ")"
