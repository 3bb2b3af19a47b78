"""``zdlogs export ...`` and ``zdlogs report ...``: parse, call, print. Errors map to exit codes in the root
command (zdlogs.cli), which mounts these apps; nothing here imports it.

Every command reads collected data (``--input``, the directory ``zdlogs run -o`` wrote) or, with
``--from-api``, Zendesk itself through the settings and env vars of ``zdlogs run``; the same filters
apply either way.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import os
import sys
import typing
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from zdlogs.analysis.csv_export import CsvOptions, export_csv
from zdlogs.analysis.engine import AuditData, open_audit
from zdlogs.analysis.filters import Filters, build_filters
from zdlogs.analysis.inputs import audit_files, tenant_files, tenants_files
from zdlogs.analysis.times import parse_duration, parse_moment
from zdlogs.config import DEFAULT_DATA_PREFIX, DEFAULT_OUTPUT, AnalysisSettings, env_name, setting_info
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


# ------------------------------------------------------------------ shared options

_OUTPUT, _PREFIX = setting_info("output"), setting_info("data_prefix")  # the env names `zdlogs run` reads


def _env_help(help: str, names: tuple[str, ...]) -> str:
    return f"{help} [{' or '.join(names)}]"


InputOpt = Annotated[
    str,
    Opt("--input", "-i", envvar=list(_OUTPUT.env), help=_env_help("Directory `zdlogs run -o` wrote to", _OUTPUT.env)),
]
PrefixOpt = Annotated[
    str, Opt("--prefix", envvar=list(_PREFIX.env), help=_env_help("Data prefix inside --input", _PREFIX.env))
]
FromApiOpt = Annotated[
    bool,
    Opt("--from-api", help=f"Read from Zendesk instead of --input ({env_name('base_url')} etc., as for `zdlogs run`)"),
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
FormatOpt = Annotated[
    str, Opt("--format", "-f", help="table (fitted to the terminal's width), json (summary and rows) or csv (rows)")
]
LimitOpt = Annotated[int, Opt(help="Rows to list (0 = all)")]
TenantOpt = Annotated[
    list[str] | None,
    Opt(
        "--tenant",
        help="Read this tenant of the fleet's --config file, not --input; repeat it for several (a tenant column)",
    ),
]
AllTenantsOpt = Annotated[
    bool, Opt("--all-tenants", help="Read every tenant of the fleet's --config file (with a tenant column)")
]
ConfigOpt = Annotated[
    str | None,
    Opt(
        "--config",
        envvar="ZDLOGS_CONFIG",
        help="The config file (a fleet's, for --tenant and --all-tenants) [ZDLOGS_CONFIG]",
    ),
]


@dataclass(frozen=True)
class FilterOptions:
    """--since, --until, --actor, --action, --source-type and --ip as given: the filters of every command."""

    since: SinceOpt = None
    until: UntilOpt = None
    actor: ActorOpt = None
    action: ActionOpt = None
    source_type: SourceTypeOpt = None
    ip: IpOpt = None

    def build(self) -> Filters:
        return build_filters(
            self.since, self.until, self.actor or (), self.action or (), self.source_type or (), self.ip or ()
        )


@dataclass(frozen=True)
class RequestFilterOptions(FilterOptions):
    """The filters of ``export request``: Zendesk filters there, on actor ids only."""

    actor: Annotated[list[str] | None, Opt("--actor", help="Actor id (repeatable)")] = None


@dataclass(frozen=True)
class AuditOptions:
    """Where the records come from (--input and --prefix, --from-api, or tenants of a fleet file: --tenant,
    --all-tenants), then the filters. ``tenant`` is the list of --tenant names (a single name is taken too)."""

    input_: InputOpt = DEFAULT_OUTPUT
    prefix: PrefixOpt = DEFAULT_DATA_PREFIX
    from_api: FromApiOpt = False
    tenant: TenantOpt = None
    all_tenants: AllTenantsOpt = False
    config: ConfigOpt = None
    filtering: FilterOptions = field(default_factory=FilterOptions)

    def __post_init__(self) -> None:
        if isinstance(self.tenant, str):  # AuditOptions(tenant="acme"), as before --tenant repeated
            object.__setattr__(self, "tenant", [self.tenant])

    @functools.cached_property
    def tenant_locations(self) -> dict[str, tuple[str, str]]:
        """Each tenant read and where it stores its data (output, prefix), worked out from the fleet file
        without its credentials; empty when reading --input or the API."""
        if not (self.tenant or self.all_tenants):
            return {}
        self._check_tenant_options()
        from zdlogs.fleet import tenant_locations

        return tenant_locations(Path(str(self.config)).expanduser(), None if self.all_tenants else self.tenant)

    def _check_tenant_options(self) -> None:
        asked = "--all-tenants" if self.all_tenants else f"--tenant {(self.tenant or [''])[0]}"
        if self.tenant and self.all_tenants:
            raise ConfigError("--tenant and --all-tenants: give one (--all-tenants reads every tenant of the file)")
        if not self.config:
            raise ConfigError(f"{asked} needs the fleet's file: give --config FILE (or ZDLOGS_CONFIG)")
        if _input_given(self.input_):
            raise ConfigError(f"{asked} reads where the fleet file says: drop --input (or drop {asked.split()[0]})")
        if self.from_api:
            raise ConfigError(f"{asked} reads collected data: drop --from-api (it reads one account's API)")

    def location(self) -> tuple[str, str]:
        """--input and --prefix; with one --tenant, where that tenant of the fleet file (--config) stores its data."""
        locations = self.tenant_locations
        if not locations:
            return self.input_, self.prefix
        if len(locations) > 1:
            raise ConfigError(f"this command reads one input: give one --tenant, not {len(locations)}")
        return next(iter(locations.values()))

    @contextmanager
    def open(self, filters: Filters | None = None, *, cached: bool = True) -> Iterator[AuditData]:
        """The filtered records, from collected files or spooled from the API; ``filters``: built from the
        options unless given; ``cached``: parsed once into a table, for reports that run several queries (an
        export reads the files once, straight through)."""
        filters = self.filtering.build() if filters is None else filters
        memory = AnalysisSettings.load().analysis_memory
        if self.tenant or self.all_tenants:
            self._check_tenant_options()  # before --from-api is taken: the two are refused together
        if self.from_api:
            from zdlogs.analysis.api_input import api_settings, spooled_from_api

            with spooled_from_api(api_settings(), filters) as files, open_audit(files, filters, memory) as data:
                yield data.materialize() if cached else data
            return
        files, by_tenant = self._files()
        with open_audit(files, filters, memory, by_tenant) as data:
            yield data.materialize() if cached else data

    def _files(self) -> tuple[list[Path], dict[str, list[Path]] | None]:
        """The input's files; across several tenants, each tenant's (one that collected nothing: a warning)."""
        locations = self.tenant_locations
        if len(locations) <= 1:
            name = next(iter(locations), "")
            return (
                tenant_files(str(self.config), name, self.location()) if name else audit_files(*self.location())
            ), None
        return [], tenants_files(str(self.config), locations, _warn)

    def describe(self) -> str:
        """The input as the header of a report names it: a directory, a tenant's, or the tenants read."""
        if self.from_api:
            return "Zendesk API"
        locations = self.tenant_locations
        if len(locations) > 1:
            return f"{self.config} (tenants {', '.join(locations)})"
        shown = os.path.expanduser(self.location()[0])  # as typed: ./zendesk-demo
        return f"{shown} (tenant {next(iter(locations))})" if locations else shown


