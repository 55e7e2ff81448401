"""One Danish line per fact, for the legal timeline: written here, in one place, as a pure function of the event.

A new event type without a line is caught by a unit test. Moments are written as documents write
them (`domain.moments.printed`): Copenhagen time to the second with its UTC offset.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.utils import resolve_topic

from domain.contact_file import ContactFile
from domain.danish import DISPATCH_CHANNELS, FACT_FIELDS, LETTER_KINDS, fact_name, word
from domain.identity import case_reference
from domain.incident import Incident
from domain.incident_values import Perpetrator, Person, Threat
from domain.moments import printed
from domain.restriction_dates import last_day, local, review_day
from domain.restrictions import RestrictionTerms
from domain.supersession import SupersessionRegister
from domain.values import Channel

MAX_TEXT = 140  # free text is cut to keep a summary on one line
MAX_VALUE = 60  # a corrected value is cut shorter still: several can share the line

E = TypeVar("E")
_SUMMARIES: dict[type, Callable[[Any], str]] = {}


def has_summary(event_class: type) -> bool:
    return event_class in _SUMMARIES


def summary(event: Any) -> str:
    """One readable line for the fact; an event type without its own line still names its type."""
    describe = _SUMMARIES.get(type(event))
    if describe:
        return describe(event)
    return f"{str(getattr(type(event), 'TOPIC', type(event).__qualname__)).removeprefix('vaern:')} registreret"


def _says(*event_classes: type) -> Callable[[Callable[[E], str]], Callable[[E], str]]:
    def register(describe: Callable[[E], str]) -> Callable[[E], str]:
        for event_class in event_classes:
            _SUMMARIES[event_class] = describe
        return describe

    return register


def _cut(value: str | None, limit: int) -> str:
    flat = " ".join((value or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _text(value: str | None) -> str:
    return _cut(value, MAX_TEXT)


def _short(identifier: UUID) -> str:
    return case_reference(identifier)


def _day(value: date) -> str:
    return f"{value:%d.%m.%Y}"


def until(valid_until: datetime) -> str:
    """A restriction's end as people read it, as the letters state it: a period ending at midnight by
    its last day ("til og med 30.11.2027"), any other end by its moment."""
    if local(valid_until).time() == time(0):
        return f"til og med {_day(last_day(valid_until))}"
    return f"til {printed(valid_until)}"


def _rule(terms: RestrictionTerms, channel: Channel) -> str:
    contact = terms.phone.contact if channel is Channel.PHONE else None
    return f"{word(channel)}: {word(terms.rule_of(channel))}" + (f" ({contact})" if contact else "")


def terms_text(terms: RestrictionTerms) -> str:
    """The terms on one line: each restricted channel's rule, the open channel, the scope, the period."""
    rules = "; ".join(_rule(terms, c) for c in Channel if not terms.is_open(c))
    scope = terms.scope
    where = "" if scope.kind.value == "administration" else f"; gælder {word(scope.kind)} {scope.centre or scope.case}"
    return f"{rules}; åben kanal: {word(terms.open_channel)}{where}; fra {printed(terms.valid_from)} {until(terms.valid_until)}"


@_says(ContactFile.Opened)
def _opened(e: ContactFile.Opened) -> str:
    return "Kontaktsag oprettet"


@_says(ContactFile.PhoneNumberRegistered)
def _number(e: ContactFile.PhoneNumberRegistered) -> str:
    return f"Telefonnummer, der slutter på {e.number[-4:]}, registreret som borgerens"


@_says(ContactFile.AdjustmentNeedRecorded)
def _need(e: ContactFile.AdjustmentNeedRecorded) -> str:
    return f"Særligt behov registreret: {_text(e.need.description)} (bruger {', '.join(word(c) for c in e.need.relies_on)})"


@_says(ContactFile.WarningIssued)
def _warning(e: ContactFile.WarningIssued) -> str:
    w = e.warning
    return f"Advarsel {_short(w.warning_id)} givet af {w.issued_by.name} om at stoppe: {_text(w.behaviour)}"


@_says(ContactFile.RestrictionProposed)
def _proposed(e: ContactFile.RestrictionProposed) -> str:
    return f"Restriktion {_short(e.restriction_id)} foreslået af {e.proposed_by.name}: {terms_text(e.terms)}"


@_says(ContactFile.HearingSent)
def _hearing_sent(e: ContactFile.HearingSent) -> str:
    return f"Partshøring om restriktion {_short(e.restriction_id)} sendt; bemærkninger senest {printed(e.deadline)}"


@_says(ContactFile.HearingAnswered)
def _hearing_answered(e: ContactFile.HearingAnswered) -> str:
    return f"Borgeren besvarede partshøringen om restriktion {_short(e.restriction_id)}: {_text(e.answer)}"


