"""Small charts rendered on the server as SVG: no script, no CDN."""

from __future__ import annotations

from html import escape

COLOURS = ["#a23b2a", "#2a9d8f", "#8e7dbe", "#e9c46a"]


def bar_chart(
    labels: list[str], series: dict[str, list[int]], title: str, width: int = 640, height: int = 220
) -> str:
    """Grouped bars, one group per label, one bar per series, with a legend and axis."""
    left, bottom, top = 36, 28, 24
    plot_w, plot_h = width - left - 8, height - bottom - top
    peak = max([1] + [v for values in series.values() for v in values])
    group_w = plot_w / max(1, len(labels))
    bar_w = max(2.0, (group_w - 6) / max(1, len(series)))
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'role="img" aria-label="{escape(title)}" class="chart">'
        ),
        f"<title>{escape(title)}</title>",
        (
            f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 8}" y2="{top + plot_h}" '
            'stroke="#bbb"/>'
        ),
        f'<text x="{left - 4}" y="{top + 4}" text-anchor="end" font-size="10">{peak}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end" font-size="10">0</text>',
    ]
    for i, label in enumerate(labels):
        x0 = left + i * group_w + 3
        for j, (name, values) in enumerate(series.items()):
            value = values[i]
            h = plot_h * value / peak
            parts.append(
                f'<rect x="{x0 + j * bar_w:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w - 1:.1f}" '
                f'height="{h:.1f}" fill="{COLOURS[j % len(COLOURS)]}">'
                f"<title>{escape(name)} {escape(label)}: {value}</title></rect>"
            )
        if i % max(1, len(labels) // 6) == 0:
            parts.append(
                f'<text x="{x0:.1f}" y="{height - 10}" font-size="10">{escape(label)}</text>'
            )
    for j, name in enumerate(series):
        parts.append(
            f'<rect x="{left + j * 130}" y="4" width="10" height="10" '
            f'fill="{COLOURS[j % len(COLOURS)]}"/><text x="{left + j * 130 + 14}" y="13" '
            f'font-size="11">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
