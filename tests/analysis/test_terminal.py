"""Reports on a terminal (rich tables or blocks, at any width), as JSON and as CSV: headers, narrowed timestamps,
highlights, sparklines, and never a cut figure."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

import pytest
from rich.console import Console

from zdlogs.analysis.engine import AuditData
from zdlogs.analysis.reports import (
    ActivityOptions,
    IncidentOptions,
    RulesOptions,
    activity_report,
    incident_report,
    rules_report,
)
from zdlogs.analysis.reports.base import Report
from zdlogs.analysis.reports.offhours import check_options, offhours_report
from zdlogs.analysis.terminal import (
    FIXED,
    STYLES,
    Column,
    fit,
    print_report,
    render,
    render_json,
    report_columns,
    sparkline,
    write_csv,
)
from zdlogs.analysis.times import parse_moment


def report(**changes: object) -> Report:
    values: dict = {
        "name": "rules",
        "title": "Rule changes",
        "description": "what changed",
        "columns": ["created_at", "actor_name", "source_label"],
        "rows": [
            {"created_at": "2026-03-10T02:20:00Z", "actor_name": "Mallory", "source_label": "View", "is_rule": True},
            {"created_at": "2026-03-10T02:40:00Z", "actor_name": "Alice", "source_label": None, "is_rule": False},
        ],
        "total_rows": 2,
        "highlight": "is_rule",
        "notes": ["Most changed: View (1 changes)."],
    }
    values.update(changes)
    return Report(**values)


def printed(rep: Report, width: int = 160) -> str:
    out = io.StringIO()
    print_report(rep, Console(file=out, width=width, color_system=None))
    return out.getvalue()


def test_the_table_shows_friendly_headers_utc_times_without_t_and_z_and_marks_rules() -> None:
    text = printed(report())
    assert "time (UTC)" in text and "actor" in text and "item" in text
    assert "2026-03-10 02:20:00" in text and "2026-03-10T02:20:00Z" not in text
    assert "◆" in text and text.count("◆") == 1
    assert "Most changed: View (1 changes)." in text


def test_a_limited_table_says_how_to_see_more() -> None:
    assert "Showing 2 of 9 rows (--limit 0 shows all)." in printed(report(total_rows=9))
    assert "--top N shows more" in printed(report(name="activity", total_rows=9, highlight=None))


def test_the_highlight_column_comes_first_and_activity_gets_a_timeline() -> None:
    assert report_columns(report())[0].header == "rule"
    activity = report(name="activity", highlight=None, rows=[{"created_at": None, "series": [0, 1, 5]}])
    assert report_columns(activity)[-1].header == "timeline"


def test_json_is_one_object_for_one_report_and_a_list_for_several() -> None:
    one = json.loads(render_json([report()]))
    assert one["report"] == "rules" and one["total_rows"] == 2 and one["rows"][0]["actor_name"] == "Mallory"
    assert [item["report"] for item in json.loads(render_json([report(), report(name="incident")]))] == [
        "rules",
        "incident",
    ]
    assert "東京" in render_json([report(title="東京")])  # UTF-8 kept readable, not \\u escapes


def test_sparkline_scales_to_the_largest_bucket_and_squeezes_to_width() -> None:
    assert sparkline([]) == ""
    assert sparkline([0, 1, 8]) == " ▁█"
    assert len(sparkline(list(range(100)), width=24)) <= 24
    assert len(sparkline(list(range(31)), width=8)) <= 8 and sparkline([5] * 31, width=1) == "█"


# ---- every width: the widest style that fits, never a cut figure


def all_reports(audit: AuditData) -> list[Report]:
    around = parse_moment("2026-03-10T02:15Z", "--around")
    return [
        activity_report(audit, ActivityOptions()),
        offhours_report(audit, check_options("08:00-18:00", "Europe/Paris", "mon-fri", ["101"])),
        rules_report(audit, RulesOptions()),
        incident_report(audit, IncidentOptions(around, timedelta(hours=12))),
    ]


def test_fit_gives_each_column_its_minimum_then_shares_the_rest_and_refuses_what_cannot_fit() -> None:
    columns = [Column("total", "total", ["428"]), Column("change_description", "change", [" ".join(["word"] * 20)])]
    assert fit(columns, 5 + 24 - 1) is None  # "total" and the change column's minimum (24) do not fit
    assert fit(columns, 5 + 24) == [5, 24]
    assert fit(columns, 200) == [5, 99]  # no column beyond its longest line


@pytest.mark.parametrize("width", [40, 60, 80, 100, 120, 160, 200, 260])
def test_no_figure_is_ever_cut_and_no_line_is_wider_than_the_terminal(audit: AuditData, width: int) -> None:
    for rep in all_reports(audit):
        text = printed(rep, width)
        assert max(len(line.rstrip()) for line in text.splitlines()) <= width, (rep.name, width)
        for column in report_columns(rep):
            for value in column.cells:
                if column.key in FIXED:  # numbers, ids, times, addresses: whole, on one line
                    assert re.search(rf"(?<![\w.:-]){re.escape(value)}(?![\w.:-])", text), (rep.name, width, value)
                else:  # text wraps, but every word that fits a column's minimum is there whole
                    assert all(word in text for word in value.split() if len(word) <= 10), (rep.name, width, value)


def test_the_layout_follows_the_width(audit: AuditData) -> None:
    activity = all_reports(audit)[0]
    kinds = {width: type(render(activity, width)[0]).__name__ for width in (60, 100, 200)}
    assert kinds == {60: "Group", 100: "Table", 200: "Table"}
    assert render(activity, 200)[0].box == STYLES[0].options["box"]  # boxed where it fits
    assert render(activity, 100)[0].box == STYLES[1].options["box"]  # then two spaces between columns
    blocks = printed(activity, 60)
    assert "\nAlice Admin\n  actor id 101  total 5  changes 5" in blocks  # a block per actor, then label value


def test_a_rule_change_block_is_marked(audit: AuditData) -> None:
    incident = all_reports(audit)[3]
    assert "\n◆ rule change  +5m00s  2026-03-10 02:20:00\n" in printed(incident, 60)
    narrow = printed(incident, 40)  # the heading breaks between values, never inside one
    assert "\n◆ rule change  +5m00s\n2026-03-10 02:20:00\n" in narrow and narrow.count("◆") == 2
    assert "  action update  ip 192.0.2.66\n" in narrow and "ip \n" not in narrow  # an empty value is left out


# ---- CSV


def test_csv_has_every_field_of_the_rows_and_round_trips(audit: AuditData) -> None:
    for rep in all_reports(audit):
        assert rep.rows, rep.name
        assert all(set(row) - {"series"} == set(rep.fields) for row in rep.rows), rep.name
        out = io.StringIO()
        write_csv(rep, out)
        table = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
        periods = rep.summary["periods"] if rep.name == "activity" else []
        assert table[0] == [*rep.fields, *periods] and len(table) == len(rep.rows) + 1
        for row, line in zip(rep.rows, table[1:], strict=True):
            assert len(line) == len(table[0])
            assert all(line[i] == ("" if row[name] is None else str(row[name])) or isinstance(row[name], bool | list)
                       for i, name in enumerate(rep.fields))  # fmt: skip


def test_csv_values_are_plain_text(audit: AuditData) -> None:
    incident, offhours = all_reports(audit)[3], all_reports(audit)[1]
    out = io.StringIO()
    write_csv(incident, out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert {row["is_rule"] for row in rows} == {"true", "false"} and rows[0]["created_at"].endswith("Z")
    out = io.StringIO()
    write_csv(offhours, out)
    assert "off-hours; not-allow-listed" in out.getvalue()
    activity = all_reports(audit)[0]
    out = io.StringIO()
    write_csv(activity, out)
    first = next(csv.DictReader(io.StringIO(out.getvalue())))
    assert sum(int(first[day]) for day in activity.summary["periods"]) == int(first["total"])
