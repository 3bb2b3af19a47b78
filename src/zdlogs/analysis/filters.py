"""The filters shared by ``export`` and ``report``, as Admin Center offers them.

One ``Filters`` value is applied in two places: as a SQL ``WHERE`` over collected data, and as
Zendesk's ``filter[...]`` query parameters when reading from the API or asking for Zendesk's export.
What the API cannot express (an actor given by name) is sent as broadly as is safe and applied
locally as well, so both paths return the same records.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from zdlogs.analysis.times import parse_since, parse_until
from zdlogs.errors import ConfigError
from zdlogs.times import iso_z, utc_now

ACTIONS = ("create", "update", "destroy", "exported", "login")
ACTION_ALIASES = {
    "created": "create",
    "add": "create",
    "updated": "update",
    "change": "update",
    "changed": "update",
    "delete": "destroy",
    "deleted": "destroy",
    "destroyed": "destroy",
    "remove": "destroy",
    "export": "exported",
    "sign-in": "login",
    "signin": "login",
    "sign_in": "login",
    "signed-in": "login",
    "signed_in": "login",
    "signed in": "login",
    "log-in": "login",
    "logged-in": "login",
}
_SOURCE_TYPE = re.compile(r"^[a-z0-9_./-]+$")
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Filters:
    """What to keep. ``until`` is exclusive; empty tuples mean "any"; values within one filter are ORed."""

    since: datetime | None = None
    until: datetime | None = None
    actor_ids: tuple[int, ...] = ()
    actor_names: tuple[str, ...] = ()  # lower-case, compared case-insensitively
    actions: tuple[str, ...] = ()
    source_types: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()

    def sql(self) -> tuple[str, dict[str, Any]]:
        """A ``WHERE`` body over the ``audit`` view's columns, with named parameters."""
        clauses, params = ["TRUE"], {}
        for clause, values in self._sql_parts():
            clauses.append(clause)
            params.update(values)
        return " AND ".join(clauses), params

    def _sql_parts(self) -> Iterable[tuple[str, dict[str, Any]]]:
        if self.since:
            yield "created_at >= $since", {"since": self.since}
        if self.until:
            yield "created_at < $until", {"until": self.until}
        if self.actor_ids or self.actor_names:
            yield (
                "(list_contains($actor_ids, actor_id) OR list_contains($actor_names, lower(actor_name)))",
                {"actor_ids": list(self.actor_ids), "actor_names": list(self.actor_names)},
            )
        for column, values in (("action", self.actions), ("source_type", self.source_types), ("ip_address", self.ips)):
            if values:
                yield f"list_contains(${column}s, {column})", {f"{column}s": list(values)}

    def api_params(self, now: datetime | None = None) -> list[tuple[str, str]]:
        """Zendesk's ``filter[...]`` parameters (repeated ``[]`` form for several values)."""
        params = self._created_at_params(now or utc_now())
        if self.actor_ids and not self.actor_names:  # names cannot be sent: then filter locally only
            params += _repeat("actor_id", [str(actor) for actor in self.actor_ids])
        params += _repeat("action", list(self.actions))
        params += _repeat("source_type", list(self.source_types))
        params += _repeat("ip_address", list(self.ips))
        return params

    def _created_at_params(self, now: datetime) -> list[tuple[str, str]]:
        """Zendesk wants ``filter[created_at]`` twice (both inclusive, whole seconds); our ``until`` is exclusive."""
        if not self.since and not self.until:
            return []
        end = (self.until - timedelta(seconds=1)) if self.until else now
        return [("filter[created_at][]", iso_z(self.since or EARLIEST)), ("filter[created_at][]", iso_z(end))]

    def describe(self) -> str:
        """One line for report headers: what was kept."""
        parts = [f"since {iso_z(self.since)}" if self.since else "", f"until {iso_z(self.until)}" if self.until else ""]
        parts += [f"actor {', '.join(map(str, [*self.actor_ids, *self.actor_names]))}" if self._has_actor() else ""]
        for label, values in (("action", self.actions), ("source type", self.source_types), ("ip", self.ips)):
            parts.append(f"{label} {', '.join(values)}" if values else "")
        return "; ".join(part for part in parts if part) or "no filter"

    def _has_actor(self) -> bool:
        return bool(self.actor_ids or self.actor_names)


def _repeat(field: str, values: list[str]) -> list[tuple[str, str]]:
    if len(values) == 1:
        return [(f"filter[{field}]", values[0])]
    return [(f"filter[{field}][]", value) for value in values]


def build_filters(
    since: str | None = None,
    until: str | None = None,
    actors: Iterable[str] = (),
    actions: Iterable[str] = (),
    source_types: Iterable[str] = (),
    ips: Iterable[str] = (),
) -> Filters:
    """Validate what the user typed; each bad value is a ConfigError naming the option and the fix."""
    start, end = (parse_since(since) if since else None), (parse_until(until) if until else None)
    if start and end and start >= end:
        raise ConfigError(f"--since {since} is not before --until {until}: swap them or widen the range")
    ids, names = split_actors(actors)
    return Filters(
        since=start,
        until=end,
        actor_ids=ids,
        actor_names=names,
        actions=tuple(dict.fromkeys(normalize_action(action) for action in actions)),
        source_types=tuple(dict.fromkeys(_source_type(value) for value in source_types)),
        ips=tuple(dict.fromkeys(_ip(value) for value in ips)),
    )


def split_actors(actors: Iterable[str]) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """Numbers are actor ids (the system actor is ``-1``); anything else is a name, case-insensitive."""
    ids, names = [], []
    for actor in (value.strip() for value in actors):
        if not actor:
            raise ConfigError('--actor is empty: give an actor id (123456) or a name ("Priya Raman")')
        if re.fullmatch(r"-?\d+", actor):
            ids.append(int(actor))
        else:
            names.append(actor.lower())
    return tuple(dict.fromkeys(ids)), tuple(dict.fromkeys(names))


def normalize_action(value: str) -> str:
    """Zendesk's action names, accepting what Admin Center shows (Signed in, Deleted...)."""
    text = value.strip().lower()
    action = ACTION_ALIASES.get(text, text)
    if action not in ACTIONS:
        raise ConfigError(
            f"--action {value!r} is not an audit-log action: use one of {', '.join(ACTIONS)} (sign-in = login)"
        )
    return action


def _source_type(value: str) -> str:
    text = value.strip().lower()
    if not _SOURCE_TYPE.match(text):
        raise ConfigError(f"--source-type {value!r} is not a source type: use e.g. rule, user, account_setting")
    return text


def _ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise ConfigError(f"--ip {value!r} is not an IP address: use e.g. 203.0.113.10") from None
