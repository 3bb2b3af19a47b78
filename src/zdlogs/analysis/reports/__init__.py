"""The four recurring questions of the seed guide, each answered by one report over ``{audit}``."""

from zdlogs.analysis.reports.activity import ActivityOptions, activity_report
from zdlogs.analysis.reports.base import Report
from zdlogs.analysis.reports.incident import IncidentOptions, incident_report
from zdlogs.analysis.reports.offhours import OffHoursOptions, offhours_report
from zdlogs.analysis.reports.rules import RulesOptions, rules_report

__all__ = [
    "ActivityOptions",
    "IncidentOptions",
    "OffHoursOptions",
    "Report",
    "RulesOptions",
    "activity_report",
    "incident_report",
    "offhours_report",
    "rules_report",
]
