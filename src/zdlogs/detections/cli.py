"""``zdlogs detect``: evaluate the shipped Sigma rules over collected data and print the findings.

A typer group: with no subcommand its callback runs the evaluation; ``detect export`` (rules converted for a
SIEM) is another module's subcommand of the same group. Errors map to exit codes in the root command.
"""

from __future__ import annotations

from typing import Annotated

import typer

from zdlogs.analysis.cli import ConfigOpt, InputOpt, PrefixOpt, SinceOpt, UntilOpt
from zdlogs.config import DEFAULT_DATA_PREFIX, DEFAULT_OUTPUT

Opt = typer.Option

detect_app = typer.Typer(
    help="Run the Zendesk detection rules (Sigma) over collected data; `detect export` converts them for a SIEM.",
    invoke_without_command=True,
)

TenantOpt = Annotated[str | None, Opt("--tenant", help="Read this tenant of the fleet's --config file, not --input")]
RuleOpt = Annotated[list[str] | None, Opt("--rule", "-r", help="Run only this rule id (repeatable)")]
FormatOpt = Annotated[str, Opt("--format", "-f", help="table, json or csv")]
FailOnOpt = Annotated[
    str | None,
    Opt("--fail-on", help="Exit 8 when a finding at or above this severity exists: informational, low, medium, "
        "high or critical"),
]  # fmt: skip


@detect_app.callback()
def detect_command(
    ctx: typer.Context,
    input_: InputOpt = DEFAULT_OUTPUT,
    prefix: PrefixOpt = DEFAULT_DATA_PREFIX,
    tenant: TenantOpt = None,
    config: ConfigOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    rule: RuleOpt = None,
    fmt: FormatOpt = "table",
    fail_on: FailOnOpt = None,
) -> None:
    """Evaluate every rule (or each --rule) over the collected audit and access logs; print the findings."""
    if ctx.invoked_subcommand is not None:
        return
    from zdlogs.detections.run import DetectRequest, run_detect

    request = DetectRequest(input_, prefix, tenant, config, since, until, tuple(rule or ()), fmt, fail_on)
    run_detect(request, typer.echo)


detect_app.command("export")(__import__("zdlogs.detections.export", fromlist=["export"]).export_command)
