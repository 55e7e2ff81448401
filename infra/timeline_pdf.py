"""Renders a legal timeline to PDF with fpdf2, in Danish: who exported what, when, up to which log position.

An as-of answer is printed the same way, as headed sections instead of facts. The header states
the subject, the moment of export, the exporting user and the event-log position the export
reflects, so a printed timeline can be matched to the log later. Each fact shows its position,
its Danish name, both times (when it took effect and when it was recorded), who recorded it, its
summary and the SHA-256 of every letter it produced. Times are printed as every document prints
them (`domain.moments.printed`: Copenhagen time to the second, with the UTC offset). The font is
the letters' DejaVu Sans (infra/pdf.py), with the same fallback.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from fpdf.enums import XPos, YPos

from domain.danish import LETTER_KINDS, word
from domain.moments import printed
from domain.records.timeline import Entry
from domain.values import Actor
from infra.access_log import AccessEntry, Purpose
from infra.pdf import GREY, VaernPdf, font_dir

MARGIN = 18.0
LINE = 4.6


@dataclass(frozen=True)
class TimelineExport:
    """What one export shows: the subject, the export's own facts, the entries and any extra sections."""

    title: str
    subject: str  # e.g. "Borgerreference 5f0c…" or "Hændelse 9a1b…"
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


PURPOSES = {
    Purpose.ENTRY_CHECK: "adgangskontrol", Purpose.CALL_ROUTING: "opkaldsstyring", Purpose.CASE_HANDLING: "sagsbehandling",
    Purpose.LEGAL_REVIEW: "juridisk gennemgang", Purpose.SUBJECT_ACCESS_REQUEST: "indsigtsanmodning",
    Purpose.DENIED: "afvist forsøg",
}


def stamp(value: datetime) -> str:
    """A moment as every document prints it: Copenhagen time to the second, with its UTC offset."""
    return printed(value)


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
        self.page_footer(f"{self.export.subject} · logposition {self.export.position}", MARGIN, -12, 7.5)


def render_timeline(export: TimelineExport) -> bytes:
    """The timeline as PDF bytes."""
    pdf = _TimelinePdf(export)
    pdf.set_title(pdf.text_of(f"{export.title}: {export.subject_ref}"))
    pdf.set_author(pdf.text_of(export.exported_by.name))
    pdf.set_creator("Vaern")
    pdf.set_producer("Vaern (fpdf2)")
    pdf.set_lang("da-DK")
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
        _heading(pdf, f"Registreringer ({len(export.entries)}) i logrækkefølge")
    for entry in export.entries:
        _entry(pdf, entry)
    if export.accesses:
        _heading(pdf, f"Hvem har læst oplysningerne ({len(export.accesses)} opslag)")
        for access in export.accesses:
            purpose = PURPOSES.get(access.purpose, word(access.purpose))
            who = f"{access.user_id} ({word(access.role)})" if access.role else "ukendt (intet gyldigt token)"
            pdf.line_of(f"{stamp(access.at)}  {who}  {purpose}: {access.what}", 8.5)
    return bytes(pdf.output())


def _header(pdf: _TimelinePdf, export: TimelineExport) -> None:
    pdf.line_of(export.title, 14, "B", 7)
    pdf.ln(1)
    by = export.exported_by
    for text in (
        export.subject,
        *export.header,
        f"Eksporteret: {stamp(export.exported_at)}",
        f"Eksporteret af: {by.name} ({by.user_id}, {word(by.role)})",
        f"Afspejler hændelsesloggen til og med position: {export.position}",
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
    pdf.line_of(f"#{entry.position}  {entry.name}", 9, "B")
    actor = entry.actor
    pdf.set_text_color(*GREY)
    pdf.line_of(f"Virkning {stamp(entry.effective_at)} · registreret {stamp(entry.recorded_at)}", 8)
    pdf.line_of(f"Af {actor.name} ({actor.user_id}, {word(actor.role)}) · version {entry.version} af {entry.originator_id}", 8)
    pdf.set_text_color(0, 0, 0)
    pdf.line_of(entry.summary, 9.5)
    for letter in entry.letters:
        pdf.line_of(f"Brev {letter.letter_id} ({LETTER_KINDS.get(letter.kind, letter.kind)}) SHA-256 {letter.sha256}", 7.5)
    pdf.ln(1.6)
