"""Command line: parse, call; errors map to exit codes once, in the root command. No collection logic lives here.

Exit codes: 0 success (also: another run holds the lease), 1 failure, 2 bad configuration,
3 authentication failed, 4 some streams failed, 5 storage failure, 6 ``zdlogs status``: a stream lags more than
--max-lag, was never collected or its last run failed, 130 interrupted (Ctrl-C, SIGINT), 143 stopped by SIGTERM
(what Cloud Run, systemd and Kubernetes send).
"""

from __future__ import annotations

import errno
import inspect
import os
import signal
import sys
import threading
import traceback
import typing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import structlog
import typer
from typer.core import TyperCommand, TyperGroup

from zdlogs import logs
from zdlogs._version import __version__
from zdlogs.analysis.cli import export_app, report_app
from zdlogs.config import (
    DEFAULT_DATA_PREFIX,
    DEFAULT_OUTPUT,
    SettingInfo,
    Settings,
    env_name,
    load_settings,
    parse_resources,
    setting_info,
    settings_infos,
)
from zdlogs.declare import NOT_READ, NOT_SET, secret_twins
from zdlogs.detections.cli import detect_app
from zdlogs.errors import ConfigError, ZdlogsError
from zdlogs.pipeline import RunSummary, run
from zdlogs.progress import Stop
from zdlogs.times import iso_z, parse_utc

if TYPE_CHECKING:
    from zdlogs.fleet import TenantResult
    from zdlogs.simulator import SimConfig, Simulator, SimulatorFleet

Command = TypeVar("Command", bound=Callable[..., Any])
Opt = typer.Option
log = structlog.get_logger("zdlogs.cli")
INTERRUPTED = "interrupted; checkpoints cover everything stored so far"
LOG_FORMATS = ("auto", "json", "console")


@dataclass(frozen=True)
class CliOptions:
    """The global flags, kept in the click context (``ctx.obj``) where every command and the error mapping
    find them: no module state, so in-process runs (tests) do not leak one invocation's flags into the next."""

    debug: bool = False
    log_format: str = "auto"


def cli_options(ctx: typer.Context) -> CliOptions:
    """The global flags of this invocation (the defaults before the root callback has run)."""
    return ctx.obj if isinstance(ctx.obj, CliOptions) else CliOptions()


class ZdlogsGroup(TyperGroup):
    """The root command: every command's errors, analysis ones included, pass here on their way out, so a
    ZdlogsError becomes its exit code and one redacted line in one place (click's way: catch once, exit)."""

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]  # typer gives its commands a typer.Context
        try:
            return super().invoke(ctx)
        except ZdlogsError as exc:
            if cli_options(ctx).debug:
                typer.echo(logs.redact(traceback.format_exc()), err=True)
            _exit(f"error: {logs.redact(str(exc))}", exc.exit_code)
        except KeyboardInterrupt:
            _exit(INTERRUPTED, 130)


def _exit(message: str, code: int) -> NoReturn:
    typer.echo(f"zdlogs: {message}", err=True)
    raise typer.Exit(code) from None


app = typer.Typer(
    cls=ZdlogsGroup,
    help="Collect Zendesk's audit log and ticket changes into NDJSON, safely and incrementally.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,  # click's plain help everywhere: flags shown as flags (rich's prints <bool>), nothing cut
)


def main() -> None:
    app()


def _print_version(value: bool) -> None:
    """Eager: it runs while the options are parsed, so ``zdlogs --version`` needs no command."""
    if value:
        typer.echo(f"zdlogs {__version__}")
        raise typer.Exit(0)


@app.callback()
def _global(
    ctx: typer.Context,
    debug: Annotated[bool, Opt("--debug", help="Show tracebacks and debug logs (secrets stay redacted).")] = False,
    log_format: Annotated[
        str, Opt("--log-format", help="auto (console on a terminal, JSON otherwise), json, console.")
    ] = "auto",
    version: Annotated[
        bool, Opt("--version", help="Print the version and exit.", callback=_print_version, is_eager=True)
    ] = False,
) -> None:
    log_format = _log_format(log_format)
    ctx.obj = CliOptions(debug=debug, log_format=log_format)
    logs.configure(log_format, debug)


