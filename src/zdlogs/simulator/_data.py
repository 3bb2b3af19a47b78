"""The in-memory Zendesk account: audit logs and tickets, guarded by one lock.

Records are kept sorted by their order key ((created_at, id) for audit logs,
(generated_timestamp, id) for the current version of each ticket) in parallel lists, so
every page is found with `bisect` instead of a scan: the simulator must serve 200k+
audit logs at collector speed. Audit records are stored compactly — their (created_at, id)
key and the generator's row, a tuple of mostly shared objects — and the JSON object is built
when a page is served: a million records then fit in a few hundred MB instead of gigabytes.
Stored ticket dicts are never mutated after creation (an update makes a new dict), so pages can
hand them out without copying under the lock.
"""

from __future__ import annotations

import bisect
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass

from zdlogs.simulator import _generate as gen
from zdlogs.simulator._config import SimConfig

Key = tuple[int, int]
Predicate = Callable[[dict], bool] | None
Item = tuple[Key, dict]
_CLOSED = ("closed", "deleted")


@dataclass
class _Version:
    """One version of a ticket, remembered for `truth()`."""

    ticket_id: int
    updated_at: str
    generated_timestamp: int
    superseded_at: float | None = None


class Account:
    """One fake Zendesk account; all public methods are thread-safe."""

    def __init__(self, config: SimConfig, base_url: str) -> None:
        self._lock = threading.Lock()
        self._clock = config.clock
        self._exclusion = config.recent_exclusion_seconds
        self._base = base_url
        now = int(self._clock())
        end = now - 1
        start = min(end, now - int(config.history_days * 86400))
        history_rng = random.Random(config.seed)
        self._rng = random.Random(config.seed * 7919 + 1)  # live changes, independent of history size
        self._audit_keys: list[Key] = []
        self._audit_rows: list[gen.Row] = []
        self._last_audit_id = gen.AUDIT_ID_BASE
        for epoch, row in gen.audit_rows(history_rng, config.audit_logs, start, end):
            self._last_audit_id += history_rng.randrange(1, 4000)
            self._store_audit(epoch, self._last_audit_id, row)
        self._tickets: dict[int, dict] = {}
        self._ticket_keys: list[Key] = []
        self._versions: list[_Version] = []
        self._current: dict[int, _Version] = {}
        for ticket in gen.history_tickets(history_rng, base_url, config.tickets, start, end):
            self._store_ticket(ticket)

    # ------------------------------------------------------------ writes (lock held by callers)

    def _store_audit(self, epoch: int, record_id: int, row: gen.Row) -> None:
        key = (epoch, record_id)
        index = bisect.bisect_right(self._audit_keys, key)
        self._audit_keys.insert(index, key)
        self._audit_rows.insert(index, row)

    def _audit_record(self, index: int) -> dict:
        """The JSON object of the record at ``index``, built from its compact form."""
        epoch, record_id = self._audit_keys[index]
        return gen.audit_record(self._base, record_id, epoch, self._audit_rows[index])

    def _store_ticket(self, ticket: dict) -> None:
        """Make `ticket` the current version: move its stream position, remember the version."""
        tid = ticket["id"]
        old = self._tickets.get(tid)
        if old is not None:
            old_key = (old["generated_timestamp"], tid)
            del self._ticket_keys[bisect.bisect_left(self._ticket_keys, old_key)]
            self._current[tid].superseded_at = self._clock()
        self._tickets[tid] = ticket
        bisect.insort(self._ticket_keys, (ticket["generated_timestamp"], tid))
        version = _Version(tid, ticket["updated_at"], ticket["generated_timestamp"])
        self._versions.append(version)
        self._current[tid] = version

    # ------------------------------------------------------------ live changes

    def append_audit_logs(self, n: int, epoch: int | None = None) -> list[dict]:
        """Add n records stamped with one second (default: now); ids keep growing.

        A `epoch` in the past models a late-visible record: a new, larger id that sorts
        before records a collector may already have checkpointed.
        """
        with self._lock:
            when = int(self._clock()) if epoch is None else epoch
            rows: list[gen.Row] = []
            while len(rows) < n:
                rows.extend(gen.random_event(self._rng)[: n - len(rows)])
            out = []
            for row in rows:
                self._last_audit_id += self._rng.randrange(1, 4000)
                self._store_audit(when, self._last_audit_id, row)
                out.append(gen.audit_record(self._base, self._last_audit_id, when, row))
            return out

    def create_tickets(self, n: int) -> list[dict]:
        """New tickets created now, with the next sequential ids."""
        with self._lock:
            now = int(self._clock())
            next_id = max(self._tickets, default=0) + 1
            out = []
            for tid in range(next_id, next_id + n):
                ticket = gen.ticket(self._rng, self._base, tid, now, now, "new")
                self._store_ticket(ticket)
                out.append(dict(ticket))
            return out

    def update_tickets(self, n: int) -> list[dict]:
        """Update up to n distinct tickets that are neither closed nor deleted (Zendesk forbids it)."""
        with self._lock:
            now = int(self._clock())
            candidates = sorted(tid for tid, t in self._tickets.items() if t["status"] not in _CLOSED)
            out = []
            for tid in self._rng.sample(candidates, k=min(n, len(candidates))):
                current = self._tickets[tid]
                ticket = gen.updated_ticket(self._rng, current, max(now, current["generated_timestamp"]))
                self._store_ticket(ticket)
                out.append(dict(ticket))
            return out

    # ------------------------------------------------------------ audit log reads

    def audit_by_id(self, record_id: int) -> dict | None:
        """A scan, not an index: the show endpoint is rare, and an id index would cost ~100 MB per million."""
        with self._lock:
            for index, (_, key_id) in enumerate(self._audit_keys):
                if key_id == record_id:
                    return self._audit_record(index)
            return None

    def audit_count(self) -> int:
        with self._lock:
            return len(self._audit_keys)

    def _window(self, start: int | None, end: int | None) -> tuple[int, int]:
        """Index range of records with start <= created_at <= end (both inclusive)."""
        lo = 0 if start is None else bisect.bisect_left(self._audit_keys, (start, -1))
        hi = len(self._audit_keys) if end is None else bisect.bisect_right(self._audit_keys, (end, 1 << 62))
        return lo, max(lo, hi)

    def audit_cursor_page(
        self,
        window: tuple[int | None, int | None],
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
        with self._lock:
            lo, hi = self._window(*window)
            cursor = before if before is not None else after
            upward = ascending != (before is not None)
            if upward:
                first = lo if cursor is None else max(lo, bisect.bisect_right(self._audit_keys, cursor))
                indexes = range(first, hi)
            else:
                last = hi - 1 if cursor is None else min(hi - 1, bisect.bisect_left(self._audit_keys, cursor) - 1)
                indexes = range(last, lo - 1, -1)
            items, has_more = self._collect(indexes, predicate, size)
        if before is not None:
            items.reverse()
        return items, has_more

    def _collect(self, indexes: range, predicate: Predicate, size: int) -> tuple[list[Item], bool]:
        if predicate is None:
            chosen = indexes[:size]
            return [(self._audit_keys[i], self._audit_record(i)) for i in chosen], len(indexes) > size
        items: list[Item] = []
        for i in indexes:
            record = self._audit_record(i)
            if predicate(record):
                if len(items) == size:
                    return items, True
                items.append((self._audit_keys[i], record))
        return items, False

    def audit_offset_page(
        self,
        window: tuple[int | None, int | None],
        predicate: Predicate,
        *,
        ascending: bool,
        page: int,
        per_page: int,
    ) -> tuple[list[dict], int]:
        """Records of a 1-based offset page and the total count matching the filters."""
        with self._lock:
            lo, hi = self._window(*window)
            indexes = range(lo, hi) if ascending else range(hi - 1, lo - 1, -1)
            if predicate is not None:
                indexes = [i for i in indexes if predicate(self._audit_record(i))]  # type: ignore[assignment]
            offset = (page - 1) * per_page
            return [self._audit_record(i) for i in indexes[offset : offset + per_page]], len(indexes)

    # ------------------------------------------------------------ ticket reads

    def ticket_page(
        self, after: Key, per_page: int, visible_until: int, exclude_deleted: bool
    ) -> tuple[list[Item], bool]:
        """Tickets after `after` in (generated_timestamp, id) order, hiding the recent ones.

        Returns the page and end_of_stream (nothing visible remains after it).
        """
        with self._lock:
            hi = bisect.bisect_right(self._ticket_keys, (visible_until, 1 << 62))
            first = bisect.bisect_right(self._ticket_keys, after)
            items: list[Item] = []
            for i in range(first, hi):
                key = self._ticket_keys[i]
                ticket = self._tickets[key[1]]
                if exclude_deleted and ticket["status"] == "deleted":
                    continue
                if len(items) == per_page:
                    return items, False
                items.append((key, ticket))
            return items, True

    # ------------------------------------------------------------ ground truth

    def truth(self) -> dict:
        """Everything a perfect collector could have seen, for end-to-end comparisons.

        A ticket version counts when it was visible at some moment: its
        generated_timestamp was outside the recent-minute exclusion before it was
        superseded (or is now, for current versions).
        """
        with self._lock:
            now = self._clock()
            audit = [self._audit_record(i) for i in range(len(self._audit_keys))]
            seen: set[tuple[int, str]] = set()
            versions = []
            for v in sorted(self._versions, key=lambda v: (v.generated_timestamp, v.ticket_id)):
                horizon = now if v.superseded_at is None else v.superseded_at
                visible = v.generated_timestamp <= horizon - self._exclusion
                if visible and (v.ticket_id, v.updated_at) not in seen:
                    seen.add((v.ticket_id, v.updated_at))
                    versions.append([v.ticket_id, v.updated_at])
            return {"audit_logs": audit, "ticket_versions": versions}
