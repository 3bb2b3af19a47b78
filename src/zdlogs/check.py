"""``zdlogs check``: before the first run (or after a change), whether a run would work, without collecting.

It makes the fewest requests that answer the questions a first run meets one failure at a time: Zendesk
reachable and the credentials accepted (``GET /api/v2/users/me``), then for each selected stream the one
cheap request a run starts with, cut to one record, whose answer shows whether the plan, the add-on, the
OAuth scope and the role allow it; then the output: writable, its run lease free to take. Nothing it writes
stays: a directory is probed with a temp file its store removes, a bucket by taking the lease (an object
created, then deleted); a directory that does not exist yet is not created. Each line that is not fine says
the fix, in the words of the error a run would meet (``zdlogs.errors``); the exit code is the one ``zdlogs run``
would give: 2 settings, 3 credentials, 4 a stream refused, 5 storage.
"""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from zdlogs.config import Settings, env_name
from zdlogs.destinations import open_destination, open_state_store
from zdlogs.errors import AuthError, ConfigError, StorageError, ZdlogsError
from zdlogs.pipeline import run_owner
from zdlogs.stores import is_local
from zdlogs.stores.local import LocalStore, lease_holder
from zdlogs.streams import STREAMS, WindowedStream
from zdlogs.streams.cursor_export import CursorExport
from zdlogs.streams.time_export import TimeExport
from zdlogs.times import iso_z, utc_now
from zdlogs.zendesk.client import ZendeskClient

PROBE_AGE_SECONDS = 3600  # an export's start_time this far back: Zendesk wants it at least a minute old
STREAM_REFUSED = 4  # run's exit code when some streams failed (PartialFailure)
SCOPES = {  # the scope that lets an OAuth token read each stream (the global read covers them all)
    "audit_logs": "auditlogs:read",
    "incremental_tickets": "tickets:read",
    "ticket_events": "tickets:read",
    "users": "users:read",
    "organizations": "organizations:read",
}


@dataclass(frozen=True)
class Line:
    """One thing checked: fine or not, what was seen or the fix, and the exit code it costs when not fine."""

    check: str
    ok: bool
    detail: str
    warning: bool = False
    exit_code: int = 0


@dataclass
class Report:
    """Every line checked, and the requests made to Zendesk to check them."""

    lines: list[Line] = field(default_factory=list)
    requests: int = 0

    def add(self, line: Line) -> None:
        self.lines.append(line)

    @property
    def exit_code(self) -> int:
        """``run``'s code for the worst line: credentials (3) before storage (5) before a refused stream (4)."""
        codes = {line.exit_code for line in self.lines if not line.ok}
        return next((code for code in (2, 3, 5, STREAM_REFUSED, 1) if code in codes), 0)

    def verdict(self) -> str:
        """The one line the CLI ends with when something is not fine."""
        failed = [line.check for line in self.lines if not line.ok]
        return f"{len(failed)} check(s) not ok: {', '.join(failed)}; each line above says the fix"


def check(settings: Settings) -> Report:
    """Zendesk, the credentials, each selected stream, then the output and its lease."""
    report = Report()
    settings.require_zendesk()
    what = f"{settings.auth_mode} auth, streams {', '.join(settings.resources)}, output {settings.output}"
    report.add(Line("settings", True, what))
    check_zendesk(settings, report)
    check_output(settings, report)
    return report


# ------------------------------------------------------------------ Zendesk


def check_zendesk(settings: Settings, report: Report) -> None:
    """Credentials first: when Zendesk refuses them, every stream would be refused the same way (not asked)."""
    client = ZendeskClient(settings)
    try:
        if _credentials(client, settings, report):
            for name in settings.resources:
                report.add(_stream_line(client, settings, name))
    finally:
        report.requests = client.stats.get("requests", 0)
        client.close()


def _credentials(client: ZendeskClient, settings: Settings, report: Report) -> bool:
    """``GET /api/v2/users/me``: Zendesk reached, the credentials accepted, and who they are (an admin?)."""
    try:
        me = client.get_json("/api/v2/users/me.json").get("user") or {}
    except ZdlogsError as exc:
        code = exc.exit_code if isinstance(exc, AuthError | ConfigError) else 1
        report.add(Line("credentials" if isinstance(exc, AuthError) else "zendesk", False, str(exc), exit_code=code))
        return False
    role = str(me.get("role") or "unknown")
    user = f"{me.get('email') or me.get('name') or 'user ' + str(me.get('id'))} ({role})"
    report.add(Line("zendesk", True, f"{settings.base_url} answered"))
    if role != "admin":
        fix = "the audit log, the access log and the exports need an admin: use an admin's credentials"
        report.add(Line("credentials", True, f"accepted: {user}; {fix}", warning=True))
    else:
        report.add(Line("credentials", True, f"accepted: {user}"))
    return True


def _stream_line(client: ZendeskClient, settings: Settings, name: str) -> Line:
    """The stream's first request cut to one record: allowed, or refused with the fix."""
    try:
        client.get_json(*_probe(name, settings))
    except ZdlogsError as exc:
        code = exc.exit_code if isinstance(exc, AuthError | ConfigError) else STREAM_REFUSED
        return Line(name, False, _with_scope_fix(str(exc), name, settings), exit_code=code)
    return Line(name, True, "allowed")


