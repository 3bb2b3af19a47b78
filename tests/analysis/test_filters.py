"""Filters: what the user types, the records kept (exact ids), and the filter[...] parameters sent to Zendesk."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.analysis.conftest import filtered
from zdlogs.analysis.filters import build_filters, normalize_action
from zdlogs.errors import ConfigError


def kept_ids(collected: Path, **filters: object) -> list[int]:
    with filtered(collected, **filters) as data:
        return [row[0] for row in data.rows("SELECT id FROM {audit} ORDER BY created_at, id")]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, list(range(1, 13))),
        ({"actions": ["sign-in"]}, [3]),
        ({"actions": ["Signed in"]}, [3]),
        ({"actions": ["deleted", "exported"]}, [5, 10]),
        ({"actors": ["alice admin"]}, [1, 2, 6, 11, 12]),
        ({"actors": ["102"]}, [4, 5]),
        ({"actors": ["-1", "Mallory"]}, [7, 8, 9, 10]),
        ({"since": "2026-03-10", "until": "2026-03-10"}, [7, 8, 9, 10]),  # a bare --until date is inclusive
        ({"until": "2026-03-10T02:10:00Z"}, [1, 2, 3, 4, 5, 6, 7]),  # a time is exclusive
        ({"since": "2026-03-10T03:15+01:00"}, [9, 10, 11, 12]),  # 02:15 UTC
        ({"ips": ["192.0.2.66"]}, [8, 9, 10]),
        ({"source_types": ["rule"], "actions": ["update"]}, [1, 2, 7, 9]),
        ({"source_types": ["RULE", "sla_policy"]}, [1, 2, 5, 7, 9, 11]),
    ],
)
def test_filters_keep_exactly(collected: Path, filters: dict, expected: list[int]) -> None:
    assert kept_ids(collected, **filters) == expected


def test_api_params_use_zendesk_names_and_inclusive_bounds() -> None:
    filters = build_filters(
        since="2026-03-01", until="2026-03-31", actors=["101", "102"], actions=["sign-in"], source_types=["rule"]
    )
    assert filters.api_params() == [
        ("filter[created_at][]", "2026-03-01T00:00:00Z"),
        ("filter[created_at][]", "2026-03-31T23:59:59Z"),
        ("filter[actor_id][]", "101"),
        ("filter[actor_id][]", "102"),
        ("filter[action]", "login"),
        ("filter[source_type]", "rule"),
    ]


def test_api_params_open_ended_range_and_names_filtered_locally() -> None:
    now = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)
    filters = build_filters(since="2026-03-10T02:00Z", actors=["101", "Mallory"], ips=["192.0.2.66"])
    assert filters.api_params(now) == [
        ("filter[created_at][]", "2026-03-10T02:00:00Z"),
        ("filter[created_at][]", "2026-04-01T12:00:00Z"),
        ("filter[ip_address]", "192.0.2.66"),
    ]  # an actor name cannot be sent, so actors are not narrowed server-side at all
    assert build_filters().api_params() == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"actions": ["frobnicate"]}, "--action 'frobnicate' is not an audit-log action"),
        ({"since": "last tuesday"}, "--since 'last tuesday' is not a date or time"),
        ({"since": "2026-03-10", "until": "2026-03-01"}, "is not before --until"),
        ({"ips": ["300.1.1.1"]}, "--ip '300.1.1.1' is not an IP address"),
        ({"source_types": ["rule; DROP"]}, "--source-type 'rule; DROP' is not a source type"),
        ({"actors": ["  "]}, "--actor is empty"),
    ],
)
def test_bad_filters_are_one_line_config_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match="^" + ".*") as caught:
        build_filters(**kwargs)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_action_aliases() -> None:
    assert [normalize_action(a) for a in ("login", "sign-in", "SIGNIN", "created", "Deleted", "export")] == [
        "login", "login", "login", "create", "destroy", "exported",
    ]  # fmt: skip


def test_describe_names_every_filter() -> None:
    text = build_filters(since="2026-03-01", actors=["Mallory"], actions=["update"], ips=["192.0.2.66"]).describe()
    assert text == "since 2026-03-01T00:00:00Z; actor mallory; action update; ip 192.0.2.66"
