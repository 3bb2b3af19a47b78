"""The records a rule reads, as one SQL relation named ``{records}``: the audit log (``AuditData`` of
zdlogs.analysis, which reads the collected files and applies --since/--until) or the access log, read the
same way from the ``access_logs`` folder beside it. A rule's SQL names the columns of its stream, with
``created_at`` the record's time in both (the access log's ``timestamp``) and ``actor_id`` the user."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from zdlogs.analysis import forms
from zdlogs.analysis.engine import AuditData
from zdlogs.analysis.inputs import REMOTE_SCHEMES, SUFFIXES
from zdlogs.analysis.schema import AUDIT_FIELDS
from zdlogs.errors import ConfigError

ACCESS_STREAM = "access_logs"
# The access-log record as zdlogs.streams.access_logs documents it (graphql, an object, is not read).
ACCESS_FIELDS: dict[str, str] = {
    "id": "VARCHAR",
    "user_id": "BIGINT",
    "ip_address": "VARCHAR",
    "url": "VARCHAR",
    "method": "VARCHAR",
    "status": "INTEGER",
    "authorization_type": "VARCHAR",
    "client": "VARCHAR",
    "category": "VARCHAR",
    "summary": "VARCHAR",
    "referer": "VARCHAR",
    "bytes_sent": "BIGINT",
    "timestamp": "VARCHAR",
}


@dataclass(frozen=True)
class Records:
    """One stream's records for the rules: ``fields`` (the columns a rule may name), ``actor`` (the column
    holding who did it), and the SQL that reads them through ``data`` (whose connection runs every query)."""

    data: AuditData
    fields: Mapping[str, str]
    actor: str
    relation: str
    extra: dict[str, Any]

    def rows(self, query: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """``query`` (naming ``{records}``) run, each row as a dict by column name."""
        sql = query.replace("{records}", self.relation)
        cursor = self.data.execute(sql, {**self.extra, **(params or {})})
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def audit_records(data: AuditData) -> Records:
    return Records(data, AUDIT_FIELDS, "actor_id", "{audit}", {})


def access_records(data: AuditData, files: list[Path]) -> Records:
    """The access log's files read on ``data``'s connection, ``timestamp`` as ``created_at`` and ``user_id`` as
    ``actor_id``, filtered by the same --since/--until."""
    since, until = data.filters.since, data.filters.until
    records, pages = forms.split([str(path) for path in files], ACCESS_STREAM)
    relation = (
        f'(SELECT *, user_id AS actor_id FROM (SELECT *, TRY_CAST("timestamp" AS TIMESTAMPTZ) AS created_at '
        f"FROM {_access_source(records, pages)}) "
        "WHERE ($access_since IS NULL OR created_at >= CAST($access_since AS TIMESTAMPTZ)) "
        "AND ($access_until IS NULL OR created_at < CAST($access_until AS TIMESTAMPTZ)))"
    )
    extra = {
        "access_files": records,
        "access_pages": pages,
        "access_columns": ACCESS_FIELDS,
        "access_page_columns": forms.page_columns(ACCESS_FIELDS, ACCESS_STREAM),
        "access_since": since,
        "access_until": until,
    }
    return Records(data, {**ACCESS_FIELDS, "created_at": "TIMESTAMPTZ"}, "user_id", relation, extra)


def _access_source(records: list[str], pages: list[str]) -> str:
    """The access log's files, each read in its record form (zdlogs.analysis.forms)."""
    named = ("access_files" if records else None, "access_pages" if pages else None)
    return forms.relation(ACCESS_STREAM, *named, "access_columns", "access_page_columns")


def access_files(location: str, prefix: str) -> list[Path]:
    """The access-log files beside the audit log ``location`` holds (``<prefix>access_logs/``, or
    ``access_logs/`` when --input is a copied folder); none is an empty list (the stream needs an add-on)."""
    if urlsplit(location).scheme in REMOTE_SCHEMES:
        from zdlogs.analysis.remote import mirrored

        return access_files(str(mirrored(location, prefix, ACCESS_STREAM)), prefix)
    root = Path(location).expanduser()
    root = root.parent if root.is_file() else root
    if root.name == "audit_logs":
        root = root.parent
    for folder in (root / prefix.strip("/") / ACCESS_STREAM, root / ACCESS_STREAM):
        if folder.is_dir():
            return sorted(path for path in folder.rglob("*") if path.is_file() and path.name.endswith(SUFFIXES))
    return []


def require_access(files: list[Path], location: str) -> list[Path]:
    """``files``, or the one line saying the access log was never collected there and how to collect it."""
    if not files:
        raise ConfigError(
            f"no access-log files under {location}: the access-log rule reads them; collect them with "
            "`zdlogs run --resources audit_logs,access_logs` (Zendesk's ADPP add-on), or drop that --rule"
        )
    return files
