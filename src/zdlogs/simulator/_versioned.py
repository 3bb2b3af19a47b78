"""Records that change over time (tickets, users, organizations), as incremental exports see them.

Each record has one current version, at its stream position (stamp, id) — the stamp is the
epoch second the export orders by (`generated_timestamp` for tickets, `updated_at` for users
and organizations). An update makes a new version and moves the record to the end of the
stream, which is why a collector walking the export meets it again. Every version is
remembered with the moment it was superseded, so `truth()` can list the versions a perfect
collector could have seen.

Stored dicts are never mutated after being stored (an update stores a new dict), so pages can
hand them out without copying. Not thread-safe on its own: the owning `Account` holds its lock.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass

Key = tuple[int, int]
Item = tuple[Key, dict]
END = 1 << 62  # an id larger than any real one: (t, END) follows every record of second t


@dataclass
class _Version:
    record_id: int
    updated_at: str
    stamp: int
    superseded_at: float | None = None


class VersionedStream:
    """Current versions in (stamp, id) order plus the history of versions; see the module docstring."""

    def __init__(self, clock: Callable[[], float], stamp: Callable[[dict], int]) -> None:
        self._clock = clock
        self._stamp = stamp
        self.current: dict[int, dict] = {}
        self.keys: list[Key] = []
        self._versions: list[_Version] = []
        self._latest: dict[int, _Version] = {}

    def __len__(self) -> int:
        return len(self.current)

    def next_id(self, first: int) -> int:
        """The id after the largest one (or `first` for an empty stream)."""
        return max(self.current, default=first - 1) + 1

    def store(self, record: dict) -> None:
        """Make `record` the current version of its id: move its stream position, remember the version."""
        record_id, stamp = record["id"], self._stamp(record)
        old = self.current.get(record_id)
        if old is not None:
            del self.keys[bisect.bisect_left(self.keys, (self._stamp(old), record_id))]
            self._latest[record_id].superseded_at = self._clock()
        self.current[record_id] = record
        bisect.insort(self.keys, (stamp, record_id))
        version = _Version(record_id, record["updated_at"], stamp)
        self._versions.append(version)
        self._latest[record_id] = version

    def after(
        self, after: Key, per_page: int, visible_until: int, keep: Callable[[dict], bool] | None = None
    ) -> tuple[list[Item], bool]:
        """Cursor export: up to `per_page` records after `after`, none stamped after `visible_until`.

        Returns the page and end_of_stream (nothing visible and kept remains after it).
        """
        hi = bisect.bisect_right(self.keys, (visible_until, END))
        items: list[Item] = []
        for i in range(bisect.bisect_right(self.keys, after), hi):
            key = self.keys[i]
            record = self.current[key[1]]
            if keep is not None and not keep(record):
                continue
            if len(items) == per_page:
                return items, False
            items.append((key, record))
        return items, True

    def since(self, start: int, per_page: int, visible_until: int) -> list[dict]:
        """Time-based export page: records stamped >= start (see `time_slice`)."""
        lo, hi = time_slice(self.keys, start, per_page, visible_until)
        return [self.current[self.keys[i][1]] for i in range(lo, hi)]

    def visible_versions(self, now: float, exclusion: float) -> list[list]:
        """[id, updated_at] of every version that was outside the recent-minute exclusion at some
        moment before it was superseded (or is now, for current versions), in stream order."""
        seen: set[tuple[int, str]] = set()
        out: list[list] = []
        for v in sorted(self._versions, key=lambda v: (v.stamp, v.record_id)):
            horizon = now if v.superseded_at is None else v.superseded_at
            if v.stamp <= horizon - exclusion and (v.record_id, v.updated_at) not in seen:
                seen.add((v.record_id, v.updated_at))
                out.append([v.record_id, v.updated_at])
        return out


def time_slice(keys: list[Key], start: int, per_page: int, visible_until: int) -> tuple[int, int]:
    """Index range of one time-based export page over `keys` sorted by (epoch, id).

    Zendesk's time-based exports start at `start_time` inclusive and return up to `per_page`
    items, but "may exceed the 1000-item default return limit if items share the same
    timestamp": the page runs to the end of the last second it reaches, so that second is
    never split across pages (and the next page, starting at that second, repeats it).
    """
    lo = bisect.bisect_left(keys, (start,))
    hi = bisect.bisect_right(keys, (visible_until, END))
    if hi - lo <= per_page:
        return lo, max(lo, hi)
    last_second = keys[lo + per_page - 1][0]
    return lo, min(hi, bisect.bisect_right(keys, (last_second, END)))