def _input_given(input_: str) -> bool:
    """Whether --input was typed: it is neither its default nor its environment variable's value (ZDLOGS_OUTPUT
    may be a fleet's default output, which the tenants' locations already take into account)."""
    return input_ != DEFAULT_OUTPUT and input_ not in {os.environ.get(name) for name in _OUTPUT.env}


def _warn(message: str) -> None:
    typer.echo(f"zdlogs: warning: {message}", err=True)


def _option_groups(command: Callable[..., Any]) -> Callable[..., Any]:
    """Typer has no option groups: a parameter of ``command`` typed as one of the option classes above is
    shown to typer as that class's fields (its options, in place and in order, nested classes flattened),
    and ``command`` gets the class built from them."""
    hints = typing.get_type_hints(command, include_extras=True)
    signature = inspect.signature(command)
    groups = {name: hints[name] for name in signature.parameters if _is_group(hints[name])}
    parameters = [
        option
        for parameter in signature.parameters.values()
        for option in (
            _group_options(hints[parameter.name])
            if parameter.name in groups
            else [parameter.replace(annotation=hints[parameter.name])]
        )
    ]

    @functools.wraps(command)
    def wrapper(**values: Any) -> Any:
        for name, group in groups.items():
            values[name] = _group_value(group, values)
        return command(**values)

    wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {parameter.name: parameter.annotation for parameter in parameters}
    return wrapper


def _is_group(annotation: Any) -> bool:
    return isinstance(annotation, type) and dataclasses.is_dataclass(annotation)


def _group_options(group: type) -> list[inspect.Parameter]:
    hints = typing.get_type_hints(group, include_extras=True)
    options: list[inspect.Parameter] = []
    for item in dataclasses.fields(group):
        if _is_group(hints[item.name]):
            options += _group_options(hints[item.name])
        else:
            kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
            options.append(inspect.Parameter(item.name, kind, default=item.default, annotation=hints[item.name]))
    return options


