"""Checkpoints, one per stream, stored in an object store next to the data but outside its prefix.

A checkpoint only ever describes data that is durable. To also avoid duplicates after a crash, the
store keeps a write-ahead *pending* entry: before a page's object is written, the state records
``{"key": <object>, "checkpoint": <checkpoint after that page>}``; on the next start, if that page was
delivered, its checkpoint is taken, otherwise it is dropped and the page is fetched again. So a run
killed between the data write and the checkpoint neither loses nor repeats the page, and the state is
written once per page.

Each resume point is a :class:`Slot`: ``state.slot(stream)`` for a stream, ``state.window(stream, i)``
for one window of its parallel backfill (``zdlogs.backfill``), each with ``resume / begin / commit``
(the page writer, ``zdlogs.writer``, drives them). A slot holds the stream's typed checkpoint
(``zdlogs.streams.base.Checkpoint``) and stores its JSON.

The windows of a backfill live under the stream's ``"backfill"`` entry, and the stream's own checkpoint
is the merge of the windows: the checkpoint of the last window of the contiguous run of finished ones
from the start (``{}`` until the first is finished). When every window is finished the plan is removed
and the stream's checkpoint is exactly what a sequential backfill would have left.

File format (versioned so an older zdlogs refuses a newer file instead of misreading it)::

    {"format": 1, "streams": {"audit_logs": {"checkpoint": {...}, "pending": null,
        "backfill": {"until": "...", "windows": [{"start": "...", "end": "...", "checkpoint": {...},
                                                  "pending": null, "done": false}, ...]},
        "last_run": {"started": "...", "finished": "...", "outcome": "ok", "records": 0, ...},
        "last_success": "...", "complete_to": "...", "newest_record": "..."}}}

How each run went for a stream (``last_run``, for ``zdlogs status`` and the metrics file) is noted by
:meth:`StateStore.record_run` and written with the next save, so it costs one write per run, not one per
stream. The fields after ``backfill`` are optional: files without them (written before they existed) read as
before, and a zdlogs that does not know them keeps them as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import orjson
import structlog

from zdlogs.config import env_name
from zdlogs.errors import StorageError
from zdlogs.stores.base import ObjectStore
from zdlogs.streams.base import JSON, Checkpoint

log = structlog.get_logger("zdlogs.state")

STATE_FORMAT = 1
SUCCESSFUL = ("ok", "limited")  # outcomes of a run that did what it was asked (a limit only paused it)


class Resumable(Protocol):
    """What the state needs of a stream: its name and the type of its checkpoint."""

    @property
    def name(self) -> str: ...

    @property
    def checkpoint_type(self) -> type[Checkpoint]: ...


class StateStore:
    """The state file: read once when opened, written whole (atomically) at every change."""

    def __init__(self, store: ObjectStore, key: str):
        self._store = store
        self.key = key
        self._doc = self._load()
        self._unsaved = False  # a run noted (record_run) since the last save

    def _load(self) -> dict[str, Any]:
        raw = self._store.read(self.key)
        if raw is None:
            return {"format": STATE_FORMAT, "streams": {}}
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError:
            doc = None
        if not isinstance(doc, dict) or not isinstance(doc.get("streams"), dict):
            raise StorageError(
                f"the state file {self.key} is corrupted: restore it, or move it away to start again "
                f"from {env_name('lookback_seconds')} (objects already written are kept and not duplicated)"
            )
        if doc.get("format") != STATE_FORMAT:
            raise StorageError(
                f"the state file {self.key} has format {doc.get('format')!r}, this zdlogs reads format "
                f"{STATE_FORMAT}: upgrade zdlogs (pip install -U zdlogs)"
            )
        return doc

    def entry(self, stream: str) -> dict[str, Any]:
        return self._doc["streams"].setdefault(stream, {"checkpoint": {}, "pending": None})

    def slot(self, stream: Resumable) -> Slot:
        """The stream's own resume point."""
        return Slot(self, stream.name, stream.checkpoint_type, self.entry(stream.name))

    def checkpoint(self, stream: Resumable) -> Checkpoint:
        """The stream's committed checkpoint, as stored (a pending page is not settled)."""
        return stream.checkpoint_type.from_json(self.entry(stream.name)["checkpoint"])

    def rewind(self, stream: Resumable, checkpoint: Checkpoint) -> None:
        """Make ``checkpoint`` the stream's resume point whatever it was (``zdlogs reset``, under the run lease):
        a pending page, an unfinished backfill plan and how far runs had got (``complete_to``, ``newest_record``)
        go too, since the next run collects again from there."""
        entry = self.entry(stream.name)
        entry["checkpoint"], entry["pending"] = checkpoint.to_json(), None
        for key in ("backfill", "complete_to", "newest_record"):
            entry.pop(key, None)
        self.save()

    def position(self, stream: Resumable) -> str:
        """How far the stream is, as a time (Zendesk's ISO form): its checkpoint's, else the start of its
        unfinished backfill plan (nothing before it is stored), else the newest record runs stored (a cursor
        export's cursor is opaque); "" when nothing says."""
        reached = self.checkpoint(stream).reached()
        entry = self.entry(stream.name)
        if reached or not self.planned(stream.name):
            return reached or str(entry.get("newest_record") or "")
        return str(entry["backfill"]["windows"][0]["start"])

    # -- parallel backfill windows ------------------------------------------------------------------

    def planned(self, stream: str) -> bool:
        """Whether the stream has an unfinished backfill plan."""
        return "backfill" in self.entry(stream)

    def start_backfill(self, stream: str, until: str, windows: list[tuple[str, str]]) -> None:
        """Record the plan before fetching anything, so a crash resumes the same windows."""
        slots: list[JSON] = [
            {"start": a, "end": b, "checkpoint": {}, "pending": None, "done": False} for a, b in windows
        ]
        self.entry(stream)["backfill"] = {"until": until, "windows": slots}
        self.save()

    def window(self, stream: Resumable, index: int) -> WindowSlot:
        """One window of the stream's backfill plan."""
        windows = self.entry(stream.name)["backfill"]["windows"]
        return WindowSlot(self, stream.name, stream.checkpoint_type, windows[index])

    def open_windows(self, stream: Resumable) -> list[WindowSlot]:
        """The windows of the plan not finished yet, in order."""
        windows = self.entry(stream.name)["backfill"]["windows"]
        return [self.window(stream, i) for i, window in enumerate(windows) if not window["done"]]

    def save(self) -> None:
        self._store.replace(self.key, orjson.dumps(self._doc, option=orjson.OPT_INDENT_2))
        self._unsaved = False

    # -- how each run went, per stream (zdlogs status, the metrics file) ------------------------------

    def streams(self) -> list[str]:
        """The streams the file holds an entry for, in the order they were first collected."""
        return list(self._doc["streams"])

    def recorded(self, stream: str) -> dict[str, Any] | None:
        """The stream's entry as stored (checkpoint, pending, backfill, last_run...), None when it has none."""
        entry = self._doc["streams"].get(stream)
        return entry if isinstance(entry, dict) else None

    def record_run(self, stream: str, run: JSON, *, newest_record: str = "", complete_to: str = "") -> None:
        """Note how this run went for ``stream`` (``last_run``: started, finished, outcome, counts, error), in
        memory: the next save writes it, the run's :meth:`flush` at the latest. ``newest_record`` is the newest
        record time this run stored (what dates a cursor export, whose checkpoint is opaque); ``complete_to``
        the time up to which the run collected the stream to its end (a run that went to the end)."""
        entry = self.entry(stream)
        entry["last_run"] = run
        if run.get("outcome") in SUCCESSFUL:
            entry["last_success"] = run["finished"]
        if newest_record:
            entry["newest_record"] = max(newest_record, str(entry.get("newest_record") or ""))
        if complete_to:
            entry["complete_to"] = max(complete_to, str(entry.get("complete_to") or ""))
        self._unsaved = True

    def save_later(self) -> None:
        """Have the run's :meth:`flush` write the state (a change no crash can make wrong, see Slot.commit)."""
        self._unsaved = True

    def flush(self) -> None:
        """Write what :meth:`record_run` or a deferred commit noted since the last save, if anything: once per run."""
        if self._unsaved:
            self.save()


