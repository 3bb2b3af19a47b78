"""``zdlogs export ...`` and ``zdlogs report ...``: parse, call, print. Errors map to exit codes in zdlogs.cli.

Every command reads collected data (``--input``, the directory ``zdlogs run -o`` wrote) or, with
``--from-api``, Zendesk itself through the settings and env vars of ``zdlogs run``; the same filters
apply either way.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from zdlogs.analysis.csv_export import CsvOptions, export_csv
from zdlogs.analysis.engine import AuditData, open_audit
from zdlogs.analysis.filters import Filters, build_filters
from zdlogs.analysis.inputs import audit_files
from zdlogs.analysis.times import parse_duration, parse_moment
from zdlogs.config import DEFAULT_OUTPUT
from zdlogs.errors import ConfigError

Opt = typer.Option

export_app = typer.Typer(
    help="Audit logs to CSV (from collected data or the API), or ask Zendesk for its own e-mailed CSV export.",
    no_args_is_help=True,
)
report_app = typer.Typer(
    help="Answers to the recurring audit questions: activity per admin, off-hours changes, rule changes, "
    "changes around an incident, or all four in one HTML file.",
    no_args_is_help=True,
)


def _handled(command: Callable[..., Any]) -> Callable[..., Any]:
    """zdlogs.cli's error → exit-code mapping, looked up at call time (zdlogs.cli imports this module)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from zdlogs.cli import handle_errors

        return handle_errors(command)(*args, **kwargs)

    return wrapper


# ------------------------------------------------------------------ shared options

InputOpt = Annotated[
    str, Opt("--input", "-i", envvar="ZDLOGS_OUTPUT", help="Directory `zdlogs run -o` wrote to [ZDLOGS_OUTPUT]")
]
PrefixOpt = Annotated[str, Opt("--prefix", envvar="GCS_PREFIX", help="Data prefix inside --input [GCS_PREFIX]")]
FromApiOpt = Annotated[
    bool,
    Opt("--from-api", help="Read from Zendesk instead of --input (ZENDESK_BASE_URL etc., as for `zdlogs run`)"),
]
SinceOpt = Annotated[str | None, Opt(help="From this date or time, inclusive; UTC unless a zone is given")]
UntilOpt = Annotated[str | None, Opt(help="Until this time (exclusive) or date (inclusive); UTC unless a zone")]
ActorOpt = Annotated[list[str] | None, Opt("--actor", help="Actor id or name (repeatable)")]
ActionOpt = Annotated[
    list[str] | None, Opt("--action", help="create, update, destroy, exported, login/sign-in (repeatable)")
]
SourceTypeOpt = Annotated[
    list[str] | None, Opt("--source-type", help="Item type: user, rule, account_setting, ... (repeatable)")
]
IpOpt = Annotated[list[str] | None, Opt("--ip", help="IP address (repeatable)")]
FormatOpt = Annotated[str, Opt("--format", "-f", help="table or json")]
LimitOpt = Annotated[int, Opt(help="Rows to list (0 = all)")]


def _filters(since: str | None, until: str | None, actor: Any, action: Any, source_type: Any, ip: Any) -> Filters:
    return build_filters(since, until, actor or (), action or (), source_type or (), ip or ())


@contextmanager
def _audit(input_: str, prefix: str, from_api: bool, filters: Filters, *, cached: bool = True) -> Iterator[AuditData]:
    """The filtered records, from collected files or spooled from the API; ``cached``: parsed once into a
    table, for reports that run several queries (an export reads the files once, straight through)."""
    if from_api:
        from zdlogs.analysis.api_input import api_settings, spooled_from_api

        with spooled_from_api(api_settings(), filters) as files, open_audit(files, filters) as data:
            yield data.materialize() if cached else data
        return
    with open_audit(audit_files(input_, prefix), filters) as data:
        yield data.materialize() if cached else data


def _source(input_: str, from_api: bool) -> str:
    return "Zendesk API" if from_api else str(Path(input_).expanduser())


# ------------------------------------------------------------------ export


@export_app.command("csv")
@_handled
def export_csv_command(
    output: Annotated[str, Opt("--output", "-o", help="CSV file to write, or - for stdout")] = "-",
    input_: InputOpt = DEFAULT_OUTPUT,
    prefix: PrefixOpt = "zendesk/crm/",
    from_api: FromApiOpt = False,
    since: SinceOpt = None,
    until: UntilOpt = None,
    actor: ActorOpt = None,
    action: ActionOpt = None,
    source_type: SourceTypeOpt = None,
    ip: IpOpt = None,
    all_columns: Annotated[bool, Opt("--all-columns", help="Every field, nested ones flattened (a.b)")] = False,
    excel: Annotated[bool, Opt("--excel", help="For Excel: UTF-8 BOM, CRLF, formulas defused")] = False,
) -> None:
    """Audit logs to CSV (created_at, actor_name, actor_id, action, source_type, source_label, change_description,
    ip_address), oldest first, UTC."""
    filters = _filters(since, until, actor, action, source_type, ip)
    with _audit(input_, prefix, from_api, filters, cached=False) as data:
        count = export_csv(data, output, CsvOptions(all_columns=all_columns, excel=excel))
    if output != "-":
        typer.echo(f"Wrote {count} audit records to {output}", err=True)


