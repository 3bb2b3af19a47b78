"""Tampering: rewrite real responses on their way out, to play Zendesk misbehaving in one precise way.

Faults (``_faults``) stand for a degraded network; tampering stands for a Zendesk that answers, but
wrongly: a body that is not JSON, a field of the wrong type, ids out of order, a cursor that repeats,
a link to another host, a redirect. Tests register a change for a path pattern; the change receives
the parsed JSON body of a 200 answer and returns a new body (dict), raw bytes, or a whole Response.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

import orjson

from zdlogs.simulator._http import Response

Change = Callable[[dict], "dict | bytes | Response"]


@dataclass
class _Rule:
    pattern: re.Pattern[str]
    change: Change
    remaining: int | None  # None = every matching response


class Tampering:
    """Thread-safe list of rules, applied in registration order; the first matching rule wins."""

    def __init__(self) -> None:
        self._rules: list[_Rule] = []
        self._lock = threading.Lock()

    def add(self, pattern: str, change: Change, times: int | None = None) -> None:
        with self._lock:
            self._rules.append(_Rule(re.compile(pattern), change, times))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def apply(self, path: str, response: Response) -> Response:
        if response.status != 200 or response.reset:
            return response
        rule = self._take(path)
        if rule is None:
            return response
        changed = rule.change(orjson.loads(response.body))
        if isinstance(changed, Response):
            return changed
        response.body = changed if isinstance(changed, bytes) else orjson.dumps(changed)
        return response

    def _take(self, path: str) -> _Rule | None:
        with self._lock:
            for rule in self._rules:
                if rule.pattern.search(path) and rule.remaining != 0:
                    if rule.remaining is not None:
                        rule.remaining -= 1
                    return rule
        return None
