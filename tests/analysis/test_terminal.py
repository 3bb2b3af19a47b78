"""Reports on a terminal (rich tables) and as JSON: headers, narrowed timestamps, highlights, sparklines."""

from __future__ import annotations

import io
import json

from rich.console import Console

from zdlogs.analysis.reports.base import Report
from zdlogs.analysis.terminal import build_table, print_report, render_json, sparkline


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


def printed(rep: Report) -> str:
    out = io.StringIO()
    print_report(rep, Console(file=out, width=160, color_system=None))
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
    assert build_table(report()).columns[0].header == "rule"
    activity = report(name="activity", highlight=None, rows=[{"created_at": None, "series": [0, 1, 5]}])
    assert build_table(activity).columns[-1].header == "timeline"


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
    assert len(sparkline(list(range(100)), width=24)) <= 25