class Slot:
    """One resume point: its committed checkpoint, and the pending page written ahead of its object.

    ``durable`` is the checkpoint this run knows to cover stored data; it is written with the next
    :meth:`begin` or :meth:`commit`, so a page costs one state write. ``in_flight`` names the page between
    its :meth:`begin` and its :meth:`stored`: if the run stops there, nobody knows whether it arrived.
    """

    def __init__(self, state: StateStore, stream: str, kind: type[Checkpoint], entry: dict[str, Any]):
        self.state, self.stream, self.kind, self._entry = state, stream, kind, entry
        self.durable = kind.from_json(entry["checkpoint"])
        self.in_flight: str | None = None

    def resume(self, delivered: Callable[[str], bool]) -> Checkpoint:
        """The checkpoint to start from, settling a pending page left by an interrupted run."""
        pending = self._entry.get("pending")
        if pending and delivered(pending["key"]):
            log.info("pending_page_found", stream=self.stream, key=pending["key"])
            self._entry["checkpoint"] = pending["checkpoint"]
        self._entry["pending"] = None
        self.durable = self.kind.from_json(self._entry["checkpoint"])
        return self.durable

    def begin(self, key: str, after: Checkpoint) -> None:
        """Record, before writing ``key``, the checkpoint that holds once it is stored."""
        self.in_flight = key  # before the save: a save whose answer is lost leaves the same doubt
        self._entry["checkpoint"], self._entry["pending"] = self.durable.to_json(), _pending(key, after)
        self.state.save()

    def stored(self, checkpoint: Checkpoint) -> None:
        """The data up to ``checkpoint`` is durable (kept in memory until the next begin or commit)."""
        self.durable, self.in_flight = checkpoint, None

    def commit(self, checkpoint: Checkpoint, *, defer: bool = False) -> None:
        """Make ``checkpoint`` the stream's resume point (its data is already durable). ``defer``: written with the
        run's record (:meth:`StateStore.flush`) rather than now — safe, since a run killed before that leaves
        either the pending entry of its last object (which the next run settles) or, when this run stored
        nothing, a checkpoint that only asks for an empty window again; a quiet run then costs one write."""
        self.durable, doc = checkpoint, checkpoint.to_json()
        if self._entry["checkpoint"] == doc and self._entry["pending"] is None:
            return
        self._entry["checkpoint"], self._entry["pending"] = doc, None
        self.state.save_later() if defer else self.state.save()


