"""What a simulated account's history holds, by `SimConfig.profile`: the generators the account calls.

The account stores whatever its profile generates and remembers which records were planted for which
detection rule; the default profile plants nothing and generates exactly what it always did, so every
test and report written against the default history keeps its data.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from zdlogs.simulator import _access_logs as access
from zdlogs.simulator import _generate as gen
from zdlogs.simulator import _planted as planted


@dataclass(frozen=True)
class Profile:
    """History (tagged with the rule each record is planted for, or None) and live activity."""

    audit_history: Callable[[random.Random, int, int, int], list[planted.Tagged]]
    audit_live: Callable[[random.Random], list[gen.Row]]
    access_history: Callable[[random.Random, int, int, int], list[planted.TaggedEntry]]
    access_live: Callable[[random.Random, int, int], list[access.Entry]]


def _default_audit(rng: random.Random, count: int, start: int, end: int) -> list[planted.Tagged]:
    return [(epoch, row, None) for epoch, row in gen.audit_rows(rng, count, start, end)]


def _default_access(rng: random.Random, count: int, start: int, end: int) -> list[planted.TaggedEntry]:
    return [(key, row, None) for key, row in access.history(rng, count, start, end)]


PROFILES = {
    "default": Profile(_default_audit, gen.random_event, _default_access, access.live),
    "detections": Profile(planted.audit_history, planted.live_event, planted.access_history, planted.access_live),
}
