"""A PDF as its reader sees it: the text a reader extracts, and each page rendered to an image by Poppler."""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from pathlib import Path

from PIL import Image
from pypdf import PdfReader

A4_MM = (210.0, 297.0)


def text_of(content: bytes) -> str:
    """All the pages' text, with line breaks and runs of spaces squeezed (extraction splits wrapped lines)."""
    pages = PdfReader(io.BytesIO(content)).pages
    return " ".join(" ".join(page.extract_text() for page in pages).split())


def rendered(content: bytes, dpi: int = 72) -> list[Image.Image]:
    """Each page rendered by Poppler's pdftoppm, in greyscale, as a real PDF reader draws it."""
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "pdftoppm not found: install Debian's poppler-utils (infra/dev.sh test does)"
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "document.pdf"
        source.write_bytes(content)
        subprocess.run([pdftoppm, "-r", str(dpi), "-gray", "-png", str(source), str(Path(folder) / "page")],
                       check=True, capture_output=True, timeout=60)  # fmt: skip
        pages = sorted(Path(folder).glob("page*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[-1]))
        return [Image.open(page).convert("L").copy() for page in pages]


def ink(page: Image.Image, left_mm: float, top_mm: float, right_mm: float, bottom_mm: float) -> int:
    """How many dark pixels lie in a box given in millimetres from the page's top left corner."""
    scale = page.width / A4_MM[0]
    left, top = max(0, round(left_mm * scale)), max(0, round(top_mm * scale))
    right, bottom = min(page.width, round(right_mm * scale)), min(page.height, round(bottom_mm * scale))
    return sum(page.crop((left, top, right, bottom)).histogram()[:128])  # outside the page counts as nothing


def check_layout(pages: list[Image.Image], margin_mm: float) -> None:
    """Every page is A4, carries print, and nothing spills into the side margins (nothing cut off)."""
    assert pages, "no page rendered"
    for number, page in enumerate(pages, 1):
        assert abs(page.height / page.width - A4_MM[1] / A4_MM[0]) < 0.01, f"page {number} is not A4"
        assert ink(page, 0, 0, A4_MM[0], A4_MM[1]) > 500, f"page {number} is blank"
        assert ink(page, 0, 0, margin_mm - 3, A4_MM[1]) == 0, f"page {number} prints into the left margin"
        assert ink(page, A4_MM[0] - margin_mm + 3, 0, A4_MM[0], A4_MM[1]) == 0, f"page {number} prints into the right margin"
