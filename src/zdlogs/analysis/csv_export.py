"""Audit logs to CSV, in time order, streamed in batches so memory does not grow with the input.

One ``ORDER BY`` over everything would hold the whole sorted result in memory (DuckDB keeps a final
sort outside its memory limit), so the records are parsed once into an on-disk table and written
window by window: hours grouped into windows of at most ``WINDOW_ROWS`` records, each sorted alone.

Quoting is Python's ``csv`` module (RFC 4180): a field with a comma, a quote or a line break is
quoted and its quotes doubled, so a change description like ``Title changed to "VIP, urgent"`` survives
a round trip. ``excel=True`` adds what Excel needs to open UTF-8 correctly (a BOM, CRLF line ends) and
defuses cells that Excel would run as formulas (see :func:`defuse`). Several tenants of a fleet read at once
get a first column, ``tenant``: the tenant each record was read from.
"""

from __future__ import annotations

import csv
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from zdlogs.analysis.columns import Column, all_columns, default_columns, read_types
from zdlogs.analysis.engine import AuditData
from zdlogs.errors import StorageError

BATCH_ROWS = 10_000
WINDOW_ROWS = 50_000
_TIMED = "WHERE created_at IS NOT NULL"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
TENANT_COLUMN = Column("tenant", "tenant")  # first, when several tenants of a fleet are read


@dataclass(frozen=True)
class CsvOptions:
    all_columns: bool = False
    excel: bool = False


def export_csv(
    data: AuditData, destination: str, options: CsvOptions, progress: Callable[[int, int], None] | None = None
) -> int:
    """Write the filtered records to ``destination`` (a path, or ``-`` for stdout); return the row count.
    ``progress(written, total)`` is told after each batch (the live progress on a terminal)."""
    data, columns = _columns_for(data, options)
    columns = [TENANT_COLUMN, *columns] if data.tenants else columns
    data.materialize()
    on_batch = _counter(data, progress)
    select = ", ".join(f"{column.sql} AS c{i}" for i, column in enumerate(columns))
    with _open(destination, options.excel) as stream:
        writer = csv.writer(stream, lineterminator="\r\n" if options.excel else "\n")
        writer.writerow([column.name for column in columns])
        count = 0
        for where, params in time_windows(data):
            cursor = data.execute(
                f"SELECT {select} FROM {{audit}} WHERE {where} ORDER BY created_at, tenant, id", params
            )
            count += _write_batches(cursor, writer, columns, options.excel, on_batch)
        return count


def _counter(data: AuditData, progress: Callable[[int, int], None] | None) -> Callable[[int], None]:
    """A batch's callback telling ``progress`` the rows written so far of the total (one count over the parsed
    table, only when someone is told)."""
    if progress is None:
        return lambda _rows: None
    total, written = int(data.rows("SELECT count(*) FROM {audit}")[0][0]), [0]
    progress(0, total)

    def on_batch(rows: int) -> None:
        written[0] += rows
        progress(written[0], total)

    return on_batch


def time_windows(data: AuditData, limit: int = WINDOW_ROWS) -> Iterator[tuple[str, dict[str, Any]]]:
    """``WHERE`` clauses covering every record once, in time order: consecutive hours, at most ``limit``
    records per window unless one hour alone holds more; records without a valid time come last."""
    hours = data.rows(f"SELECT date_trunc('hour', created_at), count(*) FROM {{audit}} {_TIMED} GROUP BY 1 ORDER BY 1")
    start, size = 0, 0
    for index, (_hour, count) in enumerate(hours):
        if size and size + count > limit:
            yield _window(hours[start][0], hours[index][0])
            start, size = index, 0
        size += count
    if hours:
        yield _window(hours[start][0], None)
    yield "created_at IS NULL", {}


def _window(start: Any, end: Any) -> tuple[str, dict[str, Any]]:
    if end is None:
        return "created_at >= $window_start", {"window_start": start}
    return "created_at >= $window_start AND created_at < $window_end", {"window_start": start, "window_end": end}


def _columns_for(data: AuditData, options: CsvOptions) -> tuple[AuditData, list[Column]]:
    if not options.all_columns:
        return data, default_columns()
    inferred = data.inferred_fields()
    return data.with_fields(read_types(inferred)), all_columns(inferred)


def _write_batches(
    cursor: Any, writer: Any, columns: list[Column], excel: bool, on_batch: Callable[[int], None]
) -> int:
    count = 0
    text_columns = [i for i, column in enumerate(columns) if not column.numeric]
    while batch := cursor.fetchmany(BATCH_ROWS):
        if excel:
            batch = [defuse(row, text_columns) for row in batch]
        writer.writerows(batch)
        count += len(batch)
        on_batch(len(batch))
    return count


def defuse(row: tuple, text_columns: list[int]) -> tuple:
    """Prefix ``'`` to text that Excel would evaluate (``=HYPERLINK(...)`` in a rule title): CSV injection.

    Only for ``--excel``: anyone who can name a macro can otherwise run a formula on the analyst's machine.
    Numbers (the system actor's id ``-1``) are left alone.
    """
    values = list(row)
    for i in text_columns:
        value = values[i]
        if isinstance(value, str) and value.startswith(FORMULA_START):
            values[i] = "'" + value
    return tuple(values)


@contextmanager
def _open(destination: str, excel: bool) -> Iterator[IO[str]]:
    """stdout, or a temporary file renamed into place at the end: never half a CSV under the final name."""
    if destination == "-":
        if excel:
            sys.stdout.write("\ufeff")
        yield sys.stdout
        sys.stdout.flush()
        return
    encoding = "utf-8-sig" if excel else "utf-8"
    target = Path(destination).expanduser()
    partial = target.with_name(f".{target.name}.partial")
    try:
        with partial.open("w", encoding=encoding, newline="") as stream:
            yield stream
        os.replace(partial, target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise StorageError(f"cannot write {target} ({exc.strerror}): choose another --output") from None
    finally:
        partial.unlink(missing_ok=True)
