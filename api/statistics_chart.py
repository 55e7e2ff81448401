"""A server-rendered SVG bar chart of incidents per month; masked months are hatched and labelled.

A masked month has no height to draw: its column is hatched over the whole plot, so it can never
be read as a small (or any) value, and is labelled "masked". Each bar carries its month and, when
shown, its value as data attributes, so the chart can be checked by machine as well as by eye.
The chart names its release (title, description and a data attribute), so a printed or forwarded
chart can be traced to the figures it shows.
"""

from __future__ import annotations

from datetime import timedelta
from xml.sax.saxutils import escape, quoteattr

from api.statistics_schemas import MonthOut, StatisticsOut

WIDTH_PER_MONTH, MIN_WIDTH, HEIGHT = 64, 640, 400
LEFT, RIGHT, TOP, BOTTOM = 72, 24, 76, 96
BAR, MASKED_FILL = "#2f6690", "url(#masked-hatch)"


def _step(top: int) -> int:
    """A round tick step that gives at most six ticks up to `top`."""
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            if top / (factor * magnitude) <= 6:
                return factor * magnitude
        magnitude *= 10


def _text(x: float, y: float, content: str, **attributes: str) -> str:
    extra = "".join(f" {name.replace('_', '-')}={quoteattr(value)}" for name, value in attributes.items())
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{escape(content)}</text>'


def incidents_per_month_svg(out: StatisticsOut) -> str:
    """The chart of a release as an SVG document."""
    months, release = out.incidents_per_month, out.release
    assert release is not None, "only a release is drawn"
    width = max(MIN_WIDTH, LEFT + RIGHT + WIDTH_PER_MONTH * len(months))
    plot_h = HEIGHT - TOP - BOTTOM
    highest = max([c.value for c in months if c.value is not None] + [1])
    step = _step(highest)
    top = -(-highest // step) * step
    last_day = out.period.to - timedelta(days=1)
    first, position = out.period.first.isoformat(), out.position
    subtitle = f"{first} to {last_day.isoformat()}, as at event-log position {position}"
    verified = "" if release.verified else f" Not verified: {release.verification}"
    description = f"Statistics release {release.id} (SHA-256 {release.sha256}).{verified}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{HEIGHT}" viewBox="0 0 {width} {HEIGHT}"'
        ' role="img" aria-labelledby="chart-title" aria-describedby="chart-desc" font-family="sans-serif"'
        f' font-size="12" data-release-id="{release.id}">',
        f'<title id="chart-title">{escape(f"Incidents per month, {subtitle}, release {release.id}")}</title>',
        f'<desc id="chart-desc">{escape(description)}</desc>',
        '<defs><pattern id="masked-hatch" width="8" height="8" patternUnits="userSpaceOnUse"'
        ' patternTransform="rotate(45)"><rect width="8" height="8" fill="#eeeeee"/>'
        '<line x1="0" y1="0" x2="0" y2="8" stroke="#999999" stroke-width="3"/></pattern></defs>',
        f'<rect width="{width}" height="{HEIGHT}" fill="#ffffff"/>',
        _text(width / 2, 26, "Incidents per month", text_anchor="middle", font_size="16", font_weight="bold"),
        _text(width / 2, 46, subtitle, text_anchor="middle", font_size="13", **{"class": "subtitle"}),
    ]
    parts += _axes(width, plot_h, top, step)
    slot = (width - LEFT - RIGHT) / max(len(months), 1)
    for i, cell in enumerate(months):
        parts += _bar(cell, LEFT + i * slot + slot * 0.15, slot * 0.7, plot_h * (cell.value or 0) / top)
    parts += _legend(out.computation.min_cell)
    parts.append(_text(width - RIGHT, TOP - 10, f"release {release.id}", text_anchor="end", font_size="10",
                       **{"class": "release"}))
    parts.append("</svg>")
    return "\n".join(parts)


def _bar(cell: MonthOut, x: float, bar_w: float, h: float) -> list[str]:
    """One month's column: a bar of height `h` with its value, or a hatched column marked "masked"."""
    centre, bottom = x + bar_w / 2, HEIGHT - BOTTOM
    label = _text(centre, bottom + 18, cell.month, text_anchor="middle", **{"class": "month"})
    if not cell.masked:
        return [
            f'<rect class="bar" data-month="{cell.month}" data-value="{cell.value}" x="{x:.1f}"'
            f' y="{bottom - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{BAR}"/>',
            _text(centre, bottom - h - 4, str(cell.value), text_anchor="middle"),
            label,
        ]
    return [
        f'<rect class="bar masked" data-month="{cell.month}" x="{x:.1f}" y="{TOP}" width="{bar_w:.1f}"'
        f' height="{bottom - TOP}" fill="{MASKED_FILL}" stroke="#777777" stroke-dasharray="4 3"/>',
        f'<rect x="{centre - 26:.1f}" y="{TOP + 6}" width="52" height="16" rx="3" fill="#ffffff" stroke="#777777"/>',
        _text(centre, TOP + 18, "masked", text_anchor="middle", font_style="italic", fill="#333333"),
        label,
    ]


def _axes(width: int, plot_h: int, top: int, step: int) -> list[str]:
    bottom = TOP + plot_h
    parts = [
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}" stroke="#333333"/>',
        f'<line x1="{LEFT}" y1="{bottom}" x2="{width - RIGHT}" y2="{bottom}" stroke="#333333"/>',
    ]
    for tick in range(0, top + 1, step):
        y = bottom - plot_h * tick / top
        parts.append(f'<line x1="{LEFT - 4}" y1="{y:.1f}" x2="{width - RIGHT}" y2="{y:.1f}" stroke="#dddddd"/>')
        parts.append(_text(LEFT - 8, y + 4, str(tick), text_anchor="end", **{"class": "tick"}))
    middle_y, middle_x = TOP + plot_h / 2, LEFT + (width - LEFT - RIGHT) / 2
    rotate = f"rotate(-90 18 {middle_y:.1f})"
    parts.append(_text(18, middle_y, "Incidents", text_anchor="middle", transform=rotate, **{"class": "axis-label"}))
    x_label = "Month in which the incident occurred (Europe/Copenhagen)"
    parts.append(_text(middle_x, bottom + 40, x_label, text_anchor="middle", **{"class": "axis-label"}))
    return parts


def _legend(min_cell: int) -> list[str]:
    y, legend = HEIGHT - 30, {"class": "legend"}
    return [
        f'<rect x="{LEFT}" y="{y - 10}" width="14" height="12" fill="{MASKED_FILL}" stroke="#777777"/>',
        _text(LEFT + 20, y, f"masked: from 1 to {min_cell - 1} incidents, or hidden so that such a month", **legend),
        _text(LEFT + 20, y + 15, "cannot be worked out from the total; the column shows no value", **legend),
    ]
