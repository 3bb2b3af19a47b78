"""Command line: parse, call, map errors to exit codes. No collection logic lives here.

Exit codes: 0 success (also: another run holds the lease), 1 failure, 2 bad configuration,
3 authentication failed, 4 some streams failed, 5 storage failure.
"""

from __future__ import annotations

import functools
import sys
import traceback
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import structlog
import typer
from rich.console import Console
from rich.table import Table

from zdlogs import logs
from zdlogs._version import __version__
from zdlogs.config import load_settings, parse_utc
from zdlogs.errors import ConfigError, ZdlogsError
from zdlogs.pipeline import RunSummary, run

app = typer.Typer(
    help="Collect Zendesk's audit log and ticket changes into NDJSON, safely and incrementally.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
log = structlog.get_logger("zdlogs.cli")
_debug = False
_settings: dict[str, str] = {}

Opt = typer.Option


def main() -> None:
    app()


@app.callback()
def _global(
    debug: Annotated[bool, Opt("--debug", help="Show tracebacks and debug logs (secrets stay redacted).")] = False,
    log_format: Annotated[
        str, Opt("--log-format", help="auto (console on a terminal, JSON otherwise), json, console.")
    ] = "auto",
    version: Annotated[bool, Opt("--version", help="Print the version and exit.")] = False,
) -> None:
    global _debug
    if version:
        typer.echo(f"zdlogs {__version__}")
        raise typer.Exit(0)
    _debug = debug
    logs.configure(log_format, debug)
    _settings["log_format"] = log_format


def handle_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a ZdlogsError into its one-line message and exit code; a traceback only with --debug."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ZdlogsError as exc:
            if _debug:
                typer.echo(logs.redact(traceback.format_exc()), err=True)
            typer.echo(f"zdlogs: error: {logs.redact(str(exc))}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            typer.echo("zdlogs: interrupted; checkpoints cover everything stored so far", err=True)
            raise typer.Exit(130) from None

    return wrapper


@app.command("run")
@handle_errors
def run_command(
    base_url: Annotated[
        str | None, Opt(help="Zendesk origin, https://<subdomain>.zendesk.com [ZENDESK_BASE_URL]")
    ] = None,
    auth_mode: Annotated[str | None, Opt(help="token | bearer | oauth [AUTH_MODE, default token]")] = None,
    email: Annotated[str | None, Opt(help="Admin e-mail for token auth [ZENDESK_EMAIL]")] = None,
    api_token: Annotated[str | None, Opt(help="API token; prefer the env var [ZENDESK_API_TOKEN]")] = None,
    bearer_token: Annotated[
        str | None, Opt(help="OAuth access token; prefer the env var [ZENDESK_BEARER_TOKEN]")
    ] = None,
    client_id: Annotated[str | None, Opt(help="OAuth client id for AUTH_MODE=oauth [ZENDESK_CLIENT_ID]")] = None,
    client_secret: Annotated[
        str | None, Opt(help="OAuth client secret; prefer the env var [ZENDESK_CLIENT_SECRET]")
    ] = None,
    resources: Annotated[
        str | None,
        Opt(
            help="Streams, comma-separated: audit_logs, incremental_tickets, access_logs, ticket_events, users, "
            "organizations [RESOURCES, default audit_logs,incremental_tickets]"
        ),
    ] = None,
    output: Annotated[
        str | None,
        Opt(
            "--output",
            "-o",
            help="Directory, file://, gs://, s3:// or secops://PROJECT/LOCATION/INSTANCE "
            "[ZDLOGS_OUTPUT, default ./zendesk-logs]",
        ),
    ] = None,
    compress: Annotated[str | None, Opt(help="none | gzip [ZDLOGS_COMPRESS]")] = None,
    since: Annotated[
        str | None, Opt(help="First run only: collect from this date (UTC), e.g. 2026-01-01 [ZDLOGS_SINCE]")
    ] = None,
    max_pages: Annotated[int | None, Opt(help="Pages per stream per run [MAX_PAGES, default 20]")] = None,
    max_runtime: Annotated[
        float | None, Opt(help="Stop starting new pages after this many seconds [ZDLOGS_MAX_RUNTIME]")
    ] = None,
    lookback_seconds: Annotated[
        int | None, Opt(help="First run without --since: look back this far [LOOKBACK_SECONDS, default 3600]")
    ] = None,
    settle_seconds: Annotated[
        int | None,
        Opt(help="Leave the newest N seconds of audit log for the next run [ZDLOGS_SETTLE_SECONDS, default 120]"),
    ] = None,
    rate_share: Annotated[
        float | None, Opt(help="Share of the account's API budget zdlogs may use, 0-1 [ZDLOGS_RATE_SHARE, default 0.5]")
    ] = None,
    http_timeout: Annotated[float | None, Opt(help="Seconds per request [HTTP_TIMEOUT, default 60]")] = None,
    http_retries: Annotated[int | None, Opt(help="Retries of a failing request [HTTP_RETRIES, default 3]")] = None,
    gcs_prefix: Annotated[
        str | None, Opt(help="Data prefix inside the output [GCS_PREFIX, default zendesk/crm/]")
    ] = None,
    state_key: Annotated[
        str | None, Opt(help="Checkpoint file inside the output, outside the data prefix [STATE_KEY]")
    ] = None,
    incremental_limit: Annotated[
        int | None, Opt(help="Incremental-export requests/minute of the plan [ZDLOGS_INCREMENTAL_LIMIT, default 10]")
    ] = None,
    lease_ttl: Annotated[
        float | None, Opt(help="How long a dead run's lease blocks gs://, s3:// [ZDLOGS_LEASE_TTL, default 900 s]")
    ] = None,
    backfill_workers: Annotated[
        int | None,
        Opt(help="Audit-log time windows fetched at once on a first run over > 1 day [ZDLOGS_BACKFILL_WORKERS, 4]"),
    ] = None,
    ticket_event_comments: Annotated[
        bool | None,
        Opt(
            "--ticket-event-comments/--no-ticket-event-comments",
            help="ticket_events: include full comments (include=comment_events) [ZDLOGS_TICKET_EVENT_COMMENTS]",
        ),
    ] = None,
    secops_state: Annotated[
        str | None,
        Opt(help="secops:// output: directory, gs:// or s3:// for checkpoints [ZDLOGS_SECOPS_STATE, ./zdlogs-state]"),
    ] = None,
    secops_endpoint: Annotated[
        str | None,
        Opt(
            help="secops:// output: API origin, default https://LOCATION-chronicle.googleapis.com "
            "[ZDLOGS_SECOPS_ENDPOINT]"
        ),
    ] = None,
    secops_log_type: Annotated[
        str | None, Opt(help="secops:// output: SecOps log type [ZDLOGS_SECOPS_LOG_TYPE, default ZENDESK_CRM]")
    ] = None,
    secops_forwarder: Annotated[
        str | None, Opt(help="secops:// output: forwarder id or resource name to tag logs [ZDLOGS_SECOPS_FORWARDER]")
    ] = None,
    secops_batch_bytes: Annotated[
        int | None,
        Opt(help="secops:// output: request body per logs:import call [ZDLOGS_SECOPS_BATCH_BYTES, 1000000]"),
    ] = None,
) -> None:
    """Collect every configured stream once (what the Cloud Run function does each hour)."""
    flags = {key: value for key, value in locals().items() if value is not None}
    settings = load_settings(**flags)
    logs.protect(settings)
    settings.require_zendesk()
    summary = run(settings)
    print_summary(summary)


def print_summary(summary: RunSummary) -> None:
    """A table on a terminal; always one structured ``run_summary`` log line."""
    log.info("run_summary", output=summary.output, streams=[item.__dict__ for item in summary.streams])
    if summary.lease_holder:
        typer.echo(f"Another run ({summary.lease_holder}) holds the lease on {summary.output}: nothing to do.")
        return
    if not sys.stdout.isatty():
        return
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


@app.command("import-state")
@handle_errors
def import_state_command(
    source: Annotated[
        str, Opt("--from", help="The original function's state file: a path or gs://BUCKET/zendesk/crm/state.json")
    ],
    audit_since: Annotated[
        str | None,
        Opt(help="Resume the audit log from here (UTC): the old function's last successful run minus ~15 min"),
    ] = None,
    output: Annotated[str | None, Opt("--output", "-o", help="zdlogs output [ZDLOGS_OUTPUT, or GCS_BUCKET]")] = None,
    state_key: Annotated[str | None, Opt(help="zdlogs checkpoint file [STATE_KEY]")] = None,
    force: Annotated[bool, Opt("--force", help="Replace checkpoints zdlogs already has")] = False,
) -> None:
    """Take over from the original Cloud Run function: reuse its ticket cursor, resume the audit log from a time."""
    from zdlogs.migrate import import_state

    settings = load_settings(output=output, state_key=state_key)
    since = _parse_date("--audit-since", audit_since)
    imported = import_state(settings, source, since, force)
    for name, checkpoint in imported.items():
        typer.echo(f"{name}: resumes from {checkpoint}")
    if "audit_logs" not in imported:
        typer.echo("audit_logs: no usable position in the old state; the first run uses --since or LOOKBACK_SECONDS")
    typer.echo(f"Delete {source} afterwards: it sits in the feed prefix, where SecOps ingests it as a log.")


def _parse_date(flag: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_utc(value)
    except ValueError as exc:
        raise ConfigError(f"{flag}: {exc}") from None


@app.command("simulate")
@handle_errors
def simulate_command(
    port: Annotated[int, Opt(help="Port to listen on (0 = any free port)")] = 8765,
    host: Annotated[str, Opt(help="Interface to bind")] = "127.0.0.1",
    seed: Annotated[int, Opt(help="Seed of the generated account")] = 42,
    audit_logs: Annotated[int, Opt(help="Audit-log records in the history")] = 5000,
    tickets: Annotated[int, Opt(help="Tickets in the history")] = 500,
    access_logs: Annotated[int, Opt(help="Access-log records in the history (the last 90 days are served)")] = 2000,
    users: Annotated[int, Opt(help="Users in the history")] = 300,
    organizations: Annotated[int, Opt(help="Organizations in the history")] = 50,
    access_log_addon: Annotated[
        bool, Opt("--access-log-addon/--no-access-log-addon", help="Without it the access log answers 403")
    ] = True,
    plan: Annotated[
        str,
        Opt(
            help="team (200 requests/min), professional (400), enterprise (700) or enterprise_plus (2500); "
            "the audit log answers 403 below enterprise"
        ),
    ] = "enterprise",
    append_interval: Annotated[float, Opt(help="Append new records every N seconds (0 = never)")] = 0.0,
    incremental_limit: Annotated[int, Opt(help="Incremental-export requests per minute")] = 10,
    time_scale: Annotated[float, Opt(help="Simulated seconds per real second (rate windows shrink)")] = 1.0,
) -> None:
    """Serve the bundled fake Zendesk over HTTP on localhost (for trying zdlogs without an account)."""
    from zdlogs.simulator import SimConfig, Simulator, plan_limits

    try:
        account_limit = plan_limits(plan)[0]
    except ValueError:
        account_limit = SimConfig.account_limit  # any other name: a plan without the audit log
    config = SimConfig(
        seed=seed,
        audit_logs=audit_logs,
        tickets=tickets,
        access_logs=access_logs,
        users=users,
        organizations=organizations,
        access_logs_addon=access_log_addon,
        plan=plan,
        account_limit=account_limit,
        append_interval=append_interval,
        incremental_limit=incremental_limit,
        time_scale=time_scale,
    )
    sim = Simulator(config, host=host, port=port)
    typer.echo(f"Zendesk simulator on {sim.url} (Ctrl-C to stop). To collect from it:")
    typer.echo(
        f"  export ZENDESK_BASE_URL={sim.url} ZENDESK_EMAIL={config.email} "
        f"ZENDESK_API_TOKEN={config.api_token} LOOKBACK_SECONDS={int(config.history_days * 86400)}"
    )
    typer.echo("  zdlogs run --max-pages 1000   # add --resources audit_logs,access_logs,users,... for more streams")
    sim.serve_forever()


@app.command("demo")
@handle_errors
def demo_command(
    output: Annotated[
        str, Opt("--output", "-o", help="Where the demo writes (replaced on each demo)")
    ] = "./zendesk-demo",
    audit_logs: Annotated[int, Opt(help="Audit-log records in the simulated history")] = 3000,
    tickets: Annotated[int, Opt(help="Tickets in the simulated history")] = 400,
    seed: Annotated[int, Opt(help="Seed of the simulated account")] = 42,
) -> None:
    """Start the bundled simulator, collect from it twice into a local directory, show what landed where."""
    from zdlogs.demo import run_demo

    logs.configure(_settings.get("log_format", "auto"), _debug, quiet=not _debug)  # the demo prints its own report
    run_demo(output, audit_logs=audit_logs, tickets=tickets, seed=seed, echo=typer.echo)


# The analyst's commands live in zdlogs.analysis (DuckDB is imported only when one of them runs).
from zdlogs.analysis.cli import export_app, report_app  # noqa: E402

app.add_typer(export_app, name="export")
app.add_typer(report_app, name="report")
