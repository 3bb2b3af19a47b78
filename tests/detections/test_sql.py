"""Sigma's matching semantics in the generated SQL, checked by running it in DuckDB on rows of our own."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest
import yaml
from sigma.collection import SigmaCollection

from zdlogs.detections.sql import detection_sql
from zdlogs.errors import ConfigError

FIELDS = {"id": "BIGINT", "actor_id": "BIGINT", "source_label": "VARCHAR", "change_description": "VARCHAR"}
ROWS = [
    (1, 10, "Credit Card Redaction", "Disabled"),
    (2, 11, "credit_card", "100% off"),
    (3, -1, None, None),
    (4, 12, "creditXcard", "line one\nSupport role changed from Agent to Admin"),
    (5, 13, "Two-Factor", "Enabled"),
]


def matching(detection: dict[str, Any]) -> list[int]:
    """The ids of ROWS the detection selects, by the SQL generated for it."""
    rule = {"title": "t", "logsource": {"product": "zendesk", "service": "audit"}, "detection": detection}
    (parsed,) = SigmaCollection.from_dicts([yaml.safe_load(yaml.safe_dump(rule))]).rules
    where, params = detection_sql(parsed, FIELDS)
    con = duckdb.connect()
    con.execute("CREATE TABLE t (id BIGINT, actor_id BIGINT, source_label VARCHAR, change_description VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", ROWS)
    return [row[0] for row in con.execute(f"SELECT id FROM t WHERE {where} ORDER BY id", params).fetchall()]


def test_plain_strings_match_whole_values_in_any_case() -> None:
    assert matching({"s": {"change_description": "disabled"}, "condition": "s"}) == [1]
    assert matching({"s": {"source_label": "CREDIT CARD REDACTION"}, "condition": "s"}) == [1]


def test_cased_strings_match_exactly() -> None:
    assert matching({"s": {"change_description|cased": "disabled"}, "condition": "s"}) == []
    assert matching({"s": {"change_description|cased": "Disabled"}, "condition": "s"}) == [1]


def test_like_characters_in_a_value_are_literal() -> None:
    assert matching({"s": {"source_label|startswith": "credit_"}, "condition": "s"}) == [2]
    assert matching({"s": {"change_description|contains": "0% o"}, "condition": "s"}) == [2]


def test_sigma_wildcards_become_like_wildcards() -> None:
    assert matching({"s": {"source_label": "credit?card*"}, "condition": "s"}) == [1, 2, 4]


def test_not_holds_for_a_missing_field_as_in_sigma() -> None:
    assert matching(
        {"s": {"actor_id": -1}, "f": {"change_description|contains": "Disabled"}, "condition": "s and not f"}
    ) == [3]


def test_null_and_lists() -> None:
    assert matching({"s": {"source_label": None}, "condition": "s"}) == [3]
    assert matching({"s": {"actor_id": [10, 13]}, "condition": "s"}) == [1, 5]
    assert matching({"s": {"change_description|contains|all": ["line", "admin"]}, "condition": "s"}) == [4]


def test_regular_expressions_keep_their_flags_and_backslashes() -> None:
    multiline = {"s": {"change_description|re|i|m": r"^support role changed from .+ to [^\n]*admin"}, "condition": "s"}
    assert matching(multiline) == [4]
    assert matching({"s": {"change_description|re": r"^support role"}, "condition": "s"}) == []


def test_conditions_combine_detections() -> None:
    detection = {"a_1": {"actor_id": 10}, "a_2": {"actor_id": 13}, "b": {"change_description": "enabled"}}
    assert matching({**detection, "condition": "1 of a_* and not b"}) == [1]
    assert matching({**detection, "condition": "all of a_*"}) == []


def test_numbers_compare() -> None:
    assert matching({"s": {"actor_id|gte": 12}, "condition": "s"}) == [4, 5]


def test_a_field_the_stream_lacks_or_a_keyword_search_is_refused() -> None:
    with pytest.raises(ConfigError, match="field 'ip' is not one of id, actor_id"):
        matching({"s": {"ip": "x"}, "condition": "s"})
    with pytest.raises(ConfigError, match="a value without a field"):
        matching({"s": ["Disabled"], "condition": "s"})
