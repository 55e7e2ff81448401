"""Renders a legal timeline to PDF with fpdf2: who exported what, when, up to which log position.

An as-of answer is printed the same way, as headed sections instead of facts. The header states
the subject, the moment of export, the exporting user and the event-log position
the export reflects, so a printed timeline can be matched to the log later. Each fact shows its
position, both times (effective and recorded), who recorded it, its summary and the SHA-256 of
every letter it produced. Times are printed in Copenhagen time with their UTC offset. The font is
the letters' DejaVu Sans (infra/pdf.py), with the same fallback.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from fpdf.enums import XPos, YPos

from domain.timeline import Entry, moment
from domain.values import Actor
from infra.access_log import AccessEntry
from infra.pdf import GREY, VaernPdf, font_dir

MARGIN = 18.0
LINE = 4.6


@dataclass(frozen=True)
class TimelineExport:
    """What one export shows: the subject, the export's own facts, the entries and any extra sections."""

    title: str
    subject: str  # e.g. "Citizen reference 5f0c…" or "Incident 9a1b…"
    subject_ref: UUID
    exported_at: datetime
    exported_by: Actor
    position: int
    entries: Sequence[Entry]
    related: Sequence[str] = ()  # one line each, e.g. the incidents naming the citizen
    related_heading: str = ""
    accesses: Sequence[AccessEntry] = ()
    header: Sequence[str] = ()  # further lines under the subject, e.g. the moment an as-of answer is about
    sections: Sequence[tuple[str, Sequence[str]]] = ()  # headed lists of lines, shown before the facts


def stamp(value: datetime) -> str:
    """Copenhagen time to the microsecond: the moments a legal answer turns on can lie milliseconds apart."""
    return moment(value)


class _TimelinePdf(VaernPdf):
    def __init__(self, export: TimelineExport) -> None:
        super().__init__(font_dir())
        self.export = export
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=MARGIN)

    def line_of(self, text: str, size: float = 9, style: str = "", height: float = LINE) -> None:
        self.set_font(self.face, style, size)
        self.multi_cell(0, height, self.text_of(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.face, "", 7.5)
        self.set_text_color(*GREY)
        self.cell(0, 4, self.text_of(f"{self.export.subject} · log position {self.export.position}"), align="L")
        self.set_x(MARGIN)
        self.cell(0, 4, f"Page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(0, 0, 0)


def render_timeline(export: TimelineExport) -> bytes:
    """The timeline as PDF bytes."""
    pdf = _TimelinePdf(export)
    pdf.set_title(pdf.text_of(f"{export.title}: {export.subject_ref}"))
    pdf.set_author(pdf.text_of(export.exported_by.name))
    pdf.set_creator("Vaern")
    pdf.set_producer("Vaern (fpdf2)")
    pdf.add_page()
    _header(pdf, export)
    if export.related:
        _heading(pdf, export.related_heading)
        for line in export.related:
            pdf.line_of(line)
    for heading, lines in export.sections:
        _heading(pdf, heading)
        for line in lines:
            pdf.line_of(line)
    if export.entries or not export.sections:
        _heading(pdf, f"Facts ({len(export.entries)}), in log order")
    for entry in export.entries:
        _entry(pdf, entry)
    if export.accesses:
        _heading(pdf, f"Who read the data ({len(export.accesses)} reads)")
        for access in export.accesses:
            pdf.line_of(f"{stamp(access.at)}  {access.user_id} ({access.role.value})  {access.purpose.value}: {access.what}", 8.5)
    return bytes(pdf.output())


def _header(pdf: _TimelinePdf, export: TimelineExport) -> None:
    pdf.line_of(export.title, 14, "B", 7)
    pdf.ln(1)
    by = export.exported_by
    for text in (
        export.subject,
        *export.header,
        f"Exported at: {stamp(export.exported_at)}",
        f"Exported by: {by.name} ({by.user_id}, {by.role.value})",
        f"Reflects the event log up to position: {export.position}",
    ):
        pdf.line_of(text, 10, height=5.2)
    pdf.set_draw_color(*GREY)
    pdf.line(MARGIN, pdf.get_y() + 2, pdf.w - MARGIN, pdf.get_y() + 2)
    pdf.ln(4)


def _heading(pdf: _TimelinePdf, text: str) -> None:
    if pdf.get_y() + 20 > pdf.h - MARGIN:
        pdf.add_page()
    pdf.ln(3)
    pdf.line_of(text, 11.5, "B", 6)
    pdf.ln(1)


def _entry(pdf: _TimelinePdf, entry: Entry) -> None:
    if pdf.get_y() + 4 * LINE > pdf.h - MARGIN:  # an entry's first lines stay together
        pdf.add_page()
    pdf.line_of(f"#{entry.position}  {entry.type}", 9, "B")
    actor = entry.actor
    pdf.set_text_color(*GREY)
    pdf.line_of(f"Effective {stamp(entry.effective_at)} · recorded {stamp(entry.recorded_at)}", 8)
    pdf.line_of(f"By {actor.name} ({actor.user_id}, {actor.role.value}) · version {entry.version} of {entry.originator_id}", 8)
    pdf.set_text_color(0, 0, 0)
    pdf.line_of(entry.summary, 9.5)
    for letter in entry.letters:
        pdf.line_of(f"Letter {letter.letter_id} ({letter.kind}) SHA-256 {letter.sha256}", 7.5)
    pdf.ln(1.6)
