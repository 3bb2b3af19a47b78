"""The audit record's declared schema and the analyst columns: the CSV header, in the seed guide's order."""

from __future__ import annotations

from zdlogs.analysis.schema import ALL_KNOWN_COLUMNS, AUDIT_FIELDS, CSV_COLUMNS, RULE_KINDS, RULE_SOURCE_TYPES


def test_the_csv_columns_are_the_seed_guides_eight_in_order() -> None:
    assert CSV_COLUMNS == (
        "created_at", "actor_name", "actor_id", "action", "source_type", "source_label", "change_description",
        "ip_address",
    )  # fmt: skip


def test_every_column_is_a_documented_field_and_all_columns_lists_each_once() -> None:
    assert set(ALL_KNOWN_COLUMNS) == set(AUDIT_FIELDS)
    assert len(ALL_KNOWN_COLUMNS) == len(set(ALL_KNOWN_COLUMNS))
    assert ALL_KNOWN_COLUMNS[: len(CSV_COLUMNS)] == CSV_COLUMNS


def test_ids_are_numbers_and_created_at_is_read_as_text_to_be_normalised_once() -> None:
    assert {name for name, kind in AUDIT_FIELDS.items() if kind == "BIGINT"} == {"id", "actor_id", "source_id"}
    assert AUDIT_FIELDS["created_at"] == "VARCHAR"


def test_rule_kinds_are_the_label_prefixes_of_the_rule_source_types() -> None:
    assert "rule" in RULE_SOURCE_TYPES
    assert all(kind[0].isupper() for kind in RULE_KINDS)
