"""The inline SVG charts: well-formed, every text escaped, one titled mark per value, an empty chart says so."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from zdlogs.analysis import svg

NS = "{http://www.w3.org/2000/svg}"


def parsed(chart: str) -> ET.Element:
    return ET.fromstring(chart)  # raises on anything that is not well-formed XML


def titles(chart: str) -> list[str]:
    return [element.text or "" for element in parsed(chart).iter(f"{NS}title")]


def tip(mark: ET.Element) -> str:
    """The hover text of a mark ("" when it has none: axis lines, legend swatches)."""
    title = mark.find(f"{NS}title")
    return title.text or "" if title is not None else ""


def test_no_data_is_a_small_chart_that_says_so() -> None:
    for chart in (svg.stacked_bars("Activity", [], []), svg.hbars("Top", []), svg.timeline("Around", [], 60)):
        root = parsed(chart)
        assert root.get("height") == "40" and "nothing to show" in "".join(root.itertext())
    assert "nothing to show" in svg.heatmap("Hours", [[0] * 24] * 7, ["Mon"] * 7, lambda _r, _h: False)


def test_stacked_bars_one_titled_rect_per_nonzero_value_others_in_grey() -> None:
    chart = svg.stacked_bars("Activity", ["2026-03-01", "2026-03-02"], [("alice", [2, 0]), ("others", [1, 3])])
    marks = {tip(rect): rect.get("fill") for rect in parsed(chart).iter(f"{NS}rect") if tip(rect)}
    assert sorted(marks) == ["2026-03-01 · alice: 2", "2026-03-01 · others: 1", "2026-03-02 · others: 3"]
    assert {fill for text, fill in marks.items() if "others" in text} == {svg.OTHERS}


def test_hbars_scale_to_the_largest() -> None:
    chart = svg.hbars("Top", [("alice", 10), ("bob", 5)])
    widths = [float(r.get("width", 0)) for r in parsed(chart).iter(f"{NS}rect")]
    assert widths[0] == 2 * widths[1] > 0


def test_every_user_text_is_escaped() -> None:
    hostile = '<script>alert("x")</script>'
    for chart in (
        svg.hbars("Top", [(hostile, 3)]),
        svg.stacked_bars(hostile, ["2026-03-01"], [(hostile, [1])]),
        svg.timeline("Around", [(0.0, hostile, True, hostile)], 3600),
    ):
        assert "<script>" not in chart
        assert any(hostile in text for text in titles(chart)) or hostile[:22] in "".join(parsed(chart).itertext())


def test_heatmap_marks_off_hours_cells_that_have_changes() -> None:
    grid = [[0] * 24 for _ in range(7)]
    grid[0][3], grid[0][10] = 4, 2
    chart = svg.heatmap("Hours", grid, ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], lambda _r, h: h < 8)
    tips = titles(chart)
    assert "Mon 03:00-03:59: 4 changes (outside business hours)" in tips
    assert "Mon 10:00-10:59: 2 changes" in tips
    marked = [r for r in parsed(chart).iter(f"{NS}rect") if r.get("stroke") == svg.HIGHLIGHT]
    assert len(marked) == 1


def test_timeline_rules_are_diamonds_others_circles_and_the_axis_is_in_minutes() -> None:
    chart = svg.timeline("Around", [(-1800.0, "mallory", False, "a"), (600.0, "alice", True, "b")], 3600)
    root = parsed(chart)
    assert len(list(root.iter(f"{NS}polygon"))) == 1 and len(list(root.iter(f"{NS}circle"))) == 1
    labels = [t.text for t in root.iter(f"{NS}text")]
    assert {"-1h00", "-30m", "incident", "+30m", "+1h00", "mallory", "alice"} <= set(labels)
