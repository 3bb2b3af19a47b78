"""Which CSV columns a query selects and how each renders, default and --all-columns."""

from __future__ import annotations

from zdlogs.analysis.columns import all_columns, default_columns, known_column, read_types
from zdlogs.analysis.schema import ALL_KNOWN_COLUMNS, AUDIT_FIELDS, CSV_COLUMNS


class DuckType:
    def __init__(self, type_id: str, text: str, children: list | None = None) -> None:
        self.id, self.text, self.children = type_id, text, children or []

    def __str__(self) -> str:
        return self.text


VARCHAR = DuckType("varchar", "VARCHAR")


def test_the_default_columns_are_the_csv_columns() -> None:
    assert [column.name for column in default_columns()] == list(CSV_COLUMNS)


def test_created_at_renders_as_zendesk_utc_text_and_ids_are_numeric() -> None:
    assert known_column("created_at").sql == "strftime(created_at, '%Y-%m-%dT%H:%M:%SZ')"
    assert known_column("actor_id").numeric and not known_column("actor_name").numeric
    assert known_column("actor_name").sql == '"actor_name"'


def test_all_columns_flattens_structs_keeps_lists_as_json_and_sorts_the_extras() -> None:
    inferred = [
        ("id", DuckType("bigint", "BIGINT")),
        (
            "metadata",
            DuckType(
                "struct",
                "STRUCT",
                [("via", DuckType("struct", "STRUCT", [("channel", DuckType("varchar", "VARCHAR"))]))],
            ),
        ),
        ("tags", DuckType("list", "VARCHAR[]")),
        ("count", DuckType("bigint", "BIGINT")),
    ]
    columns = all_columns(inferred)
    assert [c.name for c in columns[: len(ALL_KNOWN_COLUMNS)]] == list(ALL_KNOWN_COLUMNS)
    extras = {c.name: c for c in columns[len(ALL_KNOWN_COLUMNS) :]}
    assert list(extras) == ["count", "metadata.via.channel", "tags"]
    assert extras["metadata.via.channel"].sql == 'CAST("metadata"."via"."channel" AS VARCHAR)'
    assert extras["tags"].sql == 'CAST(to_json("tags") AS VARCHAR)'
    assert extras["count"].numeric and not extras["tags"].numeric


def test_a_quote_in_a_field_name_is_doubled_in_sql() -> None:
    (column,) = all_columns([('we"ird', DuckType("varchar", "VARCHAR"))])[len(ALL_KNOWN_COLUMNS) :]
    assert column.sql == 'CAST("we""ird" AS VARCHAR)'


def test_read_types_keeps_our_types_and_reads_all_null_fields_as_text() -> None:
    inferred = [
        ("id", DuckType("varchar", "VARCHAR")),
        ("gone", DuckType("null", '"NULL"')),
        ("n", DuckType("bigint", "BIGINT")),
    ]
    types = read_types(inferred)
    assert types["id"] == AUDIT_FIELDS["id"] == "BIGINT"
    assert (types["gone"], types["n"]) == ("VARCHAR", "BIGINT")