@export_app.command("request")
@_handled
def export_request_command(
    since: SinceOpt = None,
    until: UntilOpt = None,
    actor: Annotated[list[str] | None, Opt("--actor", help="Actor id (repeatable)")] = None,
    action: ActionOpt = None,
    source_type: SourceTypeOpt = None,
    ip: IpOpt = None,
) -> None:
    """Ask Zendesk to e-mail its own CSV export (POST /api/v2/audit_logs/export); one per minute per account."""
    from zdlogs.analysis.api_input import api_settings
    from zdlogs.analysis.export_request import describe, request_export

    filters = _filters(since, until, actor, action, source_type, ip)
    typer.echo(describe(request_export(api_settings(), filters)))


# ------------------------------------------------------------------ reports


def _show(reports: list, fmt: str) -> None:
    from zdlogs.analysis.terminal import print_report, render_json

    if fmt == "json":
        typer.echo(render_json(reports))
        return
    console = Console()
    for report in reports:
        print_report(report, console)


def _check_format(fmt: str) -> str:
    if fmt not in ("table", "json"):
        raise ConfigError(f"--format {fmt!r}: use table or json")
    return fmt


@report_app.command("activity")
@_handled
def activity_command(
    input_: InputOpt = DEFAULT_OUTPUT,
    prefix: PrefixOpt = "zendesk/crm/",
    from_api: FromApiOpt = False,
    since: SinceOpt = None,
    until: UntilOpt = None,
    actor: ActorOpt = None,
    action: ActionOpt = None,
    source_type: SourceTypeOpt = None,
    ip: IpOpt = None,
    by: Annotated[str, Opt("--by", help="day or week (UTC)")] = "day",
    top: Annotated[int, Opt(help="Actors to show, most active first")] = 10,
    fmt: FormatOpt = "table",
) -> None:
    """Activity per admin over time: changes and sign-ins per actor, per day or week, with a timeline."""
    from zdlogs.analysis.reports.activity import activity_report, check_options

    options, fmt = check_options(by, top), _check_format(fmt)
    with _audit(input_, prefix, from_api, _filters(since, until, actor, action, source_type, ip)) as data:
        _show([activity_report(data, options)], fmt)


BusinessHoursOpt = Annotated[str, Opt("--business-hours", help="Local office hours, e.g. 08:00-18:00")]
TimezoneOpt = Annotated[str, Opt("--timezone", help="IANA zone of the office hours, e.g. Europe/Paris")]
WorkdaysOpt = Annotated[str, Opt("--workdays", help="e.g. mon-fri, sun-thu or mon,tue,thu")]
AllowOpt = Annotated[list[str] | None, Opt("--allow", help="Expected admin: id or name (repeatable)")]
AllowFileOpt = Annotated[Path | None, Opt("--allow-file", help="File of expected admins, one id or name a line")]
LoginsOpt = Annotated[bool, Opt("--include-logins", help="Also list sign-ins")]
SystemOpt = Annotated[bool, Opt("--include-system", help="Also list changes by Zendesk's system actor")]


@report_app.command("offhours")
@_handled
def offhours_command(
    input_: InputOpt = DEFAULT_OUTPUT,
    prefix: PrefixOpt = "zendesk/crm/",
    from_api: FromApiOpt = False,
    since: SinceOpt = None,
    until: UntilOpt = None,
    actor: ActorOpt = None,
    action: ActionOpt = None,
    source_type: SourceTypeOpt = None,
    ip: IpOpt = None,
    business_hours: BusinessHoursOpt = "08:00-18:00",
    timezone: TimezoneOpt = "UTC",
    workdays: WorkdaysOpt = "mon-fri",
    allow: AllowOpt = None,
    allow_file: AllowFileOpt = None,
    include_logins: LoginsOpt = False,
    include_system: SystemOpt = False,
    limit: LimitOpt = 100,
    fmt: FormatOpt = "table",
) -> None:
    """Off-hours and unexpected changes: outside business hours or workdays, or by actors not on the allow-list."""
    from zdlogs.analysis.reports.offhours import check_options, offhours_report

    options = check_options(
        business_hours, timezone, workdays, allow or (), allow_file,
        include_logins=include_logins, include_system=include_system, limit=limit,
    )  # fmt: skip
    fmt = _check_format(fmt)
    with _audit(input_, prefix, from_api, _filters(since, until, actor, action, source_type, ip)) as data:
        _show([offhours_report(data, options)], fmt)


