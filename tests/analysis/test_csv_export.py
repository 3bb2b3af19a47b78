"""CSV export: exact rows, a lossless round trip through Python's csv reader, Excel mode, every column."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.analysis.conftest import filtered
from tests.analysis.fixtures import AWKWARD, BY_ID, FORMULA, RECORDS, UNICODE_LABEL, write_collected
from zdlogs.analysis.csv_export import CsvOptions, export_csv
from zdlogs.analysis.engine import AuditData
from zdlogs.analysis.schema import CSV_COLUMNS


def read_csv(path: Path, encoding: str = "utf-8") -> list[list[str]]:
    with path.open(encoding=encoding, newline="") as stream:
        return list(csv.reader(stream))


def expected_row(record: dict) -> list[str]:
    return ["" if record.get(column) is None else str(record[column]) for column in CSV_COLUMNS]


def test_default_columns_exact_rows_in_time_order(audit: AuditData, tmp_path: Path) -> None:
    target = tmp_path / "audit.csv"
    assert export_csv(audit, str(target), CsvOptions()) == 12
    rows = read_csv(target)
    assert rows[0] == list(CSV_COLUMNS)
    assert rows[1:] == [expected_row(record) for record in RECORDS]
    assert rows[3] == ["2026-03-02T10:15:00Z", "Carol Agent", "201", "login", "user", "Carol Agent",
                       "Successful sign-in", ""]  # fmt: skip


def test_awkward_text_round_trips(audit: AuditData, tmp_path: Path) -> None:
    """Commas, quotes, LF and CRLF inside a field, non-ASCII and emoji: read back byte for byte."""
    target = tmp_path / "audit.csv"
    export_csv(audit, str(target), CsvOptions())
    by_label = {row[5]: row for row in read_csv(target)[1:]}
    assert by_label["View: Urgent tickets"][6] == AWKWARD
    assert UNICODE_LABEL in by_label
    assert by_label[FORMULA][5] == FORMULA  # plain CSV keeps the data as Zendesk sent it
    raw = target.read_bytes()
    assert raw.startswith(b"created_at,") and raw.count(b"\r\n") == 1  # only the one inside the description
    assert raw.endswith(b"\n") and not raw.endswith(b"\r\n")


def test_excel_mode_bom_crlf_and_defused_formulas(audit: AuditData, tmp_path: Path) -> None:
    target = tmp_path / "audit-excel.csv"
    export_csv(audit, str(target), CsvOptions(excel=True))
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfcreated_at,actor_name,")
    assert raw.count(b"\r\n") >= 13 and raw.endswith(b"\r\n")
    rows = read_csv(target, encoding="utf-8-sig")
    assert rows[0] == list(CSV_COLUMNS)
    by_id = {int(row[2]) if row[1] != "Zendesk" else -1: row for row in rows[1:]}
    formula_row = next(row for row in rows[1:] if "HYPERLINK" in row[5])
    assert formula_row[5] == "'" + FORMULA
    assert by_id[-1][2] == "-1"  # numbers are not defused
    assert next(row for row in rows[1:] if row[5] == "View: Urgent tickets")[6] == AWKWARD


def test_all_columns_flatten_nested_and_keep_unknown_fields(audit: AuditData, tmp_path: Path) -> None:
    target = tmp_path / "all.csv"
    export_csv(audit, str(target), CsvOptions(all_columns=True))
    rows = read_csv(target)
    assert rows[0] == [*CSV_COLUMNS, "id", "action_label", "source_id", "url", "metadata.tags", "metadata.via.channel"]
    table = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [int(row["id"]) for row in table] == list(range(1, 13))
    assert table[9]["metadata.via.channel"] == "api" and table[9]["metadata.tags"] == '["a","b"]'
    assert table[0]["metadata.via.channel"] == "" and table[2]["action_label"] == ""
    assert table[0]["url"] == BY_ID[1]["url"] and table[0]["source_id"] == "5001"


def test_filters_apply_to_export(collected: Path, tmp_path: Path) -> None:
    target = tmp_path / "mallory.csv"
    with filtered(collected, actors=["mallory"], actions=["update"]) as data:
        assert export_csv(data, str(target), CsvOptions()) == 2
    assert [row[0] for row in read_csv(target)[1:]] == ["2026-03-10T02:10:00Z", "2026-03-10T02:20:00Z"]


def test_no_match_gives_a_header_only(collected: Path, tmp_path: Path) -> None:
    target = tmp_path / "none.csv"
    with filtered(collected, actions=["login"], ips=["192.0.2.66"]) as data:
        assert export_csv(data, str(target), CsvOptions()) == 0
    assert read_csv(target) == [list(CSV_COLUMNS)]


def test_unwritable_destination_leaves_nothing(audit: AuditData, tmp_path: Path) -> None:
    from zdlogs.errors import StorageError

    with pytest.raises(StorageError, match="cannot write"):
        export_csv(audit, str(tmp_path / "missing-dir" / "audit.csv"), CsvOptions())
    assert not list(tmp_path.glob("**/*.partial"))


def test_stdout(audit: AuditData, capsys: pytest.CaptureFixture[str]) -> None:
    export_csv(audit, "-", CsvOptions())
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out, newline="")))
    assert rows[1:] == [expected_row(record) for record in RECORDS]


def test_many_files_and_gzip_read_alike(tmp_path: Path) -> None:
    """The same records split one per file, all gzipped, export identically."""
    from zdlogs.analysis.engine import open_audit
    from zdlogs.analysis.filters import build_filters
    from zdlogs.analysis.inputs import audit_files

    root = tmp_path / "gz"
    for record in RECORDS:
        write_collected(root / str(record["id"]), [record], gzip_days=(record["created_at"][:10],))
    files = [path for sub in sorted(root.iterdir()) for path in audit_files(str(sub))]
    assert len(files) == 12 and all(path.suffix == ".gz" for path in files)
    with open_audit(files, build_filters()) as data:
        export_csv(data, str(tmp_path / "gz.csv"), CsvOptions())
    assert read_csv(tmp_path / "gz.csv")[1:] == [expected_row(record) for record in RECORDS]


def test_windows_cover_every_record_once_in_order(audit: AuditData, tmp_path: Path) -> None:
    """Small windows (2 records) give the same file as one big one; a record without a valid time comes last."""
    from zdlogs.analysis import csv_export

    audit.materialize()
    windows = list(csv_export.time_windows(audit, limit=2))
    counts = [audit.scalar(f"SELECT count(*) FROM {{audit}} WHERE {where}", params) for where, params in windows]
    assert counts == [2, 2, 2, 4, 2, 0]  # an hour is never split: 02:00-02:59 on 10 March holds 4 records
    assert windows[-1][0] == "created_at IS NULL"


def test_invalid_timestamp_is_kept_at_the_end(tmp_path: Path) -> None:
    from zdlogs.analysis.engine import open_audit
    from zdlogs.analysis.filters import build_filters
    from zdlogs.analysis.inputs import audit_files

    broken = {**RECORDS[0], "id": 99, "created_at": "yesterday"}
    root = write_collected(tmp_path / "logs", [*RECORDS[:2], broken])
    with open_audit(audit_files(str(root)), build_filters()) as data:
        export_csv(data, str(tmp_path / "out.csv"), CsvOptions(all_columns=True))
    rows = read_csv(tmp_path / "out.csv")
    assert [row[8] for row in rows[1:]] == ["1", "2", "99"] and rows[3][0] == ""


def test_progress_is_told_the_rows_written_of_the_total_after_each_batch(
    audit: AuditData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("zdlogs.analysis.csv_export.BATCH_ROWS", 5)
    told: list[tuple[int, int]] = []
    export_csv(audit, str(tmp_path / "out.csv"), CsvOptions(), lambda done, total: told.append((done, total)))
    assert told == [(0, 12), (5, 12), (10, 12), (12, 12)]
