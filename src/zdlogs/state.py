"""Checkpoints, one per stream, stored through the sink next to the data but outside its prefix.

A checkpoint only ever describes data that is durable. To also avoid duplicates after a crash, the
store keeps a write-ahead *pending* entry: before a page's object is written, the state records
``{"key": <object>, "checkpoint": <checkpoint after that page>}``; on the next start, if that object
exists, its checkpoint is taken, otherwise it is dropped and the page is fetched again. So a run killed
between the data write and the checkpoint neither loses nor repeats the page, and the state is written
once per page.

A parallel backfill (``zdlogs.backfill``) keeps the same pair per time window, under the stream's
``"backfill"`` entry, and the stream's own checkpoint is the merge of the windows: the checkpoint of the
last window of the contiguous run of finished ones from the start (``{}`` until the first is finished).
When every window is finished the plan is removed and the stream's checkpoint is exactly what a
sequential backfill would have left.

File format (versioned so an older zdlogs refuses a newer file instead of misreading it)::

    {"format": 1, "streams": {"audit_logs": {"checkpoint": {...}, "pending": null,
        "backfill": {"until": "...", "windows": [{"start": "...", "end": "...", "checkpoint": {...},
                                                  "pending": null, "done": false}, ...]}}}}
"""

from __future__ import annotations

from typing import Any

import orjson
import structlog

from zdlogs.errors import StorageError
from zdlogs.sinks.base import Sink

log = structlog.get_logger("zdlogs.state")

STATE_FORMAT = 1


class StateStore:
    def __init__(self, sink: Sink, key: str):
        self._sink = sink
        self.key = key
        self._doc = self._load()

    def _load(self) -> dict[str, Any]:
        raw = self._sink.read(self.key)
        if raw is None:
            return {"format": STATE_FORMAT, "streams": {}}
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError:
            doc = None
        if not isinstance(doc, dict) or not isinstance(doc.get("streams"), dict):
            raise StorageError(
                f"the state file {self.key} is corrupted: restore it, or move it away to start again "
                "from LOOKBACK_SECONDS (objects already written are kept and not duplicated)"
            )
        if doc.get("format") != STATE_FORMAT:
            raise StorageError(
                f"the state file {self.key} has format {doc.get('format')!r}, this zdlogs reads format "
                f"{STATE_FORMAT}: upgrade zdlogs (pip install -U zdlogs)"
            )
        return doc

    def _entry(self, stream: str) -> dict[str, Any]:
        return self._doc["streams"].setdefault(stream, {"checkpoint": {}, "pending": None})

    def resume(self, stream: str) -> dict[str, Any]:
        """The checkpoint to start from, settling a pending page left by an interrupted run."""
        return self._settle(stream, self._entry(stream))

    def _settle(self, stream: str, slot: dict[str, Any]) -> dict[str, Any]:
        pending = slot.get("pending")
        if pending and self._sink.exists(pending["key"]):
            log.info("pending_page_found", stream=stream, key=pending["key"])
            slot["checkpoint"] = pending["checkpoint"]
        slot["pending"] = None
        return dict(slot["checkpoint"])

    def begin(self, stream: str, committed: dict[str, Any], key: str, after: dict[str, Any]) -> None:
        """Record, before writing ``key``, the checkpoint that holds once it is stored."""
        entry = self._entry(stream)
        entry["checkpoint"], entry["pending"] = committed, {"key": key, "checkpoint": after}
        self._save()

    # -- parallel backfill windows ------------------------------------------------------------------

    def backfill(self, stream: str) -> dict[str, Any] | None:
        """The stream's unfinished backfill plan, if any."""
        return self._entry(stream).get("backfill")

    def start_backfill(self, stream: str, until: str, windows: list[tuple[str, str]]) -> None:
        """Record the plan before fetching anything, so a crash resumes the same windows."""
        slots = [{"start": a, "end": b, "checkpoint": {}, "pending": None, "done": False} for a, b in windows]
        self._entry(stream)["backfill"] = {"until": until, "windows": slots}
        self._save()

    def resume_window(self, stream: str, index: int) -> dict[str, Any]:
        """A window's checkpoint, settling its pending page as :meth:`resume` does for a stream."""
        return self._settle(stream, self._window(stream, index))

    def begin_window(self, stream: str, index: int, committed: dict[str, Any], key: str, after: dict[str, Any]) -> None:
        slot = self._window(stream, index)
        slot["checkpoint"], slot["pending"] = committed, {"key": key, "checkpoint": after}
        self._save()

    def commit_window(self, stream: str, index: int, checkpoint: dict[str, Any], done: bool) -> None:
        """Record a window's progress; merge finished windows into the stream's checkpoint."""
        slot = self._window(stream, index)
        slot["checkpoint"], slot["pending"], slot["done"] = checkpoint, None, done
        entry = self._entry(stream)
        windows = entry["backfill"]["windows"]
        entry["checkpoint"] = merged_checkpoint(windows)
        if all(window["done"] for window in windows):
            del entry["backfill"]
        self._save()

    def _window(self, stream: str, index: int) -> dict[str, Any]:
        return self._entry(stream)["backfill"]["windows"][index]

    def commit(self, stream: str, checkpoint: dict[str, Any]) -> None:
        """Make ``checkpoint`` the stream's resume point (its data is already durable)."""
        entry = self._entry(stream)
        if entry["checkpoint"] == checkpoint and entry["pending"] is None:
            return
        entry["checkpoint"], entry["pending"] = checkpoint, None
        self._save()

    def checkpoint(self, stream: str) -> dict[str, Any]:
        return dict(self._entry(stream)["checkpoint"])

    def _save(self) -> None:
        self._sink.replace(self.key, orjson.dumps(self._doc, option=orjson.OPT_INDENT_2))


def merged_checkpoint(windows: list[dict[str, Any]]) -> dict[str, Any]:
    """The checkpoint of the last window of the finished prefix: everything before it is stored."""
    merged: dict[str, Any] = {}
    for window in windows:
        if not window["done"]:
            break
        merged = dict(window["checkpoint"])
    return merged