def _log_format(value: str) -> str:
    """One of LOG_FORMATS in any case (``JSON``); anything else is refused rather than read as console."""
    fmt = value.strip().lower()
    if fmt not in LOG_FORMATS:
        raise ConfigError(f"--log-format {value!r} is not a log format: use {', '.join(LOG_FORMATS[:-1])} or console")
    return fmt


# ------------------------------------------------------------------ options generated from the settings


def settings_options(*fields: str) -> Callable[[Command], Command]:
    """Give ``command`` one option per setting that has a flag (or per named field), generated from the
    ``Settings`` fields: flags, env names and default in the help, all from the one declaration. The
    command gets them as keyword arguments, None when not given (the environment or the default applies).
    Named fields come with ``--config``: every command that reads settings reads them from the same file."""

    def decorate(command: Command) -> Command:
        named = dict.fromkeys(("config_file", *fields))
        infos = [setting_info(name) for name in named] if fields else settings_infos()
        own = [p for p in inspect.signature(command, eval_str=True).parameters.values() if p.kind is not p.VAR_KEYWORD]
        options = [_option(info) for info in infos if info.flags]
        command.__signature__ = inspect.Signature([*own, *options])  # type: ignore[attr-defined]
        return command

    return decorate


def _option(info: SettingInfo) -> inspect.Parameter:
    annotation = Settings.model_fields[info.field].annotation
    kind = _option_type(annotation)
    flags = (f"{info.flags[0]}/--no-{info.flags[0][2:]}",) if kind is bool else info.flags
    option = typer.Option(
        None, *flags, help=_help(info), show_default=False, metavar=_metavar(info.field, annotation), callback=_given
    )
    return inspect.Parameter(info.field, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=kind)


def _option_type(annotation: Any) -> Any:
    """bool, int or float for fields of those types (optional ones included), a list of str for list fields (the
    flag may be repeated: ``--resources a --resources b`` is both), else str: pydantic parses the rest."""
    if typing.get_origin(annotation) is list:
        return list[str]
    for kind in (bool, int, float):
        if annotation is kind or kind in typing.get_args(annotation):
            return kind
    return str


def _metavar(field: str, annotation: Any) -> str | None:
    """``token|bearer|oauth`` for a choice, ``NAME[,NAME...]`` for a list, ``FILE`` for a file; typer's own for
    the rest."""
    if field.endswith("_file"):
        return "FILE"
    if typing.get_origin(annotation) is typing.Literal:
        return "|".join(map(str, typing.get_args(annotation)))
    return "NAME[,NAME...]" if typing.get_origin(annotation) is list else None


def _given(value: Any) -> Any:
    """None when the flag was not given (a repeatable flag not given arrives as an empty list)."""
    return None if value == [] or value == () else value


def _help(info: SettingInfo) -> str:
    """The help, then where else the setting comes from and its default: ``[MAX_PAGES, default 20]``."""
    return f"{info.help} [{' or '.join(info.env)}{_default(info)}]"


def _default(info: SettingInfo) -> str:
    return "" if info.default == NOT_SET else f", default {info.default}"


# ------------------------------------------------------------------ run


class SettingsCommand(TyperCommand):
    """A command with options generated from the settings: its help is click's plain layout, which keeps every
    flag and env name whole at 80 columns (rich's table cut 18 of them), and ends with the settings that are
    read from the environment only."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["rich_markup_mode"] = None
        kwargs["epilog"] = kwargs.get("epilog") or _env_only_settings()
        super().__init__(*args, **kwargs)


def _env_only_settings() -> str:
    """The settings without a flag, for the end of the help: ``Read from the environment only: GCS_BUCKET ...``."""
    described = [f"{info.env[0]} ({info.help}{_default(info)})" for info in settings_infos() if not info.flags]
    return "Read from the environment only: " + "; ".join(described) + "."


@app.command("run", cls=SettingsCommand)
@settings_options()
def run_command(
    ctx: typer.Context,
    tenant: Annotated[
        list[str] | None, Opt("--tenant", help="With a fleet's --config: collect this tenant (repeatable)")
    ] = None,
    shard: Annotated[
        str | None,
        Opt(help="With a fleet: the tenants of shard I/N (position in name order modulo N), or auto / auto/N"),
    ] = None,
    parallel: Annotated[int, Opt(help="With a fleet: tenants collected at once in this process", min=1)] = 1,
    detect: Annotated[
        bool, Opt("--detect", help="After the run, log each new finding of the detection rules (docs/DETECTIONS.md)")
    ] = False,
    **flags: Any,
) -> None:
    """Collect every configured stream once (what the Cloud Run function does each hour); with a fleet's config
    file (tenants:), every tenant's (docs/FLEET.md)."""
    fleet_path = fleet_file(flags)
    if fleet_path is not None:
        if detect:
            raise ConfigError("--detect with a fleet: run `zdlogs detect --config FILE --tenant NAME` per tenant")
        run_fleet(ctx, fleet_path, tenant or [], shard, parallel, flags)
        return
    if tenant or shard:
        raise ConfigError(f"{'--tenant' if tenant else '--shard'} needs a fleet: a --config file with tenants:")
    settings = load_settings(**flags)
    logs.protect(settings)
    settings.require_zendesk()
    after = _detect_after_run(settings) if detect else None
    stop, options = Stop(), cli_options(ctx)
    from zdlogs import live  # rich's progress display: imported by a run, not by every command

    with stop_on_signals(stop), live.shown(options.log_format, options.debug) as observer:
        summary = run(settings, stop=stop, observer=observer)  # the live progress is gone before the summary
    print_summary(summary)
    if summary.interrupted:
        _exit(summary.interruption(), stop.exit_code)
    if after is not None:
        from zdlogs.detections.after_run import log_new_findings

        log_new_findings(after)


