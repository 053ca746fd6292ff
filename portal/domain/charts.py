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
    # Every text put into the SVG went through escape(); the rest are numbers we computed.
    return Markup("".join(parts))  # nosec B704


def bar_chart(*, chart_id: str, title: str, description: str, labels: list[str],
              values: list[int], name: str, css_class: str = "bar-received") -> Markup:
    """Horizontal bars, one per label (a single series)."""
    return grouped_bar_chart(chart_id=chart_id, title=title, description=description,
                             categories=labels, series=[Series(name, css_class)],
                             values=[[value] for value in values])


LINE_LEFT = 44
LINE_TOP = 10
LINE_PLOT_HEIGHT = 180
LINE_STEP = 44
LINE_BOTTOM = 40


def line_chart(*, chart_id: str, title: str, description: str, labels: list[str],
               series: list[Series], values: list[list[int]]) -> Markup:
    """One line per series over the labels (months, left to right); ``values[j][i]`` is
    series j at label i. The legend sits under the plot, one series per line."""
    highest = max([v for line in values for v in line] + [1])
    count = max(len(labels), 1)
    step = LINE_STEP if count <= 14 else max(8, 600 // count)
    every = 1 if step >= LINE_STEP else -(-LINE_STEP // step)  # label every n-th point
    plot_width = step * (count - 1) if count > 1 else step
    width = LINE_LEFT + plot_width + 30
    legend_top = LINE_TOP + LINE_PLOT_HEIGHT + LINE_BOTTOM
    height = legend_top + 18 * len(series) + 6
    cid = escape(chart_id)
    parts = [
        (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart line-chart" id="{cid}" '
         f'viewBox="0 0 {width} {height}" width="100%" role="img" '
         f'aria-labelledby="{cid}-title {cid}-desc">'),
        f'<title id="{cid}-title">{escape(title)}</title>',
        f'<desc id="{cid}-desc">{escape(description)}</desc>',
    ]
    bottom = LINE_TOP + LINE_PLOT_HEIGHT

    def x_of(i: int) -> int:
        return LINE_LEFT + i * step

    def y_of(value: int) -> float:
        return bottom - LINE_PLOT_HEIGHT * value / highest

    for fraction in (0, 0.5, 1):
        y = bottom - LINE_PLOT_HEIGHT * fraction
        parts.append(f'<line class="chart-grid" x1="{LINE_LEFT}" y1="{y:.0f}" '
                     f'x2="{LINE_LEFT + plot_width}" y2="{y:.0f}"/>')
        parts.append(f'<text class="chart-label" x="{LINE_LEFT - 4}" y="{y + 4:.0f}" '
                     f'text-anchor="end">{round(highest * fraction)}</text>')
    for i, label in enumerate(labels):
        if i % every == 0:
            parts.append(f'<text class="chart-label" x="{x_of(i)}" y="{bottom + 16}" '
                         f'text-anchor="middle">{escape(label)}</text>')
    for j, item in enumerate(series):
        points = " ".join(f"{x_of(i)},{y_of(v):.1f}" for i, v in enumerate(values[j]))
        parts.append(f'<polyline class="{escape(item.css_class)}" fill="none" '
                     f'points="{points}"/>')
        for i, value in enumerate(values[j]):
            parts.append(f'<circle class="{escape(item.css_class)}" cx="{x_of(i)}" '
                         f'cy="{y_of(value):.1f}" r="3"><title>{escape(item.name)}, '
                         f'{escape(labels[i])}: {value}</title></circle>')
        y = legend_top + 18 * j
        parts.append(f'<rect class="{escape(item.css_class)} legend-key" x="{LINE_LEFT}" '
                     f'y="{y}" width="12" height="12"/>')
        parts.append(f'<text class="chart-legend" x="{LINE_LEFT + 16}" y="{y + 10}">'
                     f'{escape(item.name)}</text>')
    parts.append("</svg>")
    # Every text put into the SVG went through escape(); the rest are numbers we computed.
    return Markup("".join(parts))  # nosec B704
