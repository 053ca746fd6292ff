"""Charts drawn on the server as inline SVG: no script, no CDN, no style attribute.

A chart is an image with a <title> and a <desc> (``role="img"``, ``aria-labelledby``); the page
puts the same numbers in a table next to it, so that nobody depends on the picture.
"""
from dataclasses import dataclass

from markupsafe import Markup, escape

BAR = 14
GAP = 6
GROUP_GAP = 14
LABEL_WIDTH = 220
PLOT_WIDTH = 300
VALUE_WIDTH = 40


@dataclass(frozen=True)
class Series:
    name: str
    css_class: str  # colours live in the stylesheet (fill by class)


def grouped_bar_chart(*, chart_id: str, title: str, description: str,
                      categories: list[str], series: list[Series],
                      values: list[list[int]]) -> Markup:
    """Horizontal grouped bars: one group per category (a unit), one bar per series.
    ``values[i][j]`` is series j of category i."""
    highest = max([v for group in values for v in group] + [1])
    group_height = len(series) * (BAR + 2) + GROUP_GAP
    legend_height = 24
    height = legend_height + len(categories) * group_height + GAP
    width = LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH
    parts = [
        (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" '
         f'viewBox="0 0 {width} {height}" width="100%" role="img" '
         f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc">'),
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>',
    ]
    x = LABEL_WIDTH
    for j, item in enumerate(series):
        parts.append(f'<rect class="{escape(item.css_class)}" x="{x}" y="4" width="12" '
                     f'height="12"/>')
        parts.append(f'<text class="chart-legend" x="{x + 16}" y="14">{escape(item.name)}</text>')
        x += 130
    y = legend_height
    for i, label in enumerate(categories):
        short = label if len(label) <= 34 else label[:33] + "…"
        parts.append(f'<text class="chart-label" x="{LABEL_WIDTH - 6}" '
                     f'y="{y + len(series) * (BAR + 2) / 2 + 4:.0f}" '
                     f'text-anchor="end">{escape(short)}</text>')
        for j, item in enumerate(series):
            value = values[i][j]
            length = round(PLOT_WIDTH * value / highest)
            parts.append(
                f'<rect class="{escape(item.css_class)}" x="{LABEL_WIDTH}" y="{y}" '
                f'width="{length}" height="{BAR}"><title>{escape(label)}: {escape(item.name)} '
                f'{value}</title></rect>')
            parts.append(f'<text class="chart-value" x="{LABEL_WIDTH + length + 4}" '
                         f'y="{y + BAR - 3}">{value}</text>')
            y += BAR + 2
        y += GROUP_GAP
    parts.append("</svg>")
    return Markup("".join(parts))