@_says(ContactFile.HearingSkipped)
def _hearing_skipped(e: ContactFile.HearingSkipped) -> str:
    return f"Partshøring om restriktion {_short(e.restriction_id)} undladt ({word(e.exception)}): {_text(e.reason)}"


@_says(ContactFile.RestrictionDecided)
def _decided(e: ContactFile.RestrictionDecided) -> str:
    return f"Restriktion {_short(e.restriction_id)} besluttet af {e.decided_by.name}: {terms_text(e.terms)}"


@_says(ContactFile.RestrictionReviewed)
def _reviewed(e: ContactFile.RestrictionReviewed) -> str:
    r = e.review
    after = f"; næste revurdering senest {_day(review_day(r.next_review_at))}" if r.next_review_at else ""
    return f"Restriktion {_short(e.restriction_id)} revurderet af {r.reviewed_by.name}: {word(r.outcome)}{after}; {_text(r.reasons)}"


@_says(ContactFile.RestrictionAmended)
def _amended(e: ContactFile.RestrictionAmended) -> str:
    return f"Restriktion {_short(e.restriction_id)} ændret af {e.amended_by.name}: {terms_text(e.terms)}; {_text(e.reasons)}"


@_says(ContactFile.ComplaintReceived)
def _complaint(e: ContactFile.ComplaintReceived) -> str:
    return f"Klage over restriktion {_short(e.restriction_id)} modtaget: {_text(e.complaint.summary)}"


@_says(ContactFile.ComplaintDecided)
def _complaint_decided(e: ContactFile.ComplaintDecided) -> str:
    return f"Klage {_short(e.complaint_id)} over restriktion {_short(e.restriction_id)} afgjort, {word(e.outcome)}: {_text(e.reasons)}"


@_says(ContactFile.RestrictionLifted)
def _lifted(e: ContactFile.RestrictionLifted) -> str:
    return f"Restriktion {_short(e.restriction_id)} ophævet af {e.lifted_by.name}: {_text(e.reason)}"


@_says(ContactFile.RestrictionExpired)
def _expired(e: ContactFile.RestrictionExpired) -> str:
    return f"Restriktion {_short(e.restriction_id)} udløb ved periodens slut ({printed(e.effective_at)})"


@_says(ContactFile.LetterIssued)
def _letter(e: ContactFile.LetterIssued) -> str:
    kind = LETTER_KINDS.get(e.kind, word(e.kind))
    return f"Brev {_short(e.letter_id)} ({kind}) om {_short(e.subject_id)} udstedt, underskrevet af {e.signed_by.name}"


@_says(ContactFile.LetterDispatched)
def _dispatched(e: ContactFile.LetterDispatched) -> str:
    return f"Brev {_short(e.letter_id)} afsendt med {DISPATCH_CHANNELS.get(e.channel, _text(word(e.channel)))}"


@_says(ContactFile.LetterDelivered)
def _delivered(e: ContactFile.LetterDelivered) -> str:
    return f"Brev {_short(e.letter_id)} leveret; dokumentation: {_text(e.evidence)}"


@_says(Incident.Reported)
def _reported(e: Incident.Reported) -> str:
    f = e.facts
    kinds = ", ".join(word(k) for k in f.kinds)
    death = "; trussel på livet" if f.threat and f.threat.death_threat else ""
    return (
        f"Hændelse indberettet: {kinds}{death}; kanal: {word(f.channel)}; center {f.centre.value}; skete"
        f" {printed(f.occurred_at)}; {len(f.affected)} medarbejder(e) berørt; udøver: {word(f.perpetrator.kind)}:"
        f" {_text(f.description)}"
    )


@_says(Incident.LeaderInformed)
def _leader(e: Incident.LeaderInformed) -> str:
    return f"Leder {e.leader.name} orienteret"


@_says(Incident.SupportOffered, Incident.SupportAccepted, Incident.SupportDeclined)
def _support(e: Any) -> str:
    verb = {Incident.SupportOffered: "tilbudt", Incident.SupportAccepted: "taget imod af",
            Incident.SupportDeclined: "afslået af"}[type(e)]
    return f"Støtte ({word(e.kind)}) {verb} medarbejder {e.employee_id}"


@_says(Incident.DebriefingHeld)
def _debriefing(e: Incident.DebriefingHeld) -> str:
    return f"Debriefing holdt med {', '.join(e.employee_ids)}: {_text(e.summary)}"


@_says(Incident.NoteAdded)
def _note(e: Incident.NoteAdded) -> str:
    return f"Notat: {_text(e.text)}"


@_says(Incident.EvidenceAttached)
def _evidence(e: Incident.EvidenceAttached) -> str:
    return f"Dokumentation vedhæftet ({e.media_type}, {e.size} bytes, sha256 {e.sha256[:12]}…): {_text(e.description)}"


