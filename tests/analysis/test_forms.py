"""Both record forms read as one relation: a file's form told from its first bytes, page-form lines unnested into
the record's columns, and a demo collected in the page form exporting what the record form does."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import duckdb
import orjson
import pytest
from typer.testing import CliRunner

from zdlogs.analysis import forms
from zdlogs.cli import app
from zdlogs.demo import run_demo
from zdlogs.times import iso_z, utc_now

FIELDS = {"id": "BIGINT", "action": "VARCHAR", "created_at": "VARCHAR"}


def write(path: Path, lines: list[object], compress: bool = False) -> str:
    data = b"".join(orjson.dumps(line) + b"\n" for line in lines)
    path.write_bytes(gzip.compress(data) if compress else data)
    return str(path)


def test_each_file_s_form_is_told_from_its_first_line(tmp_path: Path) -> None:
    record = write(tmp_path / "a.ndjson", [{"id": 1, "action": "create"}])
    page = write(tmp_path / "b.ndjson.gz", [{"audit_logs": [{"id": 2}]}], compress=True)
    guide = tmp_path / "c.json"  # the guide function's json.dumps of a whole page: spaces, pagination fields
    guide.write_text('{"audit_logs": [{"id": 3}], "next_page": null, "count": 1}\n')
    other = write(tmp_path / "d.ndjson", [{"tickets": [{"id": 4}]}])  # another stream's envelope: not this key
    assert forms.split([record, page, str(guide), other], "audit_logs") == ([record, other], [page, str(guide)])


def test_record_and_page_files_read_as_one_relation_of_records(tmp_path: Path) -> None:
    record = write(tmp_path / "a.ndjson", [{"id": 1, "action": "create", "created_at": "2026-11-25T10:00:00Z"}])
    page = write(
        tmp_path / "b.ndjson",
        [{"audit_logs": [{"id": 2, "action": "update", "extra": True}, {"id": 3, "action": "destroy"}]}],
    )
    sql = forms.relation("audit_logs", "files", "pages", "columns", "paged")
    params = {"files": [record], "pages": [page], "columns": FIELDS, "paged": forms.page_columns(FIELDS, "audit_logs")}
    rows = duckdb.connect().execute(f"SELECT * FROM {sql} ORDER BY id", params).fetchall()
    assert rows == [(1, "create", "2026-11-25T10:00:00Z"), (2, "update", None), (3, "destroy", None)]
    only_pages = forms.relation("audit_logs", None, "pages", "columns", "paged")
    params = {"pages": [page], "paged": params["paged"]}
    assert duckdb.connect().execute(f"SELECT count(*) FROM {only_pages}", params).fetchone() == (2,)


def _comparable(csv: str, started: str) -> list[str]:
    """The rows, each demo's simulator port left out of the urls, and the time left out of the records made by the
    demos' second pass (stamped with the clock, so the two demos' differ by seconds)."""
    rows = [re.sub(r"127\.0\.0\.1:\d+", "sim", row) for row in csv.splitlines()]
    return sorted(row if row[:20] < started else row[20:] for row in rows)


def test_a_demo_collected_in_the_page_form_exports_and_detects_what_the_record_form_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = iso_z(utc_now())
    monkeypatch.setenv("ZDLOGS_RECORD_FORM", "page")
    run_demo(str(tmp_path / "page"), audit_logs=300, tickets=30, seed=7, echo=lambda _: None)
    monkeypatch.setenv("ZDLOGS_RECORD_FORM", "record")
    run_demo(str(tmp_path / "record"), audit_logs=300, tickets=30, seed=7, echo=lambda _: None)
    stored = next((tmp_path / "page").rglob("audit_logs/**/*.ndjson")).read_bytes().splitlines()[0]
    assert stored.startswith(b'{"audit_logs":[{')  # the page form was written
    runner = CliRunner()
    exports = {
        form: runner.invoke(
            app, ["export", "csv", "-i", str(tmp_path / form), "--all-columns", "--since", "2000-01-01"]
        )
        for form in ("page", "record")
    }
    assert exports["page"].exit_code == 0, exports["page"].output
    assert exports["page"].stdout.count("\n") > 300
    rows = {form: _comparable(result.stdout, started) for form, result in exports.items()}
    assert rows["page"] == rows["record"]
    detected = {
        form: runner.invoke(app, ["detect", "-i", str(tmp_path / form), "--format", "json"])
        for form in ("page", "record")
    }
    assert detected["page"].exit_code == detected["record"].exit_code == 0, detected["page"].output
    findings = {
        form: [
            {**found, "time": found["time"] if found["time"] < started else ""}
            for found in orjson.loads(r.stdout)["findings"]
        ]
        for form, r in detected.items()
    }
    assert len(findings["page"]) > 10 and findings["page"] == findings["record"]