def _group_value(group: type, values: dict[str, Any]) -> Any:
    """``group`` built from its options in ``values``, which it takes out of ``values``."""
    hints = typing.get_type_hints(group, include_extras=True)
    return group(
        **{
            item.name: _group_value(hints[item.name], values) if _is_group(hints[item.name]) else values.pop(item.name)
            for item in dataclasses.fields(group)
        }
    )


@contextmanager
def _reader_may_leave() -> Iterator[None]:
    """``zdlogs export csv | head``: the reader closing the pipe early is the user's choice, not a failure.
    Stop quietly with exit 0, as ``cat`` does, instead of click's exit 1 and a BrokenPipeError at exit.
    stdout is pointed at /dev/null first, so the interpreter's final flush of what is still buffered
    has somewhere to go."""
    try:
        yield
    except BrokenPipeError:
        with suppress(OSError, ValueError):  # no real file descriptor (an in-process runner): nothing to flush
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(0) from None


# ------------------------------------------------------------------ export


@export_app.command("csv")
@_option_groups
def export_csv_command(
    ctx: typer.Context,
    output: Annotated[str, Opt("--output", "-o", help="CSV file to write, or - for stdout")] = "-",
    audit: AuditOptions = AuditOptions(),
    all_columns: Annotated[bool, Opt("--all-columns", help="Every field, nested ones flattened (a.b)")] = False,
    excel: Annotated[bool, Opt("--excel", help="For Excel: UTF-8 BOM, CRLF, formulas defused")] = False,
) -> None:
    """Audit logs to CSV (created_at, actor_name, actor_id, action, source_type, source_label, change_description,
    ip_address), oldest first, UTC."""
    from zdlogs import live

    log_format = getattr(ctx.obj, "log_format", "auto")  # the root's CliOptions
    counting = live.counting("audit records", log_format, stdout_used=output == "-")
    with audit.open(cached=False) as data, _reader_may_leave(), counting as progress:
        count = export_csv(data, output, CsvOptions(all_columns=all_columns, excel=excel), progress)
        if not count:
            from zdlogs.analysis.reports.base import coverage

            typer.echo(coverage(data, "No audit records match", audit.describe())["message"], err=True)
    if output != "-":
        typer.echo(f"Wrote {count} audit records to {output}", err=True)


@export_app.command("request")
@_option_groups
def export_request_command(
    filtering: RequestFilterOptions = RequestFilterOptions(),
) -> None:
    """Ask Zendesk to e-mail its own CSV export (POST /api/v2/audit_logs/export); one per minute per account."""
    from zdlogs.analysis.api_input import api_settings
    from zdlogs.analysis.export_request import describe, request_export

    filters = filtering.build()
    typer.echo(describe(request_export(api_settings(), filters)))


# ------------------------------------------------------------------ reports


def _show(reports: list, fmt: str, data: AuditData, audit: AuditOptions) -> None:
    """Print ``reports`` in ``fmt``; one without rows says what the data covers instead (on stderr beside JSON
    or CSV, whose stdout stays a document)."""
    from zdlogs.analysis.reports.base import explain_empty
    from zdlogs.analysis.terminal import ReportConsole, print_report, render_json, write_csv

    for report in reports:
        explain_empty(report, data, audit.describe())
        if fmt != "table" and report.coverage:
            typer.echo(report.coverage["message"], err=True)
    with _reader_may_leave():
        if fmt == "json":
            typer.echo(render_json(reports))
        elif fmt == "csv":
            for report in reports:
                write_csv(report, sys.stdout)
            sys.stdout.flush()
        else:
            console = ReportConsole()
            for report in reports:
                print_report(report, console)


FORMATS = ("table", "json", "csv")


def _check_format(fmt: str) -> str:
    if fmt.strip().lower() not in FORMATS:
        raise ConfigError(f"--format {fmt!r}: use table, json or csv")
    return fmt.strip().lower()


@report_app.command("activity")
@_option_groups
def activity_command(
    audit: AuditOptions = AuditOptions(),
    by: Annotated[str, Opt("--by", help="day or week (UTC)")] = "day",
    top: Annotated[int, Opt(help="Actors to show, most active first")] = 10,
    fmt: FormatOpt = "table",
) -> None:
    """Activity per admin over time: changes and sign-ins per actor, per day or week, with a timeline."""
    from zdlogs.analysis.reports.activity import activity_report, check_options

    options, fmt = check_options(by, top), _check_format(fmt)
    with audit.open() as data:
        _show([activity_report(data, options)], fmt, data, audit)


