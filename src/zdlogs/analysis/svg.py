"""Charts as inline SVG strings, drawn in Python: the HTML report opens offline, with no script at all.

A chart library from a CDN would fail on an air-gapped analyst laptop and would run third-party code
next to audit data; SVG needs neither. Each mark carries a ``<title>`` so hovering shows the exact
number. Every text is escaped: actor names and rule titles come from Zendesk users.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
OTHERS = "#BBBBBB"
HIGHLIGHT = "#D55E00"
MUTED = "#0072B2"
FONT = 'font-family="system-ui, sans-serif" font-size="11"'


def _svg(width: int, height: int, label: str, body: list[str]) -> str:
    head = (
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(label)}" {FONT}>'
    )
    return "\n".join([head, f"<title>{escape(label)}</title>", *body, "</svg>"])


def _text(x: float, y: float, text: str, anchor: str = "start", extra: str = "") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" {extra}>{escape(text)}</text>'


def _rect(x: float, y: float, w: float, h: float, fill: str, tip: str) -> str:
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{max(h, 0):.1f}" fill="{fill}">'
        f"<title>{escape(tip)}</title></rect>"
    )


def empty(label: str, width: int = 760) -> str:
    return _svg(width, 40, label, [_text(8, 24, f"{label}: nothing to show")])


def stacked_bars(label: str, columns: Sequence[str], series: Sequence[tuple[str, Sequence[int]]]) -> str:
    """Columns (periods) of stacked counts, one colour per series (actor), with a legend."""
    totals = [sum(values[i] for _, values in series) for i in range(len(columns))]
    if not columns or not max(totals, default=0):
        return empty(label)
    width, height, left, top, plot_h = 760, 300, 44, 12, 200
    step = (width - left - 8) / len(columns)
    scale = plot_h / max(totals)
    body = _y_axis(left, top, plot_h, max(totals), width)
    for i, column in enumerate(columns):
        body += _stack(left + i * step, top + plot_h, step, scale, column, [(n, v[i]) for n, v in series], i)
    body += _x_labels(columns, left, step, top + plot_h + 14)
    body += _legend([name for name, _ in series], top + plot_h + 34, width)
    return _svg(width, height + 16 * (len(series) // 5), label, body)


def _stack(x: float, base: float, step: float, scale: float, column: str, parts: list, _i: int) -> list[str]:
    out, y = [], base
    for index, (name, value) in enumerate(parts):
        if value:
            h = value * scale
            y -= h
            colour = OTHERS if name == "others" else PALETTE[index % len(PALETTE)]
            out.append(_rect(x + 1, y, step - 2, h, colour, f"{column} · {name}: {value}"))
    return out


def _y_axis(left: int, top: int, plot_h: int, top_value: int, width: int) -> list[str]:
    out = []
    for fraction in (0, 0.5, 1):
        y = top + plot_h - fraction * plot_h
        out.append(f'<line x1="{left}" x2="{width - 8}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(_text(left - 4, y + 4, str(round(top_value * fraction)), "end"))
    return out


def _x_labels(columns: Sequence[str], left: float, step: float, y: float) -> list[str]:
    every = max(1, round(len(columns) / 8))
    return [
        _text(left + i * step + step / 2, y, column[5:] if len(column) == 10 else column, "middle")
        for i, column in enumerate(columns)
        if i % every == 0
    ]


def _legend(names: Sequence[str], y: float, width: int) -> list[str]:
    out, per_row = [], 5
    for index, name in enumerate(names):
        x, row_y = 44 + (index % per_row) * ((width - 60) / per_row), y + 16 * (index // per_row)
        colour = OTHERS if name == "others" else PALETTE[index % len(PALETTE)]
        out.append(f'<rect x="{x:.1f}" y="{row_y - 9:.1f}" width="10" height="10" fill="{colour}"/>')
        out.append(_text(x + 14, row_y, name[:22]))
    return out


def hbars(label: str, items: Sequence[tuple[str, int]], colour: str = MUTED) -> str:
    """Horizontal bars, largest first as given: who did most, which rule changed most."""
    if not items or not max(n for _, n in items):
        return empty(label)
    width, row, left = 760, 20, 230
    top_value = max(n for _, n in items)
    body = []
    for i, (name, n) in enumerate(items):
        y = 6 + i * row
        body.append(_text(left - 6, y + 12, name[:38], "end"))
        body.append(_rect(left, y + 2, (width - left - 60) * n / top_value, row - 6, colour, f"{name}: {n}"))
        body.append(_text(left + (width - left - 60) * n / top_value + 4, y + 12, str(n)))
    return _svg(width, 12 + len(items) * row, label, body)


def heatmap(
    label: str,
    grid: Sequence[Sequence[int]],
    rows: Sequence[str],
    marked: Callable[[int, int], bool],
) -> str:
    """Counts by weekday (rows) and hour (columns); cells outside business hours get an orange border."""
    top_value = max((n for line in grid for n in line), default=0)
    if not top_value:
        return empty(label)
    cell, left, top = 28, 40, 18
    body = [_text(left + h * cell + cell / 2, 12, f"{h:02d}", "middle") for h in range(0, 24, 2)]
    for r, line in enumerate(grid):
        body.append(_text(left - 6, top + r * cell + cell / 2 + 4, rows[r], "end"))
        body += [
            _cell(left + h * cell, top + r * cell, cell, n, top_value, marked(r, h), rows[r], h)
            for h, n in enumerate(line)
        ]
    return _svg(left + 24 * cell + 8, top + len(grid) * cell + 8, label, body)


def _cell(x: float, y: float, size: int, n: int, top_value: int, off: bool, day: str, hour: int) -> str:
    shade = 0.08 + 0.92 * (n / top_value) if n else 0.0
    stroke = f' stroke="{HIGHLIGHT}" stroke-width="1.5"' if off and n else ' stroke="#fff"'
    tip = f"{day} {hour:02d}:00-{hour:02d}:59: {n} changes" + (" (outside business hours)" if off else "")
    return (
        f'<rect x="{x + 1:.1f}" y="{y + 1:.1f}" width="{size - 2}" height="{size - 2}" '
        f'fill="{MUTED}" fill-opacity="{shade:.2f}"{stroke}><title>{escape(tip)}</title></rect>'
    )


def timeline(label: str, points: Sequence[tuple[float, str, bool, str]], span: float) -> str:
    """Records around an incident: x = seconds from the incident time, one lane per actor, rules in orange."""
    if not points:
        return empty(label)
    lanes = list(dict.fromkeys(lane for _, lane, _, _ in points))
    width, left, lane_h, top = 760, 150, 22, 10
    plot_w = width - left - 16
    body = _time_axis(left, plot_w, top, lane_h * len(lanes), span)
    for i, lane in enumerate(lanes):
        body.append(_text(left - 6, top + i * lane_h + 15, lane[:22], "end"))
    for seconds, lane, rule, tip in points:
        x = left + plot_w * (seconds + span) / (2 * span)
        y = top + lanes.index(lane) * lane_h + 11
        body.append(_mark(x, y, rule, tip))
    return _svg(width, top + lane_h * len(lanes) + 30, label, body)


def _time_axis(left: int, plot_w: int, top: int, plot_h: int, span: float) -> list[str]:
    out = []
    for fraction in (0, 0.25, 0.5, 0.75, 1):
        x = left + plot_w * fraction
        seconds = -span + 2 * span * fraction
        colour = "#333" if fraction == 0.5 else "#ddd"
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + plot_h}" stroke="{colour}"/>')
        anchor = "start" if fraction == 0 else "end" if fraction == 1 else "middle"
        out.append(_text(x, top + plot_h + 14, _minutes(seconds), anchor))
    return out


def _mark(x: float, y: float, rule: bool, tip: str) -> str:
    if rule:
        points = f"{x:.1f},{y - 6:.1f} {x + 6:.1f},{y:.1f} {x:.1f},{y + 6:.1f} {x - 6:.1f},{y:.1f}"
        return f'<polygon points="{points}" fill="{HIGHLIGHT}"><title>{escape(tip)}</title></polygon>'
    circle = f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{MUTED}" fill-opacity="0.7">'
    return f"{circle}<title>{escape(tip)}</title></circle>"


def _minutes(seconds: float) -> str:
    if seconds == 0:
        return "incident"
    sign = "-" if seconds < 0 else "+"
    minutes = round(abs(seconds) / 60)
    return f"{sign}{minutes // 60}h{minutes % 60:02d}" if minutes >= 60 else f"{sign}{minutes}m"