def _probe(name: str, settings: Settings) -> tuple[str, dict[str, Any], str]:
    """Path, parameters and rate-limit family of the stream's cheapest request: a time window of one second
    and one record (audit and access logs), or an export from an hour ago with ``per_page=1``."""
    stream = STREAMS[name]()
    now = utc_now().replace(microsecond=0) - timedelta(seconds=settings.settle_seconds)
    if isinstance(stream, WindowedStream):
        params = stream.window_params(iso_z(now - timedelta(seconds=1)), iso_z(now), 1)
        return stream.path, params, stream.family
    assert isinstance(stream, CursorExport | TimeExport), f"{name}: no probe for this kind of stream"
    start = int((now - timedelta(seconds=PROBE_AGE_SECONDS)).timestamp())
    return stream.path, {"start_time": start, "per_page": 1}, "incremental"


def _with_scope_fix(message: str, name: str, settings: Settings) -> str:
    """With OAuth a 403 may also be a scope the token was not granted: say which scope would allow it."""
    if settings.auth_mode != "oauth" or "HTTP 403" not in message or name not in SCOPES:
        return message
    asked = settings.oauth_scopes or "(none)"
    return f"{message}; with OAuth, {env_name('oauth_scopes')} ({asked}) needs {SCOPES[name]} or read"


# ------------------------------------------------------------------ the output


def check_output(settings: Settings, report: Report) -> None:
    """Writable, and its lease free: one line each (a storage failure is run's exit 5, a setting's 2)."""
    state_url = settings.secops_state if settings.output.startswith("secops://") else settings.output
    try:
        if is_local(state_url) and not _local_root(state_url).exists():
            _not_created_yet(_local_root(state_url), report)
        elif is_local(state_url):
            _local_output(settings, report)
        else:
            _bucket_output(settings, report)
        if settings.output.startswith("secops://"):
            _secops(settings, report)
    except ZdlogsError as exc:
        code = exc.exit_code if isinstance(exc, ConfigError | StorageError) else 5
        report.add(Line("output", False, str(exc), exit_code=code))


def _local_root(url: str) -> Path:
    return Path(url.removeprefix("file://")).expanduser().resolve()


def _not_created_yet(root: Path, report: Report) -> None:
    """A directory the first run will create: a temp directory made and removed in its nearest existing parent
    proves it can be (``os.access`` would not: root passes it even where nothing can be created, /proc)."""
    parent = next(folder for folder in root.parents if folder.exists())
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".zdlogs-check-", dir=parent))
    except OSError as exc:
        fix = f"choose another output or let this user write in {parent}"
        raise ConfigError(f"output directory {root} is not writable ({exc.strerror}): {fix}") from None
    report.add(Line("output", True, f"{root} does not exist yet: the first run creates it in {parent}"))
    report.add(Line("lease", True, "free (no run has used this output yet)"))


def _local_output(settings: Settings, report: Report) -> None:
    """Opening the store writes and removes a temp file in it; the lease is an flock, tried without writing."""
    store = open_state_store(settings)
    assert isinstance(store, LocalStore)
    report.add(Line("output", True, f"{store.url} is writable"))
    holder = lease_holder(store.root / (settings.state_key + ".lease"))
    report.add(_lease_line(None if holder is None else f"{holder.owner} since {holder.since}"))


def _bucket_output(settings: Settings, report: Report) -> None:
    """Taking the lease creates its object (so the bucket is writable) and releasing it deletes it."""
    store = open_state_store(settings)
    with store.lease(settings.state_key + ".lease", f"zdlogs check {run_owner()}") as lease:
        if lease.acquired:
            report.add(Line("output", True, f"{store.url} is writable (the lease object was created, then removed)"))
            report.add(_lease_line(None))
            return
    report.add(Line("output", True, f"{store.url} answers (not written: another run holds the lease)"))
    report.add(_lease_line(f"{lease.owner} since {lease.since}, until {lease.expires or 'its process ends'}"))


def _lease_line(held_by: str | None) -> Line:
    if held_by is None:
        return Line("lease", True, "free: taken and released")
    note = "a run is collecting (a run started now would exit 0 and collect nothing); fine unless it never ends"
    return Line("lease", True, f"held by {held_by}: {note}", warning=True)


def _secops(settings: Settings, report: Report) -> None:
    """Opening the SecOps destination gets a Google access token: the credentials work (nothing is sent)."""
    destination = open_destination(settings, open_state_store(settings))
    close = getattr(destination, "close", None)
    if callable(close):
        close()
    report.add(Line("secops", True, f"{settings.output}: Google credentials accepted (nothing sent)"))


# ------------------------------------------------------------------ rendering


def render_table(report: Report, width: int = 80) -> str:
    """The lines as a table ``width`` columns wide; a long detail wraps (never cut)."""
    requests = f"{report.requests} request{'' if report.requests == 1 else 's'}"
    table = Table(title=f"zdlogs check ({requests} to Zendesk)", expand=False)
    table.add_column("check", no_wrap=True)
    table.add_column("result", no_wrap=True)
    table.add_column("detail / fix", overflow="fold")
    for line in report.lines:
        result = "not ok" if not line.ok else ("ok (!)" if line.warning else "ok")
        table.add_row(line.check, result, line.detail)
    buffer = io.StringIO()
    Console(file=buffer, width=width, no_color=True, highlight=False).print(table)
    return buffer.getvalue().rstrip("\n")


def render_json(report: Report) -> str:
    """The report for scripts: every line, the request count, the exit code."""
    doc = {
        "ok": report.exit_code == 0,
        "exit_code": report.exit_code,
        "requests": report.requests,
        "checks": [asdict(line) for line in report.lines],
    }
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode()