class WindowSlot(Slot):
    """One window of a backfill plan: a slot that also records whether the window is finished."""

    @property
    def start(self) -> str:
        return str(self._entry["start"])

    @property
    def end(self) -> str:
        return str(self._entry["end"])

    def commit(self, checkpoint: Checkpoint, done: bool = False, *, defer: bool = False) -> None:
        """Record the window's progress; merge finished windows into the stream's checkpoint (``defer``: as
        :meth:`Slot.commit`)."""
        self.durable = checkpoint
        self._entry["checkpoint"], self._entry["pending"], self._entry["done"] = checkpoint.to_json(), None, done
        entry = self.state.entry(self.stream)
        windows = entry["backfill"]["windows"]
        entry["checkpoint"] = merged_checkpoint(windows)
        if all(window["done"] for window in windows):
            del entry["backfill"]
        self.state.save_later() if defer else self.state.save()


def _pending(key: str, after: Checkpoint) -> JSON:
    return {"key": key, "checkpoint": after.to_json()}


def merged_checkpoint(windows: list[dict[str, Any]]) -> JSON:
    """The checkpoint of the last window of the finished prefix: everything before it is stored."""
    merged: JSON = {}
    for window in windows:
        if not window["done"]:
            break
        merged = dict(window["checkpoint"])
    return merged
