import io
from datetime import date, datetime, timezone

import pytest
from pypdf import PdfReader

import infra.pdf
from domain.letters.kinds import Recipient, compose_decision_letter
from domain.contact_file.restriction_state import Hearing, HearingException
from domain.contact_file.restriction_terms import RestrictionTerms
from domain.values import Official
from infra.pdf import render_pdf
from tests.support.pdfs import check_layout, ink, rendered

LEADER = Official(user_id="leader-1", name="Søren Ærø Åberg", title="Centerchef, Jobcenter København")
RECIPIENT = Recipient(name="Jens Hansen", address=("Vesterbrogade 1, 2. th.", "1620 København V"))


def decision(behaviour=("Den 2. november 2026 råbte du ad en medarbejder og sagde, at du ville skade medarbejderen.",)):
    terms = RestrictionTerms.model_validate(
        {
            "in_person": {"rule": "banned"},
            "phone": {"rule": "named_contact_only", "contact": "Team Nord"},
            "open_channel": "written",
            "contact_point": "Team Nord, Kalvebod Brygge 45, 1560 København V",
            "valid_from": datetime(2026, 11, 22, 23, 0, tzinfo=timezone.utc),
            "valid_until": datetime(2027, 5, 23, 22, 0, tzinfo=timezone.utc),
            "reasons": "Du har truet medarbejdere på jobcentret på Kalvebod Brygge.",
        }
    )
    return compose_decision_letter(
        terms,
        reference="3f2b8c1e-0000-4000-8000-000000000001",
        recipient=RECIPIENT,
        review_date=date(2027, 5, 1),
        behaviour=list(behaviour),
        hearing=Hearing(skipped=HearingException.URGENCY, skip_reason="Akut fare for medarbejderne"),
        tried=["Advarselsbrev sendt den 2. oktober 2026"],
        signed_by=LEADER,
        affected_employee_ids={"caseworker-7"},
        issued_on=date(2026, 11, 23),
    )


def text_of(pdf: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def squeezed(text: str) -> str:
    # Text extraction splits lines where the PDF wraps them; compare without line breaks.
    return " ".join(text.split())


def test_a_letter_renders_to_a_pdf_that_reads_back_with_its_official_and_complaint_bodies():
    pdf = render_pdf(decision())
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    reader, text = text_of(pdf)
    text = squeezed(text)
    for expected in (
        "Københavns Kommune — Beskæftigelses- og Integrationsforvaltningen",
        "Afgørelse om begrænsning af din adgang til at kontakte os",
        "Dato: 23. november 2026",
        "Vores reference: 3f2b8c1e-0000-4000-8000-000000000001",
        "Fremmøde: Du kan ikke møde personligt op.",
        "Telefon: Du kan kun ringe til Team Nord.",
        "Københavns Kommunes Borgerrådgiver",
        "Folketingets Ombudsmand",
        "Med venlig hilsen",
        "Søren Ærø Åberg",
        "Centerchef, Jobcenter København",
    ):
        assert expected in text, expected
    assert reader.metadata.title == "Afgørelse om begrænsning af din adgang til at kontakte os"


def test_the_text_font_is_embedded_so_the_stored_copy_looks_the_same_everywhere():
    assert infra.pdf.font_dir() is not None, "DejaVu Sans not found: install Debian's fonts-dejavu-core"
    assert b"/FontFile2" in render_pdf(decision())


def test_the_same_letter_renders_to_the_same_bytes():
    assert render_pdf(decision()) == render_pdf(decision())


def test_a_long_letter_runs_over_pages_numbered_and_ends_with_the_signature():
    many = [f"Den {day}. oktober 2026 ringede du {day + 10} gange til jobcentret og råbte." for day in range(1, 31)]
    reader, _ = text_of(render_pdf(decision(behaviour=many)))
    assert len(reader.pages) >= 3
    last = squeezed(reader.pages[-1].extract_text())
    assert "Søren Ærø Åberg" in last and f"Side {len(reader.pages)} af {len(reader.pages)}" in last


def test_without_dejavu_the_fallback_font_still_prints_danish_letters(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(infra.pdf, "font_dir", lambda: None)
    _, text = text_of(render_pdf(decision()))
    assert "Søren Ærø Åberg" in text and "Sådan kan begrænsningen ophæves" in text


def test_a_letter_rendered_as_a_reader_sees_it_keeps_to_its_margins_with_the_address_block_top_left():
    pdf = render_pdf(decision(behaviour=[f"Den {day}. oktober 2026 ringede du og råbte." for day in range(1, 25)]))
    pages = rendered(pdf)
    check_layout(pages, margin_mm=20)
    assert len(pages) == len(PdfReader(io.BytesIO(pdf)).pages) >= 2
    assert ink(pages[0], 25, 33, 110, 52) > 200  # name and address, where a window envelope shows them
    assert ink(pages[0], 130, 33, 110 + 80, 45) > 100  # date and reference, right
    assert ink(pages[-1], 25, 0, 190, 297) > 500