BusinessHoursOpt = Annotated[str, Opt("--business-hours", help="Local office hours, e.g. 08:00-18:00")]
TimezoneOpt = Annotated[str, Opt("--timezone", help="IANA zone of the office hours, e.g. Europe/Paris")]
WorkdaysOpt = Annotated[str, Opt("--workdays", help="e.g. mon-fri, sun-thu or mon,tue,thu")]
AllowOpt = Annotated[list[str] | None, Opt("--allow", help="Expected admin: id or name (repeatable)")]
AllowFileOpt = Annotated[Path | None, Opt("--allow-file", help="File of expected admins, one id or name a line")]
LoginsOpt = Annotated[bool, Opt("--include-logins", help="Also list sign-ins")]
SystemOpt = Annotated[bool, Opt("--include-system", help="Also list changes by Zendesk's system actor")]


@report_app.command("offhours")
@_option_groups
def offhours_command(
    audit: AuditOptions = AuditOptions(),
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
    with audit.open() as data:
        _show([offhours_report(data, options)], fmt, data, audit)


@report_app.command("rules")
@_option_groups
def rules_command(
    audit: AuditOptions = AuditOptions(),
    limit: LimitOpt = 100,
    fmt: FormatOpt = "table",
) -> None:
    """Business-rule changes (triggers, automations, macros, views, ...) with what changed, newest first."""
    from zdlogs.analysis.reports.rules import RulesOptions, rules_report

    fmt = _check_format(fmt)
    with audit.open() as data:
        _show([rules_report(data, RulesOptions(limit=limit))], fmt, data, audit)


AroundOpt = Annotated[str | None, Opt("--around", help="Incident time, e.g. 2026-11-07T02:20Z (UTC unless a zone)")]
WindowOpt = Annotated[str, Opt("--window", help="How far before and after, with a unit (s, m, h, d): 2h, 90m, 1h30m")]


def _incident_options(around: str | None, window: str, limit: int) -> Any:
    from zdlogs.analysis.reports.incident import IncidentOptions

    if not around:
        raise ConfigError("--around is required: give the incident time, e.g. --around 2026-11-07T02:20Z")
    return IncidentOptions(parse_moment(around, "--around"), parse_duration(window), limit)


@report_app.command("incident")
@_option_groups
def incident_command(
    around: AroundOpt = None,
    window: WindowOpt = "2h",
    audit: AuditOptions = AuditOptions(),
    limit: LimitOpt = 100,
    fmt: FormatOpt = "table",
) -> None:
    """Changes around an incident: everything within --window of --around, closest first, rule changes highlighted."""
    from zdlogs.analysis.reports.incident import incident_report

    options, fmt = _incident_options(around, window, limit), _check_format(fmt)
    with audit.open() as data:
        _show([incident_report(data, options)], fmt, data, audit)


@report_app.command("html")
@_option_groups
def html_command(
    output: Annotated[Path, Opt("--output", "-o", help="HTML file to write")] = Path("zdlogs-report.html"),
    audit: AuditOptions = AuditOptions(),
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
    """All four reports and the detection findings in one self-contained HTML file with charts; opens offline."""
    from zdlogs.analysis import html_report
    from zdlogs.analysis.reports import activity, offhours, rules

    activity_options = activity.check_options(by, top)
    hours = offhours.check_options(business_hours, timezone, workdays, allow or (), allow_file, limit=limit)
    incident_options = _incident_options(around, window, limit) if around else None
    filters = audit.filtering.build()
    with audit.open(filters) as data:
        reports = [
            activity.activity_report(data, activity_options),
            offhours.offhours_report(data, hours),
            rules.rules_report(data, rules.RulesOptions(limit=limit)),
            _incident_section(data, incident_options),
            _detections_section(data, audit, limit),
        ]
    context = {"source": audit.describe(), "filters": filters.describe(), "business_hours": hours.hours}
    html_report.write_html(output, reports, context)
    typer.echo(f"Wrote {output} ({', '.join(report.name for report in reports)}); it opens offline.", err=True)


def _detections_section(data: AuditData, audit: AuditOptions, limit: int) -> Any:
    """The detection rules' findings (zdlogs.detections), over one account's collected data."""
    from zdlogs.detections.html_section import findings_section

    one = not audit.from_api and len(audit.tenant_locations) <= 1
    return findings_section(data, audit.location() if one else None, audit.config, limit)


def _incident_section(data: AuditData, options: Any) -> Any:
    from zdlogs.analysis.html_report import missing_incident_section
    from zdlogs.analysis.reports.incident import incident_report

    return incident_report(data, options) if options else missing_incident_section()
