"""Charts drawn on the server as inline SVG: they work offline, with no chart library."""

from __future__ import annotations

from html import escape

from markupsafe import Markup


def _nice_max(value: float) -> int:
    """A round upper bound for the axis (1, 2, 5 × 10^n)."""
    if value <= 0:
        return 1
    magnitude = 1
    while magnitude * 10 <= value:
        magnitude *= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


#: the plot's margins inside the chart: left (the axis' values), right, top (the title),
#: bottom (the labels and the legend)
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 28, 48


def bar_chart(
    labels: list[str],
    series: list[tuple[str, str, list[int]]],
    title: str,
    width: int = 760,
    height: int = 260,
) -> Markup:
    """Grouped bars: one group per label, one bar per series (name, colour, values)."""
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM
    top_value = _nice_max(max((v for _, _, values in series for v in values), default=0))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
        *_axis(top_value, width, plot_h),
        *_bars(labels, series, top_value, plot_w, plot_h),
        *_legend(series, height),
        f'<text x="{LEFT}" y="16" font-size="13" font-weight="600" fill="#1f2328">'
        f"{escape(title)}</text>",
        "</svg>",
    ]
    return Markup("".join(parts))


def _axis(top_value: int, width: int, plot_h: float) -> list[str]:
    """Five grid lines from 0 to `top_value`, each with its value."""
    parts = []
    for i in range(5):
        value = top_value * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{width - RIGHT}" y2="{y:.1f}" '
            'stroke="#d0d7de" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#667085">{value:g}</text>'
        )
    return parts


def _bars(
    labels: list[str],
    series: list[tuple[str, str, list[int]]],
    top_value: int,
    plot_w: float,
    plot_h: float,
) -> list[str]:
    """Per label, a group of bars (one per series) and the label under it."""
    group_w = plot_w / max(len(labels), 1)
    bar_w = max(2.0, (group_w * 0.8) / max(len(series), 1))
    parts = []
    for g, label in enumerate(labels):
        x0 = LEFT + g * group_w + group_w * 0.1
        for s, (name, colour, values) in enumerate(series):
            value = values[g] if g < len(values) else 0
            h = plot_h * value / top_value
            x = x0 + s * bar_w
            parts.append(
                f'<rect x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{bar_w - 1:.1f}" '
                f'height="{h:.1f}" fill="{escape(colour)}" data-series="{escape(name)}" '
                f'data-month="{escape(label)}" data-value="{value}">'
                f"<title>{escape(label)} {escape(name)}：{value}</title></rect>"
            )
        parts.append(
            f'<text x="{LEFT + g * group_w + group_w / 2:.1f}" y="{TOP + plot_h + 16}" '
            f'text-anchor="middle" font-size="11" fill="#333">{escape(label)}</text>'
        )
    return parts


def _legend(series: list[tuple[str, str, list[int]]], height: int) -> list[str]:
    """A colour swatch and the name of each series, along the bottom."""
    parts = []
    x = LEFT
    for name, colour, _ in series:
        parts.append(
            f'<rect x="{x}" y="{height - 18}" width="12" height="12" fill="{escape(colour)}"/>'
        )
        parts.append(
            f'<text x="{x + 16}" y="{height - 8}" font-size="12" fill="#333">{escape(name)}</text>'
        )
        x += 16 + 14 * len(name) + 18
    return parts
