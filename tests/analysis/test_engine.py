"""The DuckDB layer: the filtered relation, its parameters, the materialised table, errors as StorageError,
and DuckDB loaded only when a query runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.analysis.conftest import filtered
from zdlogs.analysis.engine import AuditData, open_audit
from zdlogs.analysis.filters import build_filters
from zdlogs.analysis.inputs import audit_files
from zdlogs.errors import StorageError


def test_every_record_is_read_with_created_at_as_a_utc_timestamp(audit: AuditData) -> None:
    assert audit.scalar("SELECT count(*) FROM {audit}") == 12
    first = audit.scalar("SELECT min(created_at) FROM {audit}")
    assert first.isoformat() == "2026-03-02T09:00:00+00:00"


def test_only_the_parameters_a_query_names_are_passed(audit: AuditData) -> None:
    params = audit.params("SELECT $files, $extra_one", {"extra_one": 1, "extra_two": 2})
    assert set(params) == {"files", "extra_one"}


def test_extent_counts_the_filtered_records_and_unfiltered_all_of_them(collected: Path) -> None:
    with filtered(collected, actors=["mallory"]) as data:
        count, first, last = data.materialize().extent()
        assert (count, first.isoformat(), last.isoformat()) == (
            3,
            "2026-03-10T02:10:00+00:00",
            "2026-03-10T02:40:00+00:00",
        )
        assert data.unfiltered().extent()[0] == 12
    with filtered(collected, actors=["nobody"]) as data:
        assert data.extent() == (0, None, None)


def test_filters_narrow_the_relation(collected: Path) -> None:
    with filtered(collected, actors=["mallory"]) as data:
        assert data.rows("SELECT DISTINCT actor_name FROM {audit}") == [("Mallory",)]


def test_materialize_queries_a_table_and_is_idempotent(audit: AuditData) -> None:
    assert audit.materialize() is audit
    relation = audit.sql("{audit}")
    assert relation.startswith("audit_cache_") and audit.materialize().sql("{audit}") == relation
    assert audit.scalar("SELECT count(*) FROM {audit}") == 12


def test_inferred_fields_see_every_top_level_field(audit: AuditData) -> None:
    names = [name for name, _ in audit.inferred_fields()]
    assert "metadata" in names and "created_at" in names


def test_a_query_error_is_a_storage_error_naming_the_input(audit: AuditData) -> None:
    with pytest.raises(StorageError, match="check the files under --input"):
        audit.rows("SELECT no_such_column FROM {audit}")


def test_importing_the_analysis_package_does_not_load_duckdb() -> None:
    code = (
        "import sys, zdlogs.analysis, zdlogs.analysis.engine, zdlogs.analysis.csv_export, zdlogs.analysis.reports; "
        "print('duckdb' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_several_tenants_each_record_carries_the_tenant_it_was_read_from(fleet: Path) -> None:
    out = fleet.parent / "out"
    by_tenant = {name: audit_files(str(out / name)) for name in ("acme", "globex")}
    with open_audit([], build_filters(), by_tenant=by_tenant) as data:
        assert data.tenants == ["acme", "globex"]
        per_tenant = data.rows("SELECT tenant, count(*), min(url) FROM {audit} GROUP BY 1 ORDER BY 1")
        assert [(name, n, url.split("/")[2]) for name, n, url in per_tenant] == [
            ("acme", 12, "acme.zendesk.com"),
            ("globex", 5, "globex.zendesk.com"),
        ]
        narrowed = data.materialize().with_fields({"id": "BIGINT", "created_at": "VARCHAR"}).unfiltered()
        assert narrowed.rows("SELECT DISTINCT tenant FROM {audit} ORDER BY 1") == [("acme",), ("globex",)]


def test_one_input_has_a_null_tenant_and_no_tenants(audit: AuditData) -> None:
    assert audit.tenants == [] and audit.rows("SELECT DISTINCT tenant FROM {audit}") == [(None,)]
