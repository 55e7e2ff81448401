"""Renders a composed Letter to PDF with fpdf2: letterhead, recipient, date and reference, title, sections, signature.

The text font is DejaVu Sans, embedded (subset), so every character a Danish letter uses prints and
the stored PDF looks the same on any reader. It is looked up in the usual system folders (Debian's
fonts-dejavu-core) and in matplotlib's bundled copy; without it, the PDF falls back to the standard
Helvetica in Windows-1252, which still covers æ, ø, å, dashes and § but is not embedded.
A letter is rendered once, when it is issued; its stored bytes are the record, never a re-render.
"""

from __future__ import annotations

import importlib.util
from datetime import datetime, time
from functools import lru_cache
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from domain.letters.texts import long_date
from domain.contact_file.restriction_dates import COPENHAGEN
from domain.letters.kinds import Letter, Section

MEDIA_TYPE = "application/pdf"
FONT = "DejaVu"
FALLBACK_FONT = "Helvetica"
FALLBACK_ENCODING = "windows-1252"
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),  # Debian, Ubuntu: fonts-dejavu-core
    Path("/usr/share/fonts/dejavu-sans-fonts"),  # Fedora
    Path("/usr/share/fonts/TTF"),  # Arch
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/local/share/fonts/dejavu"),
)
LEFT, TOP, RIGHT, BOTTOM = 25.0, 20.0, 20.0, 22.0
LINE = 5.2  # mm per line of 10.5 pt body text
ADDRESS_WIDTH = 85.0  # mm: the recipient's block, clear of the date and reference on the right
GREY = (90, 90, 90)


@lru_cache(maxsize=1)
def font_dir() -> Path | None:
    """The first folder holding both DejaVu Sans faces, or None (then the fallback font is used)."""
    return next((d for d in _candidate_dirs() if all((d / f).is_file() for f in FONT_FILES.values())), None)


def _candidate_dirs() -> list[Path]:
    dirs = list(FONT_DIRS)
    spec = importlib.util.find_spec("matplotlib")  # located, not imported
    if spec is not None and spec.origin:
        dirs.append(Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf")
    return dirs


class VaernPdf(FPDF):
    """An A4 document in DejaVu Sans from `fonts` (embedded), else in Helvetica with windows-1252."""

    def __init__(self, fonts: Path | None) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.face = FONT if fonts else FALLBACK_FONT
        if fonts:
            for style, name in FONT_FILES.items():
                self.add_font(FONT, style, str(fonts / name))
        else:
            self.core_fonts_encoding = FALLBACK_ENCODING

    def text_of(self, text: str) -> str:
        """The text as the chosen font can print it: unchanged with DejaVu, '?' for what 1252 lacks."""
        if self.face == FONT:
            return text
        return text.encode(FALLBACK_ENCODING, errors="replace").decode(FALLBACK_ENCODING)

    def page_footer(self, text: str, left: float, y: float, size: float) -> None:
        """A grey footer line at `y` (from the bottom if negative): `text` on the left, the page number on the right."""
        self.set_y(y)
        self.set_font(self.face, "", size)
        self.set_text_color(*GREY)
        self.cell(0, 4, self.text_of(text), align="L")
        self.set_x(left)
        self.cell(0, 4, f"Side {self.page_no()} af {{nb}}", align="R")
        self.set_text_color(0, 0, 0)


class _LetterPdf(VaernPdf):
    def __init__(self, letter: Letter, fonts: Path | None) -> None:
        super().__init__(fonts)
        self.letter = letter
        self.set_margins(LEFT, TOP, RIGHT)
        self.set_auto_page_break(True, margin=BOTTOM)

    def footer(self) -> None:
        self.page_footer(f"Vores reference: {self.letter.reference}", LEFT, -14, 8)


def render_pdf(letter: Letter) -> bytes:
    """The letter as PDF bytes; the same letter gives the same bytes (dated by the letter, not the clock)."""
    pdf = _LetterPdf(letter, font_dir())
    _describe(pdf, letter)
    pdf.add_page()
    _letterhead(pdf, letter)
    for section in letter.sections:
        _section(pdf, section)
    _signature(pdf, letter)
    return bytes(pdf.output())


def _describe(pdf: _LetterPdf, letter: Letter) -> None:
    pdf.set_title(pdf.text_of(letter.title))
    pdf.set_author(pdf.text_of(letter.sender))
    pdf.set_subject(pdf.text_of(f"{letter.kind.value} {letter.reference}"))
    pdf.set_creator("Vaern")
    pdf.set_producer("Vaern (fpdf2)")
    pdf.set_lang("da-DK")
    pdf.set_creation_date(datetime.combine(letter.date, time(0), tzinfo=COPENHAGEN))


def _letterhead(pdf: _LetterPdf, letter: Letter) -> None:
    pdf.set_font(pdf.face, "B", 11)
    pdf.multi_cell(0, 5.5, pdf.text_of(letter.sender), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_draw_color(*GREY)
    pdf.line(LEFT, pdf.get_y() + 1.5, pdf.w - RIGHT, pdf.get_y() + 1.5)
    pdf.ln(8)
    top = pdf.get_y()
    pdf.set_font(pdf.face, "", 10.5)  # the address block, left, where a window envelope shows it
    for line in letter.recipient.lines():
        pdf.multi_cell(ADDRESS_WIDTH, 5.2, pdf.text_of(line), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    below_address = pdf.get_y()
    pdf.set_y(top)
    pdf.set_font(pdf.face, "", 10)
    pdf.cell(0, 5, pdf.text_of(f"Dato: {long_date(letter.date)}"), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.cell(0, 5, pdf.text_of(f"Vores reference: {letter.reference}"), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(max(below_address, pdf.get_y()))
    pdf.ln(10)
    pdf.set_font(pdf.face, "B", 13)
    pdf.multi_cell(0, 6.5, pdf.text_of(letter.title), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)


def _section(pdf: _LetterPdf, section: Section) -> None:
    _keep_room(pdf, 22)  # a heading never ends a page alone
    pdf.ln(2)
    pdf.set_font(pdf.face, "B", 11)
    pdf.multi_cell(0, 6, pdf.text_of(section.heading), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(0.5)
    pdf.set_font(pdf.face, "", 10.5)
    for paragraph in section.paragraphs:
        pdf.multi_cell(0, LINE, pdf.text_of(paragraph), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1.8)
    for item in section.items:
        _item(pdf, item)
    if section.items:
        pdf.ln(1.2)


def _item(pdf: _LetterPdf, text: str) -> None:
    """A listed item with a hanging indent: the bullet in the margin of its own text block."""
    _keep_room(pdf, LINE * 2)
    pdf.set_x(LEFT + 2)
    pdf.cell(5, LINE, pdf.text_of("•"))
    pdf.multi_cell(0, LINE, pdf.text_of(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(0.8)


def _signature(pdf: _LetterPdf, letter: Letter) -> None:
    _keep_room(pdf, 32)  # the closing, name and title stay together
    pdf.ln(6)
    pdf.set_font(pdf.face, "", 10.5)
    pdf.cell(0, LINE, pdf.text_of(letter.closing), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(8)
    pdf.set_font(pdf.face, "B", 10.5)
    pdf.cell(0, LINE, pdf.text_of(letter.signed_by.name), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(pdf.face, "", 10.5)
    pdf.cell(0, LINE, pdf.text_of(letter.signed_by.title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _keep_room(pdf: _LetterPdf, height: float) -> None:
    if pdf.get_y() + height > pdf.h - BOTTOM:
        pdf.add_page()