@report_app.command("rules")
@_handled
def rules_command(
    input_: InputOpt = DEFAULT_OUTPUT,
    prefix: PrefixOpt = "zendesk/crm/",
    from_api: FromApiOpt = False,
    since: SinceOpt = None,
    until: UntilOpt = None,
    actor: ActorOpt = None,
    action: ActionOpt = None,
    source_type: SourceTypeOpt = None,
    ip: IpOpt = None,
    limit: LimitOpt = 100,
    fmt: FormatOpt = "table",
) -> None:
    """Business-rule changes (triggers, automations, macros, views, ...) with what changed, newest first."""
    from zdlogs.analysis.reports.rules import RulesOptions, rules_report

    fmt = _check_format(fmt)
    with _audit(input_, prefix, from_api, _filters(since, until, actor, action, source_type, ip)) as data:
        _show([rules_report(data, RulesOptions(limit=limit))], fmt)


AroundOpt = Annotated[str | None, Opt("--around", help="Incident time, e.g. 2026-11-07T02:20Z (UTC unless a zone)")]
WindowOpt = Annotated[str, Opt("--window", help="How far before and after: 2h, 90m, 1h30m")]


def _incident_options(around: str | None, window: str, limit: int) -> Any:
    from zdlogs.analysis.reports.incident import IncidentOptions

    if not around:
        raise ConfigError("--around is required: give the incident time, e.g. --around 2026-11-07T02:20Z")
    return IncidentOptions(parse_moment(around, "--around"), parse_duration(window), limit)


@report_app.command("incident")
@_handled
def incident_command(
    around: AroundOpt = None,
    window: WindowOpt = "2h",
    input_: InputOpt = DEFAULT_OUTPUT,
    prefix: PrefixOpt = "zendesk/crm/",
    from_api: FromApiOpt = False,
    since: SinceOpt = None,
    until: UntilOpt = None,
    actor: ActorOpt = None,
    action: ActionOpt = None,
    source_type: SourceTypeOpt = None,
    ip: IpOpt = None,
    limit: LimitOpt = 100,
    fmt: FormatOpt = "table",
) -> None:
    """Changes around an incident: everything within --window of --around, closest first, rule changes highlighted."""
    from zdlogs.analysis.reports.incident import incident_report

    options, fmt = _incident_options(around, window, limit), _check_format(fmt)
    with _audit(input_, prefix, from_api, _filters(since, until, actor, action, source_type, ip)) as data:
        _show([incident_report(data, options)], fmt)


@report_app.command("html")
@_handled
def html_command(
    output: Annotated[Path, Opt("--output", "-o", help="HTML file to write")] = Path("zdlogs-report.html"),
    input_: InputOpt = DEFAULT_OUTPUT,
    prefix: PrefixOpt = "zendesk/crm/",
    from_api: FromApiOpt = False,
    since: SinceOpt = None,
    until: UntilOpt = None,
    actor: ActorOpt = None,
    action: ActionOpt = None,
    source_type: SourceTypeOpt = None,
    ip: IpOpt = None,
    by: Annotated[str, Opt("--by", help="Activity per day or week")] = "day",
    top: Annotated[int, Opt(help="Actors in the activity section")] = 10,
    business_hours: BusinessHoursOpt = "08:00-18:00",
    timezone: TimezoneOpt = "UTC",
    workdays: WorkdaysOpt = "mon-fri",
    allow: AllowOpt = None,
    allow_file: AllowFileOpt = None,
    around: Annotated[
        str | None, Opt("--around", help="Incident time; without it the incident section is empty")
    ] = None,
    window: WindowOpt = "2h",
    limit: Annotated[int, Opt(help="Rows per table (0 = all)")] = 100,
) -> None:
    """All four reports in one self-contained HTML file with charts; opens offline (no script, no CDN)."""
    from zdlogs.analysis import html_report
    from zdlogs.analysis.reports import activity, offhours, rules

    activity_options = activity.check_options(by, top)
    hours = offhours.check_options(business_hours, timezone, workdays, allow or (), allow_file, limit=limit)
    incident_options = _incident_options(around, window, limit) if around else None
    filters = _filters(since, until, actor, action, source_type, ip)
    with _audit(input_, prefix, from_api, filters) as data:
        reports = [
            activity.activity_report(data, activity_options),
            offhours.offhours_report(data, hours),
            rules.rules_report(data, rules.RulesOptions(limit=limit)),
            _incident_section(data, incident_options),
        ]
    context = {"source": _source(input_, from_api), "filters": filters.describe(), "business_hours": hours.hours}
    html_report.write_html(output, reports, context)
    typer.echo(f"Wrote {output} ({', '.join(report.name for report in reports)}); it opens offline.", err=True)


def _incident_section(data: AuditData, options: Any) -> Any:
    from zdlogs.analysis.html_report import missing_incident_section
    from zdlogs.analysis.reports.incident import incident_report

    return incident_report(data, options) if options else missing_incident_section()
