"""The as-of answer as headed lists of lines in Danish: the sections the timeline PDF prints for it.

Numbers are shown by their last digits only. Times are Copenhagen time to the second, as every
document prints them. Asked again at a printed moment of a logged lookup, the answer is that
lookup's (see `AccessLog.view_positions_at`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.danish import FACT_FIELDS, LETTER_KINDS, word
from domain.records.fact_summaries import until
from domain.moments import printed
from domain.contact_file.restriction_state import Restriction
from domain.records.timeline import terms_text
from domain.values import TimeWindow

if TYPE_CHECKING:  # the HTTP shapes are what is printed; infra needs them for their types only
    from api.schemas import DeskAppointmentOut, InPersonOut
    from api.timeline_schemas import AnsweredFromOut, AsOfOut, ContactFileThenOut, IncidentThenOut, PhoneRoutingThenOut

Section = tuple[str, list[str]]


def as_of_sections(out: AsOfOut) -> list[Section]:
    """The as-of answer as headed lists of lines in Danish, for the PDF export."""
    return [
        *_in_force(out),
        _front_desk(out),
        _phone_routing(out),
        ("Hvad vi vidste: kontaktsagen", _known_file(out.known_then) if out.known_then else ["Endnu ikke oprettet"]),
        ("Hvad vi vidste: hændelserne", [_incident(i) for i in out.incidents_known_then] or ["Ingen"]),
    ]


def _in_force(out: AsOfOut) -> list[Section]:
    """What was in force at the moment, as known now and then, and the periods reaching back."""
    return [
        ("Gældende på tidspunktet, som vi ved nu", [_restriction(r) for r in out.in_force_known_now] or ["Ingen"]),
        ("Gældende på tidspunktet, som vi vidste dengang", [_restriction(r) for r in out.in_force_known_then] or ["Ingen"]),
        ("Erfaret senere", [f"Restriktion {r}" for r in out.learned_later] or ["Intet"]),
        ("Besluttede perioder, der begynder før beslutningen", [
            f"Restriktion {r.restriction_id}: periode fra {printed(r.valid_from)}, besluttet {printed(r.decided_at)}"
            + (" (tidspunktet ligger imellem: ikke gældende)" if r.covers_at else "")
            for r in out.reaches_back
        ] or ["Ingen"]),
    ]


def _front_desk(out: AsOfOut) -> Section:
    desk = out.front_desk
    return ("Hvad opslaget i receptionen svarede", [
        _basis(out.answered_from.front_desk_position, "front_desk" in out.unanswered),
        _in_person(desk.in_person),
        *(f"Også gældende: {_in_person(t)}" for t in desk.also_in_force),
        *(_meetings(desk.appointments_today, out.answered_from) if desk.appointments_today is not None else ()),
    ])


def _meetings(meetings: list[DeskAppointmentOut], basis: AnsweredFromOut) -> list[str]:
    """Whose meetings are listed, then the day's meetings as the desk listed them (in local wall time), or that
    there were none."""
    return [_centre(basis), *([
        f"Aftale i dag kl. {m.starts:%H.%M}-{m.ends:%H.%M}, center {m.centre}, {m.room}, vært {m.host}" for m in meetings
    ] or ["Ingen aftale i dag"])]


def _centre(basis: AnsweredFromOut) -> str:
    """The centre whose meetings the answer lists, and, for a lookup logged before centres were, that it is unknown."""
    if basis.front_desk_centre_not_recorded:
        return ("Opslagets center er ikke logget (opslaget er fra før centret kom med i loggen): aftalerne på alle"
                " centre står herunder, hver med sit center; vagten så kun sit eget centers")
    if basis.front_desk_centre:
        return f"Aftaler på center {basis.front_desk_centre}, det center opslaget blev besvaret for"
    return "Aftaler på alle centre, hver med sit center"


def _phone_routing(out: AsOfOut) -> Section:
    if not out.phone_routing:
        return ("Hvad telefonstyringen svarede", ["Intet nummer registreret"])
    return ("Hvad telefonstyringen svarede", [
        _basis(out.answered_from.phone_routing_position, "phone_routing" in out.unanswered),
        *(_number(p) for p in out.phone_routing),
    ])


def _number(p: PhoneRoutingThenOut) -> str:
    return (
        f"Nummer, der slutter på {p.number[-4:]}: {word(p.rule)}" + (f" ({p.contact})" if p.contact else "")
        + (_windows(p.windows) if p.windows else "")
        + (f" {until(p.valid_until)}" if p.valid_until else "")
        + f"; registreret på {len(p.holders)} kontaktsag(er)"
    )


def _known_file(known: ContactFileThenOut) -> list[str]:
    return [
        f"Version {known.version}",
        *(f"Særligt behov: {n.description} (bruger {', '.join(word(c) for c in n.relies_on)})" for n in known.adjustment_needs),
        *(f"Advarsel {w.warning_id} givet {printed(w.issued_at)} af {w.issued_by.name}: {w.behaviour}" for w in known.warnings),
        *(line for r in known.restrictions for line in (_restriction(r), *_restriction_history(r))),
        *(f"Brev {l.letter_id} ({LETTER_KINDS.get(l.kind, l.kind)}) SHA-256 {l.sha256}" for l in known.letters),
    ]


def _incident(i: IncidentThenOut) -> str:
    return (
        f"Hændelse {i.incident_id} (version {i.version}): {', '.join(word(k) for k in i.facts.kinds)}, skete "
        f"{printed(i.facts.occurred_at)}, udøver: {word(i.facts.perpetrator.kind)}"
        + (f" {i.facts.perpetrator.citizen_ref}" if i.facts.perpetrator.citizen_ref else "")
        + (f"; rettet: {', '.join(FACT_FIELDS.get(f, f) for f in i.corrected_fields)}" if i.corrected_fields else "")
        + f"; {i.facts.description}"
    )


def _restriction(r: Restriction) -> str:
    return f"Restriktion {r.restriction_id} ({word(r.status)}): {terms_text(r.terms)}"


def _in_person(t: InPersonOut) -> str:
    end = f" {until(t.valid_until)}" if t.valid_until else ""
    return f"Fremmøde: {word(t.rule)}{end}" + (f"; {t.instructions}" if t.instructions else "")


def _windows(ws: list[TimeWindow]) -> str:
    return "; opkald tages " + ", ".join(f"{'/'.join(word(d) for d in w.days)} {w.start:%H:%M}-{w.end:%H:%M}" for w in ws)


def _basis(position: int | None, unanswered: bool = False) -> str:
    """What the answer shown rests on: the logged lookup's view, or a current view if none was logged."""
    if unanswered:
        return (f"Opslaget logget på dette tidspunkt gav intet svar (kan ikke afgøre: visningen, ved logposition"
                f" {position}, var stoppet eller bagud); herunder står, hvad visningen rummede, men ikke viste")
    if position is None:
        return "Der er ikke logget et opslag på borgeren på dette tidspunkt: svaret er det, en opdateret visning gav"
    return f"Præcis det svar, opslaget logget på dette tidspunkt viste: visningen var nået til logposition {position}"


def _restriction_history(r: Restriction) -> list[str]:
    """The hearing, reviews and complaints of a restriction, one indented line each."""
    h = r.hearing
    lines = []
    if h.sent_at:
        lines.append(f"  partshøring sendt {printed(h.sent_at)}, frist {printed(h.deadline) if h.deadline else 'ingen'}")
    if h.answered_at:
        lines.append(f"  partshøring besvaret {printed(h.answered_at)}")
    if h.skipped:
        lines.append(f"  partshøring undladt ({word(h.skipped)}): {h.skip_reason}")
    if r.decided_at and r.decided_by:
        lines.append(f"  besluttet {printed(r.decided_at)} af {r.decided_by.name}")
    lines += [f"  revurderet {printed(v.reviewed_at)}: {word(v.outcome)}" for v in r.reviews]
    lines += [
        f"  klage modtaget {printed(c.received_at)}" + (f", {word(c.outcome)}" if c.outcome else ", ikke afgjort")
        for c in r.complaints
    ]
    if r.ended_at:
        lines.append(f"  ophørt {printed(r.ended_at)}" + (f": {r.end_reason}" if r.end_reason else ""))
    return lines
