"""`Simulator`: lifecycle of the fake Zendesk (bind, serve, live appends, stop).

The socket is bound in the constructor so `url` is known before any data is generated:
record and link URLs embed it, exactly as Zendesk embeds the account's own host.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from types import TracebackType

from zdlogs.simulator._config import FaultConfig, SimConfig
from zdlogs.simulator._server import SimApp, make_server
from zdlogs.simulator._tamper import Change


class Simulator:
    """A seeded fake Zendesk account served over real HTTP on `host:port` (0 = any free port)."""

    def __init__(self, config: SimConfig | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config or SimConfig()
        self._server = make_server(host, port)
        bound_host, bound_port = self._server.server_address[:2]
        host_text = bound_host.decode() if isinstance(bound_host, bytes) else str(bound_host)
        self.url = f"http://{host_text}:{bound_port}"
        self._app = SimApp(self.config, self.url)
        self._server.app = self._app
        self._serve_thread: threading.Thread | None = None
        self._append_thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._serving = False
        self._closed = False
        self._close_lock = threading.Lock()

    # ------------------------------------------------------------ lifecycle

    def start(self) -> Simulator:
        """Serve in a daemon thread; returns self so `sim = Simulator(cfg).start()` reads well."""
        if self._serve_thread is None and not self._serving:
            self._serving = True
            self._serve_thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="zdlogs-sim", daemon=True
            )
            self._serve_thread.start()
            self._start_appender()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until Ctrl-C or stop() (for `zdlogs simulate`)."""
        self._serving = True
        self._start_appender()
        try:
            self._server.serve_forever(poll_interval=0.2)
        except KeyboardInterrupt:
            pass
        finally:
            self._close()

    def stop(self) -> None:
        """Stop serving, cut open keep-alive connections and release the port. Idempotent."""
        if self._serving and not self._closed:
            self._server.shutdown()  # returns once the serve loop has exited
        if self._serve_thread is not None:
            self._serve_thread.join()
            self._serve_thread = None
        self._close()

    def _close(self) -> None:
        self._stopping.set()
        with self._close_lock:
            if self._append_thread is not None:
                self._append_thread.join()
                self._append_thread = None
            if not self._closed:
                self._closed = True
                self._server.close_connections()
                self._server.server_close()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _start_appender(self) -> None:
        if self.config.append_interval > 0 and self._append_thread is None:
            self._append_thread = threading.Thread(target=self._append_loop, name="zdlogs-sim-append", daemon=True)
            self._append_thread.start()

    def _append_loop(self) -> None:
        """New activity while a collector runs: it must pick up records added mid-walk."""
        while not self._stopping.wait(self.config.append_interval):
            self._app.account.append_audit_logs(self.config.append_batch)
            self._app.account.update_tickets(self.config.append_batch)
            self._app.account.append_access_logs(self.config.append_batch)

    # ------------------------------------------------------------ data and knobs

    def append_audit_logs(self, n: int, created_at: datetime | None = None) -> list[dict]:
        """Add n audit records all stamped `created_at` (default now; naive = UTC)."""
        return self._app.account.append_audit_logs(n, _epoch(created_at))

    def append_access_logs(self, n: int, created_at: datetime | None = None) -> list[dict]:
        """Add n access-log records all in the second `created_at` (default now; naive = UTC)."""
        return self._app.account.append_access_logs(n, _epoch(created_at))

    def create_tickets(self, n: int) -> list[dict]:
        """New tickets created now; each also writes a ticket event."""
        return self._app.account.create_tickets(n)

    def update_tickets(self, n: int) -> list[dict]:
        """Update up to n open (not closed/deleted) tickets to a new version stamped now (and an event each)."""
        return self._app.account.update_tickets(n)

    def create_users(self, n: int) -> list[dict]:
        """New end users created now."""
        return self._app.account.create_users(n)

    def update_users(self, n: int) -> list[dict]:
        """Change up to n users (role, suspension or organization) to a new version stamped now."""
        return self._app.account.update_users(n)

    def create_organizations(self, n: int) -> list[dict]:
        return self._app.account.create_organizations(n)

    def update_organizations(self, n: int) -> list[dict]:
        """Edit up to n organizations to a new version stamped now."""
        return self._app.account.update_organizations(n)

    def set_faults(self, faults: FaultConfig) -> None:
        self._app.faults.configure(faults)

    def tamper(self, pattern: str, change: Change, times: int | None = None) -> None:
        """Rewrite 200 answers on paths matching ``pattern`` (regex): see ``_tamper`` for what ``change`` gets."""
        self._app.tampering.add(pattern, change, times)

    def clear_tampering(self) -> None:
        self._app.tampering.clear()

    def truth(self) -> dict:
        return self._app.account.truth()

    def planted(self) -> dict[str, list[int | str]]:
        """Detection rule id -> the ids of the records planted to fire it (the detections profile)."""
        return self._app.account.planted()

    def stats(self) -> dict:
        return self._app.stats.snapshot()

    def reset_stats(self) -> None:
        self._app.stats.reset()


def _epoch(moment: datetime | None) -> int | None:
    if moment is None:
        return None
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())
