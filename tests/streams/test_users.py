"""The users export: its endpoint and records key, and the cursor rules it shares with tickets."""

from __future__ import annotations

import httpx
import pytest

from tests.streams.replay import BASE, replay
from tests.streams.test_cursor_export import CTX
from zdlogs.errors import ZendeskError
from zdlogs.streams.cursor_export import CursorCheckpoint
from zdlogs.streams.users import Users


def users_page(users: list[dict], after: str | None, end: bool) -> httpx.Response:
    body = {"users": users, "after_cursor": after, "end_of_stream": end,
            "after_url": f"{BASE}/api/v2/incremental/users/cursor.json?cursor={after}"}  # fmt: skip
    return httpx.Response(200, json=body)


def user(user_id: int, updated: str) -> dict:
    return {"id": user_id, "role": "agent", "updated_at": updated}


def test_each_version_of_a_user_is_a_record_across_pages() -> None:
    responses = [users_page([user(1, "2026-11-24T08:00:00Z")], "u1", False),
                 users_page([user(1, "2026-11-24T09:00:00Z")], "u2", True)]  # fmt: skip
    pages, seen = replay(Users(), responses, CursorCheckpoint(), CTX)
    assert [r["updated_at"] for p in pages for r in p.records] == ["2026-11-24T08:00:00Z", "2026-11-24T09:00:00Z"]
    assert [r.url.path for r in seen] == ["/api/v2/incremental/users/cursor.json"] * 2
    assert seen[1].url.params["cursor"] == "u1" and pages[-1].checkpoint == CursorCheckpoint("u2")


def test_a_saved_cursor_is_resumed() -> None:
    _pages, seen = replay(Users(), [users_page([], "u9", True)], CursorCheckpoint("u8"), CTX)
    assert seen[0].url.params["cursor"] == "u8" and "start_time" not in seen[0].url.params


def test_an_answer_without_after_cursor_names_the_users_export() -> None:
    with pytest.raises(ZendeskError, match="the users export answered without an after_cursor"):
        replay(Users(), [users_page([user(1, "2026-11-24T08:00:00Z")], None, True)], CursorCheckpoint(), CTX)