def _detect_after_run(settings: Settings) -> Any:
    """``--detect``'s rules, tuning and output checked before collecting (a bad setting costs no run)."""
    from zdlogs.detections.after_run import prepare

    return prepare(settings)


def fleet_file(flags: dict[str, Any]) -> Path | None:
    """The config file (``--config`` or ``ZDLOGS_CONFIG``) when it is a fleet's, else None."""
    from zdlogs.config_file import config_path, is_fleet_file

    path = config_path({key: value for key, value in flags.items() if value is not None})
    return path if path is not None and path.is_file() and is_fleet_file(path) else None


def run_fleet(
    ctx: typer.Context, path: Path, names: list[str], shard: str | None, parallel: int, flags: dict[str, Any]
) -> None:
    """Every chosen tenant collected, ``parallel`` at a time; the exit code summarises (0, 4 some, 1 all)."""
    from zdlogs.config_file import read_yaml
    from zdlogs.fleet import chosen, collect_fleet, fleet_failure, load_fleet

    own = {key: value for key, value in flags.items() if key != "config_file"}
    fleet = load_fleet(path, read_yaml(path), own)
    picked = chosen(fleet, names, shard)
    log.info("fleet_run", config=str(path), tenants=picked, of=len(fleet.tenants), parallel=parallel)
    stop = Stop()
    with stop_on_signals(stop):
        results = collect_fleet(fleet, picked, parallel=parallel, stop=stop)
    print_fleet_summary(results)
    if stop.is_set():
        _exit(f"interrupted by {stop.reason}: what each tenant stored is checkpointed", stop.exit_code)
    failure = fleet_failure(results)
    if failure is not None:
        raise failure


def print_fleet_summary(results: list[TenantResult]) -> None:
    """One ``fleet_summary`` log line; on a terminal a table of tenants by streams."""
    log.info("fleet_summary", tenants={r.tenant: r.problem() or "ok" for r in results})
    if not sys.stdout.isatty():
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"zdlogs run: {len(results)} tenants")
    for column in ("tenant", "stream", "status", "records", "requests", "429s", "error"):
        table.add_column(column, justify="right" if column in ("records", "requests", "429s") else "left")
    for result in results:
        streams = result.summary.streams if result.summary else []
        if not streams:
            table.add_row(result.tenant, "—", "failed" if result.error else "ok", "0", "0", "0", result.error)
        for item in streams:
            counts = (f"{item.records:,}", f"{item.requests:,}", f"{item.rate_limited:,}")
            table.add_row(result.tenant, item.stream, item.status, *counts, item.error)
    Console().print(table)


