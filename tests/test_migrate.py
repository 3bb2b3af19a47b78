"""Taking over the original function's state: the checkpoints it becomes, in the format zdlogs reads."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from tests.conftest import make_settings
from zdlogs.errors import StorageError
from zdlogs.migrate import import_state


def test_the_old_state_becomes_zdlogs_checkpoints_and_is_never_overwritten_unforced(tmp_path: Path) -> None:
    old = tmp_path / "old.json"
    old.write_bytes(orjson.dumps({"audit_logs": {"next_url": "x"}, "incremental_tickets": {"cursor": "abc"}}))
    settings = make_settings(output=str(tmp_path / "out"))
    imported = import_state(settings, str(old), datetime(2026, 11, 1, tzinfo=UTC))
    assert imported == {
        "incremental_tickets": {"cursor": "abc"},
        "audit_logs": {"since": "2026-11-01T00:00:00Z", "seen_ids": []},
    }
    state = orjson.loads((tmp_path / "out" / settings.state_key).read_bytes())["streams"]
    assert {name: entry["checkpoint"] for name, entry in state.items()} == imported
    with pytest.raises(StorageError, match="--force"):
        import_state(settings, str(old), None)
    assert import_state(settings, str(old), None, force=True) == {"incremental_tickets": {"cursor": "abc"}}
