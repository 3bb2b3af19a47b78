"""The in-memory Zendesk account: every record the endpoints serve, guarded by one lock.

Immutable logs (audit logs, access logs, ticket events) are `SortedLog`s ordered by (epoch, id);
records that change (tickets, users, organizations) are `VersionedStream`s ordered by the stamp
their export uses. Every page is found with `bisect` instead of a scan: the simulator must
serve 200k+ records at collector speed. Log records are stored compactly and built as JSON
objects when served (see `_sorted_log`).

Each kind of record is generated from its own seeded generator (derived from `SimConfig.seed`),
so adding a kind never changes the records of the others for a given seed, and live changes
draw from generators independent of the history's size.
"""

from __future__ import annotations

import math
import random
import threading

from zdlogs.simulator import _access_logs as access
from zdlogs.simulator import _directory as directory
from zdlogs.simulator import _generate as gen
from zdlogs.simulator import _ticket_events as events
from zdlogs.simulator._config import SimConfig
from zdlogs.simulator._profiles import PROFILES
from zdlogs.simulator._sorted_log import Item, Key, Predicate, SortedLog, Window
from zdlogs.simulator._versioned import VersionedStream, time_slice

__all__ = ["ACCESS_RETENTION_SECONDS", "Account", "Item", "Key", "Predicate", "Window"]

ACCESS_RETENTION_SECONDS = 90 * 86400  # "The access log is a 90-day record"
_CLOSED = ("closed", "deleted")


def _updated_epoch(record: dict) -> int:
    return gen.parse_iso(record["updated_at"])


