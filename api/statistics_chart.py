"""A server-rendered SVG bar chart of incidents per month, in Danish, that never makes a hidden figure look big.

A masked month has no value to draw, so it gets no bar: an empty slot labelled "skjult" at the
baseline, never taller than any bar shown (a hatched full-height column read as the biggest month).
A month that had not ended when the release was made is drawn lighter and marked "ikke slut".
The subtitle says when the figures were made (date and time); the release id, its SHA-256 and
the event-log position stay in the metadata (title, description, data attributes), so a printed
or forwarded chart can be traced to its figures. Each bar carries its month and, when shown, its
value as data attributes, so the chart can be checked by machine as well as by eye.
"""

from __future__ import annotations

from datetime import timedelta
from xml.sax.saxutils import escape, quoteattr

from api.statistics_labels import MASKED, masking_note, month_ended, month_label
from api.statistics_schemas import MonthOut, StatisticsOut
from domain.moments import printed

WIDTH_PER_MONTH, MIN_WIDTH, HEIGHT = 72, 640, 420
LEFT, RIGHT, TOP, BOTTOM = 72, 24, 76, 116
BAR, UNFINISHED = "#2f6690", "#9cc3dc"


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
    last_month = (out.period.to - timedelta(days=1)).strftime("%Y-%m")
    span = f"{month_label(out.period.first.strftime('%Y-%m'))} – {month_label(last_month)}"
    subtitle = f"{span} · opgjort {printed(release.requested_at)}"
    verified = "" if release.verified else f" Ikke verificeret: {release.verification}"
    description = (
        f"Statistikudgivelse {release.id} (SHA-256 {release.sha256}), beregnet ved hændelseslogens position"
        f" {out.position}.{verified}"
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{HEIGHT}" viewBox="0 0 {width} {HEIGHT}"'
        ' role="img" aria-labelledby="chart-title" aria-describedby="chart-desc" font-family="sans-serif"'
        f' font-size="12" data-release-id="{release.id}" data-position="{out.position}" lang="da">',
        f'<title id="chart-title">{escape(f"Hændelser pr. måned, {subtitle}, udgivelse {release.id}")}</title>',
        f'<desc id="chart-desc">{escape(description)}</desc>',
        f'<rect width="{width}" height="{HEIGHT}" fill="#ffffff"/>',
        _text(width / 2, 26, "Hændelser pr. måned", text_anchor="middle", font_size="16", font_weight="bold"),
        _text(width / 2, 46, subtitle, text_anchor="middle", font_size="13", **{"class": "subtitle"}),
    ]
    parts += _axes(width, plot_h, top, step)
    slot = (width - LEFT - RIGHT) / max(len(months), 1)
    stocks_at = out.computation.stocks_at
    for i, cell in enumerate(months):
        ended = month_ended(cell.month, stocks_at)
        parts += _bar(cell, LEFT + i * slot + slot * 0.15, slot * 0.7, plot_h * (cell.value or 0) / top, ended)
    parts += _legend(out.computation.min_cell, any(not month_ended(c.month, stocks_at) for c in months))
    parts.append(_text(width - RIGHT, TOP - 10, f"udgivelse {release.id}", text_anchor="end", font_size="10",
                       **{"class": "release"}))
    parts.append("</svg>")
    return "\n".join(parts)


def _bar(cell: MonthOut, x: float, bar_w: float, h: float, ended: bool) -> list[str]:
    """One month's column: a bar of height `h` with its value, or an empty slot marked "skjult"."""
    centre, bottom = x + bar_w / 2, HEIGHT - BOTTOM
    name, _, year = month_label(cell.month, short=True).rpartition(" ")  # "jan." and "2026"
    labels = [
        _text(centre, bottom + 16, name, text_anchor="middle", **{"class": "month"}),
        _text(centre, bottom + 30, year, text_anchor="middle", **{"class": "month"}),
    ]
    if not ended:
        labels.append(_text(centre, bottom + 44, "ikke slut", text_anchor="middle", font_size="10", font_style="italic",
                            **{"class": "unfinished"}))
    state = "" if ended else " unfinished"
    if cell.masked:
        return [
            f'<rect class="bar masked{state}" data-month="{cell.month}" data-ended="{str(ended).lower()}" x="{x:.1f}"'
            f' y="{bottom}" width="{bar_w:.1f}" height="0" fill="none"/>',
            _text(centre, bottom - 5, MASKED, text_anchor="middle", font_style="italic", fill="#555555",
                  **{"class": "masked-label"}),
            *labels,
        ]
    return [
        f'<rect class="bar{state}" data-month="{cell.month}" data-value="{cell.value}" data-ended="{str(ended).lower()}"'
        f' x="{x:.1f}" y="{bottom - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{BAR if ended else UNFINISHED}"/>',
        _text(centre, bottom - h - 4, str(cell.value), text_anchor="middle"),
        *labels,
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
    parts.append(_text(18, middle_y, "Antal hændelser", text_anchor="middle", transform=rotate, **{"class": "axis-label"}))
    x_label = "Måned, hvor hændelsen skete (dansk tid)"
    parts.append(_text(middle_x, bottom + 62, x_label, text_anchor="middle", **{"class": "axis-label"}))
    return parts


def _legend(min_cell: int, unfinished: bool) -> list[str]:
    y, legend = HEIGHT - 30, {"class": "legend", "font_size": "11"}
    note = masking_note(min_cell)
    parts = [_text(LEFT, y, f"{MASKED}: {note[0].lower()}{note[1:]}", **legend)]
    if unfinished:
        parts.append(_text(LEFT, y + 15, "ikke slut: måneden var ikke slut, da tallene blev opgjort", **legend))
    return parts
