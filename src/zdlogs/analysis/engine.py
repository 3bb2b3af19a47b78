"""DuckDB over the collected NDJSON: every export and report is one SQL query on ``{audit}``.

DuckDB reads NDJSON and gzip directly, in parallel, with an explicit column schema, and spills to
disk beyond its memory limit, so a year of audit log is read in seconds in a memory that does not
grow with the input (pandas would hold every record as Python objects). DuckDB is the optional
``analysis`` extra: it is imported here only, and its absence is a one-line ConfigError.
"""

from __future__ import annotations

import itertools
import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zdlogs.analysis import forms
from zdlogs.analysis.filters import Filters
from zdlogs.analysis.schema import AUDIT_FIELDS
from zdlogs.config import DEFAULT_ANALYSIS_MEMORY
from zdlogs.errors import ConfigError, StorageError

if TYPE_CHECKING:
    import duckdb

# DuckDB spills sorts, tables and large aggregates to disk beyond this: memory stays flat however large the input.
# The commands pass the setting (zdlogs.config.AnalysisSettings); the engine reads no environment itself.
MEMORY_LIMIT = DEFAULT_ANALYSIS_MEMORY
_TABLES = itertools.count(1)
LIST_KEY = "audit_logs"  # the page form's key (zdlogs.analysis.forms): the audit log API's list
NO_TENANT = "CAST(NULL AS VARCHAR)"  # one input: every record's tenant, so one query serves both cases


def _duckdb() -> Any:
    try:
        import duckdb
    except ImportError:
        raise ConfigError("zdlogs export/report need DuckDB: pip install 'zdlogs[analysis]'") from None
    return duckdb


