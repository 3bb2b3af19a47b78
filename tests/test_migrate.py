"""Taking over the original function's state: the checkpoints it becomes, in the format zdlogs reads, and
what is refused (anything the function does not write; an audit log that would start later than its history)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from tests.conftest import make_settings
from zdlogs.errors import ConfigError, StorageError
from zdlogs.migrate import cleanup_advice, import_state, read_old_state, require_audit_since, where_to_point

SINCE = datetime(2026, 11, 1, tzinfo=UTC)


def _old(tmp_path: Path, doc: object) -> str:
    path = tmp_path / "old.json"
    path.write_bytes(orjson.dumps(doc))
    return str(path)


def test_the_old_state_becomes_zdlogs_checkpoints_and_is_never_overwritten_unforced(tmp_path: Path) -> None:
    old = _old(tmp_path, {"audit_logs": {"next_url": "x"}, "incremental_tickets": {"cursor": "abc"}})
    settings = make_settings(output=str(tmp_path / "out"))
    imported = import_state(settings, old, SINCE)
    assert imported == {
        "audit_logs": {"since": "2026-11-01T00:00:00Z", "seen_ids": []},
        "incremental_tickets": {"cursor": "abc"},
    }
    state = orjson.loads((tmp_path / "out" / settings.state_key).read_bytes())["streams"]
    assert {name: entry["checkpoint"] for name, entry in state.items()} == imported
    with pytest.raises(StorageError, match="--force"):
        import_state(settings, old, SINCE)
    later = datetime(2026, 11, 2, tzinfo=UTC)
    assert import_state(settings, old, later, force=True)["audit_logs"]["since"] == "2026-11-02T00:00:00Z"


def test_without_audit_since_nothing_is_imported_and_the_message_says_why(tmp_path: Path) -> None:
    old = _old(tmp_path, {"audit_logs": {"next_url": None}, "incremental_tickets": {"cursor": "abc"}})
    with pytest.raises(ConfigError, match="holds no time for the audit log") as refused:
        import_state(make_settings(output=str(tmp_path / "out")), old, None)
    assert "LOOKBACK_SECONDS" in str(refused.value) and "pass --audit-since" in str(refused.value)
    assert not (tmp_path / "out").exists()  # no ticket checkpoint written alone either


def test_an_audit_since_in_the_future_is_refused() -> None:
    with pytest.raises(ConfigError, match="is in the future"):
        require_audit_since(datetime(2026, 11, 2, tzinfo=UTC), now=SINCE)
    assert require_audit_since(SINCE, now=SINCE) == SINCE


def test_the_function_s_first_state_has_no_cursor_and_only_the_audit_log_is_imported(tmp_path: Path) -> None:
    old = _old(tmp_path, {"audit_logs": {}, "incremental_tickets": {"cursor": None}})
    imported = import_state(make_settings(output=str(tmp_path / "out")), old, SINCE)
    assert list(imported) == ["audit_logs"]


NOT_THE_OLD_STATE = [
    ({"foo": 1}, "unexpected keys foo"),
    ({}, "it is empty"),
    ([1, 2], "a JSON object was expected"),
    ({"format": 1, "streams": {}}, "it is a zdlogs state file"),
    ({"audit_logs": {"next_url": 3}}, '"audit_logs" should be {"next_url": a string or null}'),
    ({"incremental_tickets": {"cursor": "a", "since": 1}}, '"incremental_tickets" should be'),
    ({"incremental_tickets": "abc"}, '"incremental_tickets" should be'),
]


@pytest.mark.parametrize(("doc", "problem"), NOT_THE_OLD_STATE, ids=[str(doc) for doc, _ in NOT_THE_OLD_STATE])
def test_what_the_function_does_not_write_is_refused(tmp_path: Path, doc: object, problem: str) -> None:
    with pytest.raises(ConfigError, match="is not the original function's state") as refused:
        read_old_state(_old(tmp_path, doc))
    assert problem in str(refused.value)


def test_not_json_is_refused(tmp_path: Path) -> None:
    (tmp_path / "old.json").write_text("{not json")
    with pytest.raises(ConfigError, match="is not JSON"):
        read_old_state(str(tmp_path / "old.json"))


def test_the_advice_matches_where_from_points() -> None:
    local, remote = "./state.json", "gs://b/zendesk/crm/state.json"
    assert "or at a local copy of it" in where_to_point(local)
    assert "local" not in where_to_point(remote) and "the object of the function's STATE_KEY" in where_to_point(remote)
    assert "not only the copy ./state.json" in cleanup_advice(local)
    assert f"delete {remote}:" in cleanup_advice(remote)
