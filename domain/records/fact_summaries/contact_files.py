"""The timeline's line for each fact of a contact file."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.contact_file.aggregate import ContactFile
from domain.danish import DISPATCH_CHANNELS, LETTER_KINDS, word
from domain.records.fact_summaries.words import authorisation, day, short, terms_text, text
from domain.moments import printed
from domain.contact_file.restriction_dates import review_day


def _need(e: ContactFile.AdjustmentNeedRecorded) -> str:
    return f"Særligt behov registreret: {text(e.need.description)} (bruger {', '.join(word(c) for c in e.need.relies_on)})"


def _warning(e: ContactFile.WarningIssued) -> str:
    w = e.warning
    return f"Advarsel {short(w.warning_id)} givet af {w.issued_by.name} om at stoppe: {text(w.behaviour)}"


def _reviewed(e: ContactFile.RestrictionReviewed) -> str:
    r = e.review
    after = f"; næste revurdering senest {day(review_day(r.next_review_at))}" if r.next_review_at else ""
    return f"Restriktion {short(e.restriction_id)} revurderet af {r.reviewed_by.name}: {word(r.outcome)}{after}; {text(r.reasons)}"


def _letter(e: ContactFile.LetterIssued) -> str:
    kind = LETTER_KINDS.get(e.kind, word(e.kind))
    return f"Brev {short(e.letter_id)} ({kind}) om {short(e.subject_id)} udstedt, underskrevet af {e.signed_by.name}"


LINES: dict[type, Callable[[Any], str]] = {
    ContactFile.Opened: lambda e: "Kontaktsag oprettet",
    ContactFile.CprRecorded: lambda e: "CPR-nummer gemt på sagen",
    ContactFile.PhoneNumberRegistered: lambda e: f"Telefonnummer, der slutter på {e.number[-4:]}, registreret som borgerens",
    ContactFile.AdjustmentNeedRecorded: _need,
    ContactFile.WarningIssued: _warning,
    ContactFile.RestrictionProposed:
        lambda e: f"Restriktion {short(e.restriction_id)} foreslået af {e.proposed_by.name}: {terms_text(e.terms)}",
    ContactFile.HearingSent:
        lambda e: f"Partshøring om restriktion {short(e.restriction_id)} sendt; bemærkninger senest {printed(e.deadline)}",
    ContactFile.HearingAnswered:
        lambda e: f"Borgeren besvarede partshøringen om restriktion {short(e.restriction_id)}: {text(e.answer)}",
    ContactFile.HearingSkipped:
        lambda e: f"Partshøring om restriktion {short(e.restriction_id)} undladt ({word(e.exception)}): {text(e.reason)}",
    ContactFile.RestrictionDecided:
        lambda e: f"Restriktion {short(e.restriction_id)} besluttet af {e.decided_by.name}: {terms_text(e.terms)}",
    ContactFile.RestrictionReviewed: _reviewed,
    ContactFile.RestrictionAmended: lambda e: (
        f"Restriktion {short(e.restriction_id)} ændret af {e.amended_by.name}: {terms_text(e.terms)}; {text(e.reasons)}"
    ),
    ContactFile.ComplaintReceived:
        lambda e: f"Klage over restriktion {short(e.restriction_id)} modtaget: {text(e.complaint.summary)}",
    ContactFile.ComplaintDecided: lambda e: (
        f"Klage {short(e.complaint_id)} over restriktion {short(e.restriction_id)} afgjort, {word(e.outcome)}:"
        f" {text(e.reasons)}"
    ),
    ContactFile.RestrictionLifted:
        lambda e: f"Restriktion {short(e.restriction_id)} ophævet af {e.lifted_by.name}: {text(e.reason)}",
    ContactFile.RestrictionExpired:
        lambda e: f"Restriktion {short(e.restriction_id)} udløb ved periodens slut ({printed(e.effective_at)})",
    ContactFile.LetterIssued: _letter,
    ContactFile.LetterDispatched:
        lambda e: f"Brev {short(e.letter_id)} afsendt med {DISPATCH_CHANNELS.get(e.channel, text(word(e.channel)))}",
    ContactFile.LetterDelivered: lambda e: f"Brev {short(e.letter_id)} leveret; dokumentation: {text(e.evidence)}",
    ContactFile.AccessGranted: lambda e: (
        f"Adgang {short(e.grant_id)} givet medarbejder {e.employee_id} af {e.granted_by.name} indtil {printed(e.until)}:"
        f" {text(e.reason)}"
    ),
    ContactFile.AccessRevoked: lambda e: f"Adgang {short(e.grant_id)} tilbagekaldt af {e.revoked_by.name}",
    ContactFile.Erased: lambda e: (
        f"Borgerens personoplysninger slettet efter {authorisation(e.authorisation)}, besluttet af {e.erased_by.name}"
        + (f"; med dem hændelse {', '.join(short(i) for i in e.incident_ids)}" if e.incident_ids else "")
    ),
}