class AuditData:
    """The filtered audit records of some NDJSON files, queried by SQL that names them ``{audit}``.

    Every record has a ``tenant`` column: the fleet tenant whose files it came from when ``by_tenant`` maps
    several tenants to their files (each tenant's files read with its name as a literal, so a record is
    attributed by where it was read, whatever bucket or output each tenant uses), else NULL. Reports group by
    (tenant, actor): an actor id is only unique within one Zendesk account."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        files: list[Path],
        filters: Filters,
        fields: dict[str, str] = AUDIT_FIELDS,
        by_tenant: Mapping[str, list[Path]] | None = None,
    ):
        self.con = con
        self.by_tenant = {name: [str(path) for path in paths] for name, paths in (by_tenant or {}).items()}
        self.files = [path for paths in self.by_tenant.values() for path in paths] or [str(path) for path in files]
        self.filters = filters
        self.fields = {name: kind for name, kind in fields.items() if name != "tenant"}  # ours, not a record's
        # each input's files by form, by parameter suffix ("" for one input, "_0"... for tenants)
        groups = list(self.by_tenant.values()) if self.by_tenant else [self.files]
        self._forms = {
            (f"_{i}" if self.by_tenant else ""): forms.split(paths, LIST_KEY) for i, paths in enumerate(groups)
        }
        where, self._params = filters.sql()
        others = ", ".join('"' + name.replace('"', '""') + '"' for name in self.fields if name != "created_at")
        self._relation = (
            f"(SELECT * FROM (SELECT tenant, {others}, TRY_CAST(created_at AS TIMESTAMPTZ) AS created_at "
            f"FROM {self._source()}) WHERE {where})"
        )

    @property
    def tenants(self) -> list[str]:
        """The tenants read, in order; empty for one input (no tenant column in what is shown)."""
        return list(self.by_tenant)

    def _source(self) -> str:
        if not self.by_tenant:
            return f"(SELECT {NO_TENANT} AS tenant, * FROM {self._read('')})"
        parts = [f"SELECT $tenant_{i} AS tenant, * FROM {self._read(f'_{i}')}" for i in range(len(self.by_tenant))]
        return "(" + " UNION ALL ".join(parts) + ")"

    def _read(self, suffix: str) -> str:
        """The records of one input's files, each file read in its form (zdlogs.analysis.forms)."""
        records, pages = self._forms[suffix]
        named = (f"files{suffix}" if records else None, f"pages{suffix}" if pages else None)
        return forms.relation(LIST_KEY, *named, "columns", "page_columns")

    def sql(self, query: str) -> str:
        """``query`` with ``{audit}`` replaced by the filtered records."""
        return query.replace("{audit}", self._relation)

    def params(self, query: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """The parameters ``query`` names (DuckDB refuses unused ones), from the filters and ``extra``."""
        records, pages = self._forms.get("", ([], []))
        columns = {"columns": self.fields, "page_columns": forms.page_columns(self.fields, LIST_KEY)}
        given = {"files": records, "pages": pages, **columns, **self._tenant_params(), **self._params, **(extra or {})}
        used = set(re.findall(r"\$(\w+)", query))
        return {name: value for name, value in given.items() if name in used}

    def _tenant_params(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for i, name in enumerate(self.by_tenant):
            records, pages = self._forms[f"_{i}"]
            found |= {f"tenant_{i}": name, f"files_{i}": records, f"pages_{i}": pages}
        return found

    def materialize(self) -> AuditData:
        """Parse the JSON once into a DuckDB table (columnar, on disk in the temp directory) for the many
        queries of a report: each would otherwise re-read every file. Returns the same object."""
        if self._relation.startswith("audit_cache"):
            return self
        table = f"audit_cache_{next(_TABLES)}"
        self.execute(f"CREATE TABLE {table} AS SELECT * FROM {{audit}}")
        self._relation, self._params = table, {}
        return self

    def with_fields(self, fields: dict[str, str]) -> AuditData:
        """The same records read with a wider schema (``--all-columns``)."""
        return AuditData(self.con, self._paths(), self.filters, fields, self._paths_by_tenant())

    def unfiltered(self) -> AuditData:
        """Every record of the same files, whatever the filters: what the input covers."""
        return AuditData(self.con, self._paths(), Filters(), self.fields, self._paths_by_tenant())

    def _paths(self) -> list[Path]:
        return [Path(name) for name in self.files]

    def _paths_by_tenant(self) -> dict[str, list[Path]]:
        return {name: [Path(path) for path in paths] for name, paths in self.by_tenant.items()}

    def extent(self) -> tuple[int, Any, Any]:
        """(records, first and last ``created_at``) of the filtered records."""
        count, first, last = self.rows("SELECT count(*), min(created_at), max(created_at) FROM {audit}")[0]
        return int(count), first, last

    def inferred_fields(self) -> list[tuple[str, Any]]:
        """(name, DuckDB type) of every top-level field in the files, guessed from all records (a page-form file's
        records unnested)."""
        records, pages = forms.split(self.files, LIST_KEY)
        read = "read_json(${}, format='newline_delimited', union_by_name=true, sample_size=-1)"
        parts = [f"SELECT * FROM {read.format('files')}"] if records else []
        if pages:
            parts.append(f'SELECT unnest(r) FROM (SELECT unnest("{LIST_KEY}") AS r FROM {read.format("pages")})')
        params = {name: paths for name, paths in (("files", records), ("pages", pages)) if paths}
        relation = self.con.sql(" UNION ALL BY NAME ".join(parts), params=params)
        return list(zip(relation.columns, relation.types, strict=True))

    def rows(self, query: str, extra: dict[str, Any] | None = None) -> list[tuple]:
        """All result rows of a (small, aggregated) query."""
        return self.execute(query, extra).fetchall()

    def execute(self, query: str, extra: dict[str, Any] | None = None) -> duckdb.DuckDBPyConnection:
        """Run ``query``; the caller fetches in batches when the result is large."""
        try:
            sql = self.sql(query)
            return self.con.execute(sql, self.params(sql, extra))
        except _duckdb().Error as exc:
            raise StorageError(
                f"could not read the audit logs ({_first_line(exc)}): check the files under --input"
            ) from None

    def scalar(self, query: str, extra: dict[str, Any] | None = None) -> Any:
        row = self.execute(query, extra).fetchone()
        return row[0] if row else None


@contextmanager
def open_audit(
    files: list[Path],
    filters: Filters,
    memory_limit: str = MEMORY_LIMIT,
    by_tenant: Mapping[str, list[Path]] | None = None,
) -> Iterator[AuditData]:
    """A private DuckDB in a temporary directory (removed after): UTC, bounded memory, spilling to disk;
    ``by_tenant``: several tenants' files, each record attributed to its tenant (``files`` then unused)."""
    duckdb = _duckdb()
    with tempfile.TemporaryDirectory(prefix="zdlogs-duckdb-") as spill:
        database = str(Path(spill) / "audit.duckdb")
        con = duckdb.connect(database, config={"memory_limit": memory_limit, "temp_directory": spill})
        try:
            con.execute("SET TimeZone = 'UTC'")
            con.execute("SET enable_progress_bar = false")
            yield AuditData(con, files, filters, by_tenant=by_tenant)
        finally:
            con.close()


def _first_line(exc: Exception) -> str:
    return " ".join(str(exc).split("\n")[0].split())[:200]
