"""Fault injection: the failures a collector meets between it and Zendesk.

One seeded draw per /api/v2 request decides the fault, so a failing run can be replayed
with the same FaultConfig.seed and the same request sequence. Socket-level faults
(reset, truncation) are only flagged here; the handler performs them because only it
owns the connection.
"""

from __future__ import annotations

import random
import socket
import struct
import threading
from dataclasses import dataclass

from zdlogs.simulator._config import FaultConfig
from zdlogs.simulator._http import HTML, TEXT, Response, json_response
from zdlogs.simulator._ratelimit import ACCOUNT_MESSAGE, retry_after_value

BAD_GATEWAY_HTML = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"
)


@dataclass(frozen=True)
class FaultDecision:
    """What to do to one request: an exclusive fault kind (or None) and a delay."""

    kind: str | None  # "error", "reset", "truncate", "rate_limit"
    delay: float
    status: int = 500  # for kind == "error"


class FaultInjector:
    """Draws faults from a seeded RNG and builds the faulty responses; thread-safe."""

    def __init__(self, config: FaultConfig) -> None:
        self._lock = threading.Lock()
        self.configure(config)

    def configure(self, config: FaultConfig) -> None:
        """Replace the fault mix and restart the RNG from config.seed."""
        with self._lock:
            self._config = config
            self._rng = random.Random(config.seed)

    @property
    def config(self) -> FaultConfig:
        return self._config

    def draw(self) -> FaultDecision:
        """Always consumes three numbers so the sequence does not depend on the rates."""
        with self._lock:
            cfg, roll, slow_roll = self._config, self._rng.random(), self._rng.random()
            status = self._rng.choice((500, 502, 503))
        delay = cfg.slow_seconds if slow_roll < cfg.slow_rate else 0.0
        kind = None
        for name, rate in (
            ("error", cfg.error_rate),
            ("reset", cfg.reset_rate),
            ("truncate", cfg.truncate_rate),
            ("rate_limit", cfg.rate_limit_rate),
        ):
            if roll < rate:
                kind = name
                break
            roll -= rate
        return FaultDecision(kind, delay, status)

    def retry_after(self, seconds: int, now: float) -> str:
        """Retry-After in the form the current FaultConfig asks for (used on every 429)."""
        with self._lock:
            return retry_after_value(seconds, self._config.retry_after, now, self._rng)

    def error_response(self, status: int, now: float) -> Response:
        """A server-side failure as clients see it: JSON 500, proxy HTML 502, plain 503."""
        if status == 502:
            return Response(502, BAD_GATEWAY_HTML.encode(), HTML)
        if status == 503:
            wait = self.retry_after(self._config.retry_after_seconds, now)
            return Response(503, b"Service Unavailable", TEXT, [("Retry-After", wait)])
        return json_response(500, {"error": "InternalError", "description": "Something went wrong"})

    def spurious_rate_limit(self, now: float) -> Response:
        """A 429 the client did not earn (another integration used the shared budget)."""
        wait = self.retry_after(self._config.retry_after_seconds, now)
        return Response(429, ACCOUNT_MESSAGE.encode(), TEXT, [("Retry-After", wait)])


def abort_with_reset(sock: socket.socket) -> None:
    """Make the next close send RST instead of FIN: SO_LINGER on with a zero timeout."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