class Account:
    """One fake Zendesk account; all public methods are thread-safe."""

    def __init__(self, config: SimConfig, base_url: str) -> None:
        self._lock = threading.Lock()
        self._clock = config.clock
        self._exclusion = config.recent_exclusion_seconds
        self._base = base_url
        seed = config.seed
        now = int(self._clock())
        end = now - 1
        start = min(end, now - int(config.history_days * 86400))
        history_rng = random.Random(seed)
        self._rng = random.Random(seed * 7919 + 1)  # live changes, independent of history size
        self._profile = PROFILES[config.profile]
        self._planted: dict[str, list[int | str]] = {}
        self._audit: SortedLog[gen.Row] = SortedLog(self._audit_record)
        self._last_audit_id = gen.AUDIT_ID_BASE
        for epoch, audit_row, rule in self._profile.audit_history(history_rng, config.audit_logs, start, end):
            self._last_audit_id += history_rng.randrange(1, 4000)
            self._audit.insert((epoch, self._last_audit_id), audit_row)
            self._plant(rule, self._last_audit_id)
        self._tickets = VersionedStream(self._clock, lambda ticket: ticket["generated_timestamp"])
        tickets = gen.history_tickets(history_rng, base_url, config.tickets, start, end)
        for ticket in tickets:
            self._tickets.store(ticket)

        self._events: SortedLog[events.Row] = SortedLog(lambda key, row: events.record(key, row, False))
        self._last_event_id = events.EVENT_ID_BASE
        for epoch, event_row in events.history(random.Random(f"{seed}/ticket-events"), tickets):
            self._store_event(epoch, event_row)
        self._access: SortedLog[access.Row] = SortedLog(access.record)
        access_rng = random.Random(f"{seed}/access-logs")
        for key, access_row, rule in self._profile.access_history(access_rng, config.access_logs, start, end):
            self._access.insert(key, access_row)
            self._plant(rule, key[1])
        self._organizations = VersionedStream(self._clock, _updated_epoch)
        directory_rng = random.Random(f"{seed}/directory")
        for org in directory.history_organizations(directory_rng, base_url, config.organizations, start, end):
            self._organizations.store(org)
        self._users = VersionedStream(self._clock, _updated_epoch)
        for user in directory.history_users(directory_rng, base_url, config.users, self._org_ids(), start, end):
            self._users.store(user)
        self._event_rng = random.Random(f"{seed}/live-ticket-events")
        self._access_rng = random.Random(f"{seed}/live-access-logs")
        self._directory_rng = random.Random(f"{seed}/live-directory")

    # ------------------------------------------------------------ helpers (lock held by callers)

    def _audit_record(self, key: Key, row: gen.Row) -> dict:
        return gen.audit_record(self._base, key[1], key[0], row)

    def _plant(self, rule: str | None, record_id: int | str) -> None:
        if rule is not None:
            self._planted.setdefault(rule, []).append(record_id)

    def _store_event(self, epoch: int, row: events.Row) -> None:
        self._last_event_id += events.ID_STEP
        self._events.insert((epoch, self._last_event_id), row)

    def _org_ids(self) -> list[int]:
        return sorted(self._organizations.current)

    def _visible_until(self, now: float) -> int:
        return math.floor(now - self._exclusion)

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
                rows.extend(self._profile.audit_live(self._rng)[: n - len(rows)])
            out = []
            for row in rows:
                self._last_audit_id += self._rng.randrange(1, 4000)
                key = (when, self._last_audit_id)
                self._audit.insert(key, row)
                out.append(self._audit_record(key, row))
            return out

    def append_access_logs(self, n: int, epoch: int | None = None) -> list[dict]:
        """Add n access-log records in one second (default: now), in (timestamp, id) order.

        Their ULIDs encode that second, so a past `epoch` gives records that sort (and are
        returned) before ones a collector may already have read: a late-visible record.
        """
        with self._lock:
            when = int(self._clock()) if epoch is None else epoch
            out = []
            for key, row in self._profile.access_live(self._access_rng, n, when):
                self._access.insert(key, row)
                out.append(access.record(key, row))
            return out

    def create_tickets(self, n: int) -> list[dict]:
        """New tickets created now, with the next sequential ids; each writes a creation event."""
        with self._lock:
            now = int(self._clock())
            next_id = self._tickets.next_id(1)
            out = []
            for tid in range(next_id, next_id + n):
                ticket = gen.ticket(self._rng, self._base, tid, now, now, "new")
                self._tickets.store(ticket)
                self._store_event(now, events.creation(self._event_rng, ticket))
                out.append(dict(ticket))
            return out

    def update_tickets(self, n: int) -> list[dict]:
        """Update up to n distinct tickets that are neither closed nor deleted (Zendesk forbids it).

        Each update writes one event with the changes and, sometimes, a comment.
        """
        with self._lock:
            now = int(self._clock())
            current = self._tickets.current
            candidates = sorted(tid for tid, t in current.items() if t["status"] not in _CLOSED)
            out = []
            for tid in self._rng.sample(candidates, k=min(n, len(candidates))):
                old = current[tid]
                epoch = max(now, old["generated_timestamp"])
                ticket = gen.updated_ticket(self._rng, old, epoch)
                self._tickets.store(ticket)
                self._store_event(epoch, events.update(self._event_rng, old, ticket))
                out.append(dict(ticket))
            return out

    def create_users(self, n: int) -> list[dict]:
        """New end users created now, with the next ids."""
        with self._lock:
            now = int(self._clock())
            next_id = self._users.next_id(directory.END_USER_ID_BASE)
            out = []
            for user_id in range(next_id, next_id + n):
                user = directory.new_user(self._directory_rng, self._base, user_id, now, self._org_ids())
                self._users.store(user)
                out.append(dict(user))
            return out

    def update_users(self, n: int) -> list[dict]:
        """Change up to n distinct users (never the account owner): role, suspension or organization."""
        with self._lock:
            now = int(self._clock())
            current = self._users.current
            candidates = sorted(uid for uid in current if uid != gen.ADMINS[0].id)
            out = []
            for uid in self._directory_rng.sample(candidates, k=min(n, len(candidates))):
                epoch = max(now, _updated_epoch(current[uid]))
                user = directory.updated_user(self._directory_rng, current[uid], epoch, self._org_ids())
                self._users.store(user)
                out.append(dict(user))
            return out

    def create_organizations(self, n: int) -> list[dict]:
        """New organizations created now, with the next ids."""
        with self._lock:
            now = int(self._clock())
            first = self._organizations.next_id(directory.ORGANIZATION_ID_BASE) - directory.ORGANIZATION_ID_BASE
            out = []
            for index in range(first, first + n):
                org = directory.organization(self._directory_rng, self._base, index, now, now)
                self._organizations.store(org)
                out.append(dict(org))
            return out

    def update_organizations(self, n: int) -> list[dict]:
        """Edit up to n distinct organizations."""
        with self._lock:
            now = int(self._clock())
            current = self._organizations.current
            out = []
            for org_id in self._directory_rng.sample(sorted(current), k=min(n, len(current))):
                epoch = max(now, _updated_epoch(current[org_id]))
                org = directory.updated_organization(self._directory_rng, current[org_id], epoch)
                self._organizations.store(org)
                out.append(dict(org))
            return out

    # ------------------------------------------------------------ audit log reads

    def audit_by_id(self, record_id: int) -> dict | None:
        with self._lock:
            return self._audit.find(record_id)

    def audit_count(self) -> int:
        with self._lock:
            return len(self._audit)

    def summary(self) -> dict:
        """How many records of each kind are stored (current versions for tickets, users, organizations)."""
        with self._lock:
            return {
                "audit_logs": len(self._audit),
                "access_logs": len(self._access),
                "ticket_events": len(self._events),
                "tickets": len(self._tickets),
                "users": len(self._users),
                "organizations": len(self._organizations),
            }

    def audit_cursor_page(
        self,
        window: Window,
        predicate: Predicate,
        *,
        ascending: bool,
        after: Key | None,
        before: Key | None,
        size: int,
    ) -> tuple[list[Item], bool]:
        """One cursor page in the requested order and whether more remain in that direction."""
        with self._lock:
            log = self._audit
            return log.cursor_page(window, predicate, ascending=ascending, after=after, before=before, size=size)

    def audit_offset_page(
        self, window: Window, predicate: Predicate, *, ascending: bool, page: int, per_page: int
    ) -> tuple[list[dict], int]:
        """Records of a 1-based offset page and the total count matching the filters."""
        with self._lock:
            return self._audit.offset_page(window, predicate, ascending=ascending, page=page, per_page=per_page)

    # ------------------------------------------------------------ access log reads

    def access_cursor_page(
        self,
        window: Window,
        predicate: Predicate,
        *,
        now: float,
        ascending: bool,
        after: Key | None,
        before: Key | None,
        size: int,
    ) -> tuple[list[Item], bool, bool]:
        """(page, has_more, has_before) within the filter window and the 90-day retention.

        `has_more`/`has_before`: records follow the page's last / precede its first in the sort
        order, whichever way the page was walked; both false on an empty page.
        """
        oldest = math.ceil(now - ACCESS_RETENTION_SECONDS)
        start, end = window
        kept = (oldest if start is None else max(start, oldest), end)
        with self._lock:
            log = self._access
            items, onward = log.cursor_page(kept, predicate, ascending=ascending, after=after, before=before, size=size)
            if not items:
                return items, False, False
            if before is not None:  # walked backwards: "onward" is what precedes the page
                return items, log.has_before(kept, predicate, ascending=not ascending, first=items[-1][0]), onward
            return items, onward, log.has_before(kept, predicate, ascending=ascending, first=items[0][0])

    # ------------------------------------------------------------ incremental export reads

    def ticket_page(
        self, after: Key, per_page: int, visible_until: int, exclude_deleted: bool
    ) -> tuple[list[Item], bool]:
        """Tickets after `after` in (generated_timestamp, id) order, hiding the recent ones.

        Returns the page and end_of_stream (nothing visible remains after it).
        """
        keep = (lambda ticket: ticket["status"] != "deleted") if exclude_deleted else None
        with self._lock:
            return self._tickets.after(after, per_page, visible_until, keep)

    def user_page(self, after: Key, per_page: int, visible_until: int) -> tuple[list[Item], bool]:
        """Users after `after` in (updated_at, id) order, hiding the recent ones."""
        with self._lock:
            return self._users.after(after, per_page, visible_until)

    def organization_page(self, start: int, per_page: int, visible_until: int) -> list[dict]:
        """Time-based page of organizations from second `start` (see `time_slice`)."""
        with self._lock:
            return self._organizations.since(start, per_page, visible_until)

    def ticket_event_page(self, start: int, per_page: int, visible_until: int, comments: bool) -> list[dict]:
        """Time-based page of ticket events from second `start`; `comments` is the comment_events sideload."""
        with self._lock:
            log = self._events
            lo, hi = time_slice(log.keys, start, per_page, visible_until)
            return [events.record(log.keys[i], log.rows[i], comments) for i in range(lo, hi)]

    # ------------------------------------------------------------ ground truth

    def planted(self) -> dict[str, list[int | str]]:
        """The ids of the records planted for each detection rule (audit ids, access-log ULIDs), in time
        order; empty for the default profile, which plants nothing."""
        with self._lock:
            return {rule: list(ids) for rule, ids in self._planted.items()}

    def truth(self) -> dict:
        """Everything a perfect collector could have seen, for end-to-end comparisons.

        A version of a ticket, user or organization counts when it was visible at some moment:
        its stamp was outside the recent-minute exclusion before it was superseded (or is now,
        for current versions). Ticket events count when outside the exclusion now; access logs
        when inside the retention now.
        """
        with self._lock:
            now = self._clock()
            visible_until = self._visible_until(now)
            oldest = math.ceil(now - ACCESS_RETENTION_SECONDS)
            return {
                "audit_logs": self._audit.records(),
                "ticket_versions": self._tickets.visible_versions(now, self._exclusion),
                "access_logs": self._access.records(*self._access.window(oldest, None)),
                "ticket_events": sorted(key[1] for key in self._events.keys if key[0] <= visible_until),
                "user_versions": self._users.visible_versions(now, self._exclusion),
                "organization_versions": self._organizations.visible_versions(now, self._exclusion),
            }
