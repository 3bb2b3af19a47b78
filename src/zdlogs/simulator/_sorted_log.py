"""An append-mostly log kept sorted by (epoch second, id), paged with `bisect`.

Audit logs (integer ids) and access logs (ULID string ids) are both immutable records in time
order, read by time window and cursor. They are stored compactly — the sort key and a row of
mostly shared objects — and turned into JSON objects only when served, so a million records fit
in a few hundred MB. Time bounds are searched with one-element tuples: `(t,)` sorts before every
`(t, id)` whatever the id's type, so the same code serves integer and string ids.

Not thread-safe on its own: the owning `Account` holds its lock around every call.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from typing import Any, Generic, TypeVar

Key = tuple[int, Any]
Predicate = Callable[[dict], bool] | None
Item = tuple[Key, dict]
Window = tuple[int | None, int | None]
RowT = TypeVar("RowT")


class SortedLog(Generic[RowT]):
    """Parallel lists of keys and rows in key order; `build(key, row)` makes the JSON object."""

    def __init__(self, build: Callable[[Key, RowT], dict]) -> None:
        self.keys: list[Key] = []
        self.rows: list[RowT] = []
        self._build = build

    def __len__(self) -> int:
        return len(self.keys)

    def insert(self, key: Key, row: RowT) -> None:
        """Insert in order; history arrives sorted, so this is an append in the common case."""
        index = bisect.bisect_right(self.keys, key)
        self.keys.insert(index, key)
        self.rows.insert(index, row)

    def record(self, index: int) -> dict:
        return self._build(self.keys[index], self.rows[index])

    def records(self, lo: int = 0, hi: int | None = None) -> list[dict]:
        return [self.record(i) for i in range(lo, len(self.keys) if hi is None else hi)]

    def find(self, record_id: object) -> dict | None:
        """A scan, not an index: lookups by id are rare, and an index would cost ~100 MB per million."""
        for index, (_, key_id) in enumerate(self.keys):
            if key_id == record_id:
                return self.record(index)
        return None

    def window(self, start: int | None, end: int | None) -> tuple[int, int]:
        """Index range of records with start <= epoch <= end (both inclusive, whole seconds)."""
        lo = 0 if start is None else bisect.bisect_left(self.keys, (start,))
        hi = len(self.keys) if end is None else bisect.bisect_left(self.keys, (end + 1,))
        return lo, max(lo, hi)

    def cursor_page(
        self,
        window: Window,
        predicate: Predicate,
        *,
        ascending: bool,
        after: Key | None,
        before: Key | None,
        size: int,
    ) -> tuple[list[Item], bool]:
        """One cursor page in the requested order and whether more remain in that direction.

        `after`/`before` are the keys of the last/first record of a previous page; walking
        "before" is walking the other way and reversing, as Zendesk's prev links do.
        """
        indexes = self._walk(window, ascending, after, before)
        items, has_more = self._collect(indexes, predicate, size)
        if before is not None:
            items.reverse()
        return items, has_more

    def has_before(self, window: Window, predicate: Predicate, *, ascending: bool, first: Key) -> bool:
        """Whether a record precedes `first` in the walk order (what JSON:API's `meta.has_before` says)."""
        indexes = self._walk(window, not ascending, first, None)
        return bool(self._collect(indexes, predicate, 1)[0])

    def _walk(self, window: Window, ascending: bool, after: Key | None, before: Key | None) -> range:
        lo, hi = self.window(*window)
        cursor = before if before is not None else after
        if ascending != (before is not None):
            first = lo if cursor is None else max(lo, bisect.bisect_right(self.keys, cursor))
            return range(first, hi)
        last = hi - 1 if cursor is None else min(hi - 1, bisect.bisect_left(self.keys, cursor) - 1)
        return range(last, lo - 1, -1)

    def _collect(self, indexes: range, predicate: Predicate, size: int) -> tuple[list[Item], bool]:
        if predicate is None:
            chosen = indexes[:size]
            return [(self.keys[i], self.record(i)) for i in chosen], len(indexes) > size
        items: list[Item] = []
        for i in indexes:
            record = self.record(i)
            if predicate(record):
                if len(items) == size:
                    return items, True
                items.append((self.keys[i], record))
        return items, False

    def offset_page(
        self, window: Window, predicate: Predicate, *, ascending: bool, page: int, per_page: int
    ) -> tuple[list[dict], int]:
        """Records of a 1-based offset page and the total count matching the filters."""
        lo, hi = self.window(*window)
        indexes: range | list[int] = range(lo, hi) if ascending else range(hi - 1, lo - 1, -1)
        if predicate is not None:
            indexes = [i for i in indexes if predicate(self.record(i))]
        offset = (page - 1) * per_page
        return [self.record(i) for i in indexes[offset : offset + per_page]], len(indexes)
