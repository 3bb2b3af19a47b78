"""Organizations: ordered by the second of updated_at, and a record without a readable one is refused."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from tests.streams.test_time_export import ids, run
from zdlogs.errors import ZendeskError
from zdlogs.streams.organizations import Organizations
from zdlogs.streams.time_export import StartTimeCheckpoint

SECOND = int(datetime(2026, 11, 25, 10, 0, tzinfo=UTC).timestamp())


def test_the_second_of_an_organization_is_its_updated_at() -> None:
    assert Organizations().second({"id": 1, "updated_at": "2026-11-25T10:00:00Z"}) == SECOND
    assert Organizations().second({"id": 1, "updated_at": "2026-11-25T11:00:00+01:00"}) == SECOND


@pytest.mark.parametrize("updated", [None, "yesterday", 1_700_000_000])
def test_an_unreadable_updated_at_names_the_organization(updated: object) -> None:
    with pytest.raises(ZendeskError, match="organization 42 has no readable updated_at"):
        Organizations().second({"id": 42, "updated_at": updated})


def test_a_resumed_run_skips_the_organizations_already_stored_at_that_second() -> None:
    orgs = [{"id": 3, "updated_at": "2026-11-25T10:00:00Z"}, {"id": 4, "updated_at": "2026-11-25T10:00:00Z"}]
    body = {"organizations": orgs, "end_time": SECOND, "end_of_stream": True}
    pages, seen = run(Organizations(), [httpx.Response(200, json=body)], StartTimeCheckpoint(SECOND, (3,)))
    assert ids(pages) == [4]
    assert seen[0].url.params["start_time"] == str(SECOND)
    assert pages[-1].checkpoint == StartTimeCheckpoint(SECOND, (3, 4))
