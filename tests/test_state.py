"""Checkpoints: write-ahead pending pages, corruption and version checks."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from zdlogs.errors import StorageError
from zdlogs.sinks.local import LocalSink
from zdlogs.state import StateStore

KEY = "_zdlogs/state.json"


def test_pending_page_is_taken_when_its_object_exists(tmp_path: Path) -> None:
    sink = LocalSink(tmp_path)
    StateStore(sink, KEY).begin("s", {"cursor": "a"}, "data/1.ndjson", {"cursor": "b"})
    sink.put_if_absent("data/1.ndjson", b"x\n")  # the run died right after the data write
    assert StateStore(sink, KEY).resume("s") == {"cursor": "b"}


def test_pending_page_is_dropped_when_its_object_is_missing(tmp_path: Path) -> None:
    sink = LocalSink(tmp_path)
    StateStore(sink, KEY).begin("s", {"cursor": "a"}, "data/1.ndjson", {"cursor": "b"})
    assert StateStore(sink, KEY).resume("s") == {"cursor": "a"}


def test_commit_persists_and_clears_pending(tmp_path: Path) -> None:
    sink = LocalSink(tmp_path)
    store = StateStore(sink, KEY)
    store.begin("s", {}, "data/1.ndjson", {"cursor": "b"})
    store.commit("s", {"cursor": "b"})
    doc = orjson.loads((tmp_path / KEY).read_bytes())
    assert doc == {"format": 1, "streams": {"s": {"checkpoint": {"cursor": "b"}, "pending": None}}}


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"{not json", "corrupted"), (b"[]", "corrupted"), (b'{"format": 99, "streams": {}}', "upgrade zdlogs")],
)
def test_bad_state_files_are_refused_with_the_fix(tmp_path: Path, content: bytes, message: str) -> None:
    sink = LocalSink(tmp_path)
    sink.replace(KEY, content)
    with pytest.raises(StorageError, match=message):
        StateStore(sink, KEY)
    assert (tmp_path / KEY).read_bytes() == content  # never overwritten by the refusal