@_says(Incident.TakedownRequested)
def _takedown(e: Incident.TakedownRequested) -> str:
    return f"Anmodning {_short(e.takedown_id)} om fjernelse sendt til {word(e.addressee)} på {_text(e.platform)}"


@_says(Incident.PostRemoved)
def _removed(e: Incident.PostRemoved) -> str:
    return f"Opslag fjernet (anmodning {_short(e.takedown_id)})"


@_says(Incident.TakedownRefused)
def _refused(e: Incident.TakedownRefused) -> str:
    why = f": {_text(e.reason)}" if e.reason else ""
    return f"Anmodning {_short(e.takedown_id)} om fjernelse afvist{why}"


@_says(Incident.AbsenceRecorded)
def _absence(e: Incident.AbsenceRecorded) -> str:
    return f"Fravær for medarbejder {e.employee_id} registreret: {e.days} dag(e) fra {_day(e.first_day)}"


@_says(Incident.Corrected)
def _corrected(e: Incident.Corrected) -> str:
    changed = "; ".join(f"{FACT_FIELDS.get(f, word(f))} nu {_fact(getattr(e.facts, f, None))}" for f in e.fields)
    return f"Oplysninger rettet ({changed or 'intet felt ændret'}): {_text(e.reason)}"


def _fact(value: Any) -> str:
    """A corrected fact's new value in a few words; a citizen appears by the start of their reference only."""
    if value is None:
        return "ingen"
    if isinstance(value, Perpetrator):
        return word(value.kind) + (f" {_short(value.citizen_ref)}" if value.citizen_ref else "")
    if isinstance(value, Threat):
        return ", ".join(word(t) for t in value.targets) + ("; trussel på livet" if value.death_threat else "")
    if isinstance(value, Person):
        return value.name
    if isinstance(value, datetime):
        return printed(value)
    if isinstance(value, bool):
        return "ja" if value else "nej"
    if isinstance(value, (tuple, list)):
        return ", ".join(_fact(v) for v in value) or "ingen"
    return _cut(word(value), MAX_VALUE)


@_says(Incident.Closed)
def _closed(e: Incident.Closed) -> str:
    return f"Hændelse afsluttet{': ' + _text(e.reason) if e.reason else ''}"


@_says(Incident.Reopened)
def _reopened(e: Incident.Reopened) -> str:
    return f"Hændelse genåbnet: {_text(e.reason)}"


@_says(Incident.PoliceReportConsentGiven, Incident.PoliceReportConsentDeclined, Incident.PoliceReportConsentWithdrawn)
def _consent(e: Any) -> str:
    verb = {Incident.PoliceReportConsentGiven: "gav samtykke til", Incident.PoliceReportConsentDeclined: "nægtede samtykke til",
            Incident.PoliceReportConsentWithdrawn: "trak sit samtykke tilbage til"}[type(e)]
    return f"Medarbejder {e.employee_id} {verb} forvaltningens politianmeldelse"


@_says(Incident.PoliceReportAdviceGiven)
def _advice(e: Incident.PoliceReportAdviceGiven) -> str:
    return f"Rådgivning om politianmeldelse: {_text(e.text)}"


@_says(Incident.PoliceReportFiled)
def _filed(e: Incident.PoliceReportFiled) -> str:
    return f"Politianmeldt af forvaltningen for {', '.join(e.employee_ids)} (politiets journalnummer {e.police_reference})"


@_says(Incident.PrivatePoliceReportFiled)
def _private(e: Incident.PrivatePoliceReportFiled) -> str:
    reference = f" (politiets journalnummer {e.police_reference})" if e.police_reference else ""
    return f"Medarbejder {e.employee_id} politianmeldte privat{reference}"


@_says(Incident.PoliceReportNotFiled)
def _not_filed(e: Incident.PoliceReportNotFiled) -> str:
    return f"Ikke politianmeldt for {', '.join(e.employee_ids)}: {_text(e.reason)}"


@_says(SupersessionRegister.EventSuperseded)
def _superseded(e: SupersessionRegister.EventSuperseded) -> str:
    kind = _fact_name_of_topic(e.topic)
    return (
        f"Registrering {e.position} ({kind}, version {e.event_version}) erstattet: følgerne læser en rettet udgave"
        f" ({', '.join(e.corrected)}); {e.official.name}, {e.official.title}: {_text(e.reason)}"
    )


def _fact_name_of_topic(topic: str) -> str:
    """The Danish name of the fact type stored under `topic`, else the stored type itself."""
    try:
        return fact_name(resolve_topic(topic)) or topic.removeprefix("vaern:")
    except Exception:  # a topic no class answers to any more: name it as stored
        return topic.removeprefix("vaern:")
