"""The boundary-second dedupe of the time-window streams (audit and access logs), without HTTP."""

from __future__ import annotations

import pytest

from zdlogs.errors import ZendeskError
from zdlogs.streams.access_logs import AccessLogs
from zdlogs.streams.audit_logs import AuditLogs
from zdlogs.streams.windowed import Boundary

KEY = AuditLogs().key


def rec(record_id: int, second: str) -> dict:
    return {"id": record_id, "created_at": f"2026-11-25T10:00:{second}Z"}


def test_ids_already_stored_at_the_boundary_second_are_skipped() -> None:
    boundary = Boundary("2026-11-25T10:00:05Z", {1, 2})
    fresh = boundary.admit([rec(1, "05"), rec(2, "05"), rec(3, "05"), rec(4, "06")], KEY)
    assert [r["id"] for r in fresh] == [3, 4]
    assert (boundary.since, boundary.seen_ids()) == ("2026-11-25T10:00:06Z", (4,))


def test_a_second_split_across_pages_keeps_every_id() -> None:
    boundary = Boundary("2026-11-25T10:00:00Z", set())
    boundary.admit([rec(1, "07"), rec(2, "07")], KEY)
    boundary.admit([rec(3, "07")], KEY)
    assert (boundary.since, boundary.seen_ids()) == (
        "2026-11-25T10:00:07Z",
        (
            1,
            2,
            3,
        ),
    )


def test_closing_the_window_moves_past_a_quiet_stretch() -> None:
    boundary = Boundary("2026-11-25T10:00:07Z", {1})
    boundary.close_window("2026-11-25T11:00:00Z")
    assert (boundary.since, boundary.seen_ids()) == ("2026-11-25T11:00:00Z", ())
    boundary.close_window("2026-11-25T10:00:00Z")  # never backwards
    assert boundary.since == "2026-11-25T11:00:00Z"


@pytest.mark.parametrize(
    "bad", [{"id": "1", "created_at": "2026-11-25T10:00:00Z"}, {"id": 1}, {"id": 1, "created_at": "yesterday"}]
)
def test_malformed_records_are_a_clear_error(bad: dict) -> None:
    with pytest.raises(ZendeskError, match="audit_logs record"):
        Boundary("2026-11-25T10:00:00Z", set()).admit([bad], KEY)


def test_records_older_than_the_window_mean_the_sort_was_ignored() -> None:
    with pytest.raises(ZendeskError, match="did not sort oldest first"):
        Boundary("2026-11-25T10:00:05Z", set()).admit([rec(1, "04")], KEY)


def test_access_log_ids_are_ulid_strings_and_their_time_is_timestamp() -> None:
    key = AccessLogs().key
    boundary = Boundary("2026-11-25T10:00:05Z", {"01JDZ0000000000000000000AA"}, "access_logs")
    records = [
        {"id": "01JDZ0000000000000000000AA", "timestamp": "2026-11-25T10:00:05Z"},
        {"id": "01JDZ0000000000000000000AB", "timestamp": "2026-11-25T10:00:05Z"},
    ]
    assert [r["id"] for r in boundary.admit(records, key)] == ["01JDZ0000000000000000000AB"]
    with pytest.raises(ZendeskError, match="access_logs record without a string id and a timestamp"):
        key({"id": 5, "timestamp": "2026-11-25T10:00:05Z"})