@contextmanager
def stop_on_signals(stop: Stop) -> Iterator[None]:
    """The first SIGINT (Ctrl-C) or SIGTERM says "stopping…" at once and asks ``stop``: no new request, every
    wait ends, what is stored is committed, and the run ends within seconds (exit 130 / 143). A second one ends
    the process at once: the state is then what a kill leaves, which the next run settles."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return

    def handle(signum: int, _frame: object) -> None:
        name = signal.Signals(signum).name
        if stop.is_set():
            _say_now(f"zdlogs: {name} again: stopping now; the next run settles the page that was being stored")
            os._exit(128 + signum)
        _say_now(f"zdlogs: stopping… ({name}): no new request; committing what is stored")
        stop.request(name, 128 + signum)
        if stop.interrupt_now:  # the main thread is waiting on Zendesk: end that wait at once
            raise stop.error()

    previous = {number: signal.signal(number, handle) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _say_now(line: str) -> None:
    """One line on stderr from a signal handler: unbuffered, so it cannot meet a write it interrupted."""
    try:
        os.write(sys.stderr.fileno(), f"{line}\n".encode())
    except (AttributeError, OSError, ValueError):  # a stderr without a file (tests capturing it)
        sys.stderr.write(f"{line}\n")
        sys.stderr.flush()


def print_summary(summary: RunSummary) -> None:
    """A table on a terminal; always one structured ``run_summary`` log line."""
    stopped = {"interrupted": summary.interrupted} if summary.interrupted else {}
    log.info("run_summary", output=summary.output, **stopped, streams=[item.__dict__ for item in summary.streams])
    if summary.lease_holder:
        typer.echo(f"Another run ({summary.lease_holder}) holds the lease on {summary.output}: nothing to do.")
        return
    if not sys.stdout.isatty():
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"zdlogs run → {summary.output}")
    for column in ("stream", "status", "records", "pages", "objects", "requests", "429s", "retries", "seconds"):
        table.add_column(column, justify="left" if column in ("stream", "status") else "right")
    for item in summary.streams:
        table.add_row(
            item.stream,
            item.status,
            *map(
                str,
                (item.records, item.pages, item.objects, item.requests, item.rate_limited, item.retries, item.seconds),
            ),
        )
    Console().print(table)


STATUS_FORMATS = ("table", "json")


@app.command("status")
@settings_options("output", "state_key", "resources", "secops_state", "storage_timeout")
def status_command(
    output_format: Annotated[
        str, Opt("--format", help="table, or json (stable, for monitoring: docs/STATUS.md)", metavar="table|json")
    ] = "table",
    max_lag: Annotated[
        str | None,
        Opt("--max-lag", help="Exit 6 when a stream lags more than this (2h, 90m, 1d); unset: lag alone is fine"),
    ] = None,
    tenant: Annotated[
        list[str] | None, Opt("--tenant", help="With a fleet's --config: this tenant's streams (repeatable)")
    ] = None,
    **flags: Any,
) -> None:
    """Per stream: the last run, how far it is collected, its lag, pending entries; the lease. Writes nothing.

    Exit 0 when every configured stream is fine, 6 when one was never collected, its last run failed, or it lags
    more than --max-lag. With a fleet's --config, every tenant's (or --tenant's)."""
    from zdlogs.analysis.times import parse_duration
    from zdlogs.errors import NeedsAttention
    from zdlogs.status import read_status, render_json, render_table

    fmt = output_format.strip().lower()
    if fmt not in STATUS_FORMATS:
        raise ConfigError(f"--format {output_format!r} is not a status format: use table or json")
    limit = parse_duration(max_lag, "--max-lag") if max_lag is not None else None
    fleet_path = fleet_file(flags)
    if fleet_path is not None:
        fleet_status(fleet_path, tenant or [], limit, fmt, flags)
        return
    if tenant:
        raise ConfigError("--tenant needs a fleet: a --config file with tenants:")
    settings = load_settings(**flags, **_no_credentials())
    status = read_status(settings, limit)
    typer.echo(render_json(status) if fmt == "json" else render_table(status))
    if not status.healthy:
        raise NeedsAttention(status.verdict())


def fleet_status(path: Path, names: list[str], limit: timedelta | None, fmt: str, flags: dict[str, Any]) -> None:
    """Every chosen tenant's status, read from its own output; exit 6 when one tenant needs attention."""
    from zdlogs.config_file import read_yaml
    from zdlogs.errors import NeedsAttention
    from zdlogs.fleet import chosen, load_fleet
    from zdlogs.status import fleet_verdict, read_status, render_fleet_json, render_fleet_table

    given = {key: value for key, value in flags.items() if key != "config_file"}
    fleet = load_fleet(path, read_yaml(path), given, credentials=False)  # the outputs only: no secret is read
    statuses = {name: read_status(fleet.tenants[name], limit) for name in chosen(fleet, names, None)}
    typer.echo(render_fleet_json(statuses) if fmt == "json" else render_fleet_table(statuses))
    if not all(status.healthy for status in statuses.values()):
        raise NeedsAttention(fleet_verdict(statuses))


def _no_credentials() -> dict[str, str]:
    """Settings that make a command read no credential, whatever the environment or a config file say: no Zendesk
    URL (so no credential is required) and each secret that has a ``_file`` twin given a value no request will
    ever carry, so its file is not read (a probe may run where the secrets are not mounted)."""
    return {"base_url": "", **dict.fromkeys(sorted(set(secret_twins(Settings).values())), NOT_READ)}


CHECK_FORMATS = ("table", "json")


@app.command("check", cls=SettingsCommand)
@settings_options()
def check_command(
    output_format: Annotated[str, Opt("--format", help="table, or json (for scripts)", metavar="table|json")] = "table",
    **flags: Any,
) -> None:
    """Whether a run would work, collecting nothing: the settings, Zendesk and the credentials, each stream's
    plan, add-on, scope and role (one request each), the output writable and its lease. Nothing written stays.

    Exit codes as run's: 0 all fine, 2 settings, 3 credentials, 4 a stream refused, 5 storage."""
    from zdlogs.check import check, render_json, render_table

    fmt = output_format.strip().lower()
    if fmt not in CHECK_FORMATS:
        raise ConfigError(f"--format {output_format!r} is not a check format: use table or json")
    settings = load_settings(**flags)
    logs.protect(settings)
    report = check(settings)
    typer.echo(render_json(report) if fmt == "json" else render_table(report))
    if report.exit_code:
        _exit(f"error: {report.verdict()}", report.exit_code)


secops_app = typer.Typer(
    help="Google SecOps: what the instance's own parser makes of zdlogs' lines (docs/SECOPS.md §7).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
_SECOPS_CHECK_SETTINGS = (
    "output",
    "data_prefix",
    "resources",
    "record_form",
    "secops_endpoint",
    "secops_api_version",
    "secops_log_type",
    "secops_log_types",
)


@secops_app.command("check", cls=SettingsCommand)
@settings_options(*_SECOPS_CHECK_SETTINGS)
def secops_check_command(
    instance: Annotated[
        str | None, Opt(help="secops://PROJECT/LOCATION/INSTANCE (default: --output when it is one)")
    ] = None,
    input_: Annotated[
        str | None, Opt("--input", help="Where zdlogs stored the streams: DIR, gs:// or s3:// (default: --output)")
    ] = None,
    sample: Annotated[Path | None, Opt(help="Check these lines (one stored line each) instead of --input")] = None,
    stream: Annotated[str, Opt(help="With --sample: the stream its lines are from")] = "audit_logs",
    output_format: Annotated[str, Opt("--format", help="table, or json (for scripts)", metavar="table|json")] = "table",
    **flags: Any,
) -> None:
    """Run the SecOps instance's active parser on one stored line of each stream, as a record and in its page
    envelope: the UDM fields it sets and the record's fields it leaves out. The first thing to run after set-up.

    Exit codes: 0 every stream's line parses in the form zdlogs writes, 7 one does not, 2 settings or credentials,
    5 SecOps refused (the message names the permission)."""
    from zdlogs.destinations.secops_check import (
        ParserApi,
        check_parsing,
        render_json,
        render_table,
        samples_from_file,
        samples_from_input,
    )

    fmt = output_format.strip().lower()
    if fmt not in CHECK_FORMATS:
        raise ConfigError(f"--format {output_format!r} is not a check format: use table or json")
    settings = load_settings(**flags, **_no_credentials())  # SecOps' credentials only: no Zendesk request
    target = instance or (settings.output if settings.output.startswith("secops://") else "")
    if not target:
        raise ConfigError(
            "name the SecOps instance: --instance secops://PROJECT/LOCATION/INSTANCE (SIEM Settings → Profile)"
        )
    if sample is not None:
        samples = samples_from_file(sample, stream)
    else:
        location = input_ or (settings.output if not settings.output.startswith("secops://") else "") or DEFAULT_OUTPUT
        samples = samples_from_input(location, settings.data_prefix, settings.resources)
    api = ParserApi(target, settings.secops_endpoint, settings.secops_api_version)
    try:
        log_types = settings.secops_stream_log_types()
        report = check_parsing(api, samples, lambda name: log_types[name], settings.record_form)
    finally:
        api.close()
    typer.echo(render_json(report) if fmt == "json" else render_table(report))
    report.raise_for_failures()


@app.command("import-state")
@settings_options("output", "state_key")
def import_state_command(
    source: Annotated[
        str,
        Opt(
            "--from", help=f"The original function's state file: a path or gs://BUCKET/{DEFAULT_DATA_PREFIX}state.json"
        ),
    ],
    audit_since: Annotated[
        str | None,
        Opt(
            help="Required: resume the audit log from here (UTC unless a zone is given): the start of the old "
            "function's last successful run minus 15 min (its state holds no time for the audit log)"
        ),
    ] = None,
    force: Annotated[bool, Opt("--force", help="Replace checkpoints zdlogs already has")] = False,
    **flags: Any,
) -> None:
    """Take over from the original Cloud Run function: reuse its ticket cursor, resume the audit log from a time."""
    from zdlogs.migrate import cleanup_advice, import_state, no_ticket_cursor_advice

    settings = load_settings(**flags)
    since = _parse_date("--audit-since", audit_since)
    imported = import_state(settings, source, since, force)
    for name, checkpoint in imported.items():
        typer.echo(f"{name}: resumes from {checkpoint}")
    if "incremental_tickets" not in imported:
        typer.echo(no_ticket_cursor_advice())
    typer.echo(cleanup_advice(source))


@app.command("reset")
@settings_options("output", "state_key", "secops_state")
def reset_command(
    stream: Annotated[
        list[str],
        Opt(
            "--stream", help="Stream to collect again (repeat it, or comma-separated, or all)", metavar="NAME[,NAME...]"
        ),
    ],
    since: Annotated[
        str, Opt("--since", help="Collect it again from this date or time (UTC unless a zone is given)", metavar="DATE")
    ],
    yes: Annotated[bool, Opt("--yes", "-y", help="Do it without asking (required without a terminal)")] = False,
    **flags: Any,
) -> None:
    """Collect streams again from a date: move their checkpoints back (the next run starts there)."""
    from zdlogs.reset import apply, open_state, plan, start_of

    settings = load_settings(**flags, **_no_credentials())  # it moves checkpoints: no request, no secret read
    names, start = _stream_names(stream), start_of(_required_date("--since", since))
    store, state = open_state(settings)
    typer.echo(f"On {store.url} ({settings.state_key}):")
    for rewind in plan(state, names, start):
        typer.echo(f"  {rewind.describe()}")
    _confirm_or_exit(yes, "Move these checkpoints back?")
    moved = apply(settings, store, names, start)
    typer.echo(f"Moved {len(moved)} checkpoint(s): the next zdlogs run collects them from {iso_z(start)}.")
    typer.echo(
        "Pages fetched again as they were stored are not written again (an object's name is its content); "
        "a page cut differently (an earlier run ended inside it) is a new object, its records stored twice."
    )


def _stream_names(given: list[str]) -> list[str]:
    """The streams named (any case, comma-separated or repeated, ``all``); none named is refused, not the default."""
    if not any(name.strip(" ,") for name in given):
        raise ConfigError("--stream is empty: name the stream(s) to collect again, e.g. --stream audit_logs")
    try:
        return parse_resources(given)
    except ValueError as exc:
        raise ConfigError(f"--stream: {exc}") from None


def _required_date(flag: str, value: str) -> datetime:
    parsed = _parse_date(flag, value)
    assert parsed is not None
    return parsed


def _confirm_or_exit(yes: bool, question: str) -> None:
    """Ask on the terminal unless ``--yes``; without a terminal, refuse rather than guess (a script says --yes)."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise ConfigError("no terminal to confirm on: nothing was changed; pass --yes to do it without asking")
    if not typer.confirm(question, default=False):
        _exit("nothing was changed", 1)


def _parse_date(flag: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_utc(value)
    except ValueError as exc:
        raise ConfigError(f"{flag}: {exc}") from None


# ------------------------------------------------------------------ the simulator and the demo

MAX_SIM_TENANTS = 1000
_TENANTS_HELP = (
    "Simulated accounts, one port each from --port up, each with its own seed (--seed, --seed + 1, ...) "
    f"and credentials; 1 to {MAX_SIM_TENANTS}"
)
_NOT_ACCOUNT = ("port", "host", "tenants", "fleet_output")
_PROFILE_HELP = (
    "default (the analysts' history, with a compromised admin's night) or detections (benign, with one "
    "planted incident per detection rule; their ids at /_sim/planted)"
)
_PLAN_HELP = (
    "team (200 requests/min), professional (400), enterprise (700) or enterprise_plus (2500); "
    "the audit log answers 403 below enterprise"
)


@app.command("simulate")
def simulate_command(
    port: Annotated[int, Opt(help="Port to listen on (0 = any free port); with --tenants the first of theirs")] = 8765,
    host: Annotated[str, Opt(help="Interface to bind")] = "127.0.0.1",
    tenants: Annotated[int, Opt(help=_TENANTS_HELP)] = 1,
    fleet_output: Annotated[
        Path | None, Opt("--fleet-file", help="Write the fleet config of the tenants here (else it is printed)")
    ] = None,
    seed: Annotated[int, Opt(help="Seed of the generated account")] = 42,
    audit_logs: Annotated[int, Opt(help="Audit-log records in the history")] = 5000,
    tickets: Annotated[int, Opt(help="Tickets in the history")] = 500,
    access_logs: Annotated[int, Opt(help="Access-log records in the history (the last 90 days are served)")] = 2000,
    users: Annotated[int, Opt(help="Users in the history")] = 300,
    organizations: Annotated[int, Opt(help="Organizations in the history")] = 50,
    access_log_addon: Annotated[
        bool, Opt("--access-log-addon/--no-access-log-addon", help="Without it the access log answers 403")
    ] = True,
    plan: Annotated[str, Opt(help=_PLAN_HELP)] = "enterprise",
    append_interval: Annotated[float, Opt(help="Append new records every N seconds (0 = never)")] = 0.0,
    incremental_limit: Annotated[int, Opt(help="Incremental-export requests per minute")] = 10,
    time_scale: Annotated[float, Opt(help="Simulated seconds per real second (rate windows shrink)")] = 1.0,
    profile: Annotated[str, Opt(help=_PROFILE_HELP)] = "default",
) -> None:
    """Serve the bundled fake Zendesk over HTTP on localhost (for trying zdlogs without an account); with
    --tenants N, N accounts from one process (a fleet to collect with zdlogs run --config)."""
    account = {name: value for name, value in locals().items() if name not in _NOT_ACCOUNT}  # before imports
    _check_simulate_ports(port, tenants)
    if tenants > 1 or fleet_output is not None:
        _simulate_fleet(_sim_config(**account), host, port, tenants, fleet_output)
        return
    sim = _bind_simulator(_sim_config(**account), host, port)
    _print_how_to_collect(sim)
    sim.serve_forever()


def _check_simulate_ports(port: int, tenants: int) -> None:
    """Refuse a tenant count or a port that cannot be served, before any data is generated: the tenants'
    ports run from --port up, so the last one must be a port too."""
    if not 1 <= tenants <= MAX_SIM_TENANTS:
        raise ConfigError(f"--tenants {tenants} is out of range: give a number of accounts from 1 to {MAX_SIM_TENANTS}")
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port {port} is not a port: give one from 0 to 65535 (0 = any free port)")
    if port and port + tenants - 1 > 65535:
        last = port + tenants - 1
        raise ConfigError(f"--port {port} --tenants {tenants} needs ports up to {last}: give a lower --port, or 0")


def _simulate_fleet(base: SimConfig, host: str, port: int, count: int, fleet_output: Path | None) -> None:
    """Bind every tenant (a port in use is the one-line error of one simulator), say how to collect from
    them, then serve until Ctrl-C."""
    from zdlogs.simulator import SimulatorFleet, fleet_configs

    fleet = SimulatorFleet(fleet_configs(base, count), host, port, bind=_bind_simulator)
    try:
        if fleet_output is not None:  # before any line: a path that cannot be written is then the only output
            _write_fleet_file(fleet, fleet_output)
        _print_fleet(fleet, fleet_output)
    except BaseException:
        fleet.stop()
        raise
    fleet.serve_forever()


def _print_fleet(fleet: SimulatorFleet, fleet_output: Path | None) -> None:
    """One line per tenant, then the fleet config (printed unless --fleet-file holds it) and how to collect."""
    typer.echo(f"{len(fleet.members)} Zendesk simulators (Ctrl-C to stop):")
    for name, sim in fleet.members:
        typer.echo(f"  {name}  {sim.url}  email {sim.config.email}  api token {sim.config.api_token}")
    if fleet_output is None:
        typer.echo("Their fleet config (save it as fleet.yaml):\n")
        typer.echo(fleet.fleet_yaml())
    else:
        typer.echo(f"Their fleet config is in {fleet_output}.")
    typer.echo("To collect from every tenant:")
    typer.echo(f"  zdlogs run --config {fleet_output or 'fleet.yaml'} --max-pages 1000")


def _write_fleet_file(fleet: SimulatorFleet, path: Path) -> None:
    """The fleet config at ``path``; a path that cannot be written is one line naming the flag."""
    try:
        fleet.fleet_yaml(path)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError(
            f"--fleet-file {path}: cannot write it ({reason}): give a path in a writable directory"
        ) from None


def _sim_config(*, access_log_addon: bool, plan: str, **account: Any) -> SimConfig:
    """The simulated account; the plan (any case) sets the account's rate limit. A value out of range is
    refused naming its flag, before any data is generated."""
    from zdlogs.simulator import SimConfig, SimConfigError, plan_limits

    try:
        account_limit = plan_limits(plan.lower())[0]
    except ValueError as exc:
        raise ConfigError(f"--plan: {exc}") from None
    try:
        return SimConfig(access_logs_addon=access_log_addon, plan=plan.lower(), account_limit=account_limit, **account)
    except SimConfigError as exc:
        flag = "--" + exc.field.replace("_", "-")
        raise ConfigError(f"{flag} {exc.value} is out of range: give a value {exc.rule}") from None


def _bind_simulator(config: SimConfig, host: str, port: int) -> Simulator:
    """The simulator listening on host:port; a port in use or a host that is not ours is one line with the fix."""
    from zdlogs.simulator import Simulator

    try:
        return Simulator(config, host=host, port=port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            fix = "another program (a zdlogs simulate still running?) listens there: stop it, or pass --port 0"
            raise ConfigError(f"cannot listen on {host}:{port}: {fix} (any free port) or another --port") from None
        reason = exc.strerror or str(exc)
        raise ConfigError(f"cannot listen on {host}:{port} ({reason}): pass another --host or --port") from None


def _print_how_to_collect(sim: Simulator) -> None:
    """The environment that points ``zdlogs run`` at the simulator, ready to paste."""
    from zdlogs.simulator import lookback_seconds

    config = sim.config
    env = {
        env_name("base_url"): sim.url,
        env_name("email"): config.email,
        env_name("api_token"): config.api_token,
        env_name("lookback_seconds"): lookback_seconds(config),
    }
    typer.echo(f"Zendesk simulator on {sim.url} (Ctrl-C to stop). To collect from it:")
    typer.echo("  export " + " ".join(f"{name}={value}" for name, value in env.items()))
    typer.echo("  zdlogs run --max-pages 1000   # add --resources audit_logs,access_logs,users,... for more streams")


@app.command("demo")
def demo_command(
    ctx: typer.Context,
    output: Annotated[
        str, Opt("--output", "-o", help="Where the demo writes (replaced on each demo)")
    ] = "./zendesk-demo",
    audit_logs: Annotated[int, Opt(help="Audit-log records in the simulated history")] = 3000,
    tickets: Annotated[int, Opt(help="Tickets in the simulated history")] = 400,
    seed: Annotated[int, Opt(help="Seed of the simulated account")] = 42,
    profile: Annotated[str, Opt(help=_PROFILE_HELP + "; the planted ids go to OUTPUT/planted-incidents.json")] = (
        "default"
    ),
) -> None:
    """Start the bundled simulator, collect from it twice into a local directory, show what landed where."""
    from zdlogs.demo import run_demo

    options = cli_options(ctx)
    logs.configure(options.log_format, options.debug, quiet=not options.debug)  # the demo prints its own report
    run_demo(output, audit_logs=audit_logs, tickets=tickets, seed=seed, echo=typer.echo, profile=profile)


app.add_typer(export_app, name="export")
app.add_typer(report_app, name="report")
app.add_typer(detect_app, name="detect")
app.add_typer(secops_app, name="secops")
