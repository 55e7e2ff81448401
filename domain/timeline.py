"""A case's facts in log order, each with one line a lawyer can read and the letters it produced.

The summaries are written here, in one place, as a pure function of the event: a new event type
without a summary is caught by a unit test, not discovered in a court bundle. A fact's times are
kept apart: when it took effect (`effective_at`) and when it was recorded (`timestamp`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from domain.contact_file import ContactFile
from domain.incident import Incident
from domain.incident_values import COPENHAGEN, Perpetrator, Person, Threat
from domain.restrictions import RestrictionTerms
from domain.supersession import SupersessionRegister
from domain.values import Actor, Channel

MAX_TEXT = 140  # free text is cut to keep a summary on one line

E = TypeVar("E")
_SUMMARIES: dict[type, Callable[[Any], str]] = {}


@dataclass(frozen=True)
class LetterRef:
    """A letter by id, kind and the SHA-256 of its stored PDF (the exact copy sent)."""

    letter_id: UUID
    kind: str
    sha256: str


@dataclass(frozen=True)
class Entry:
    """One fact of the case: where it stands in the log, its two times, who recorded it, what it says."""

    position: int
    originator_id: UUID
    version: int
    type: str
    effective_at: datetime
    recorded_at: datetime
    actor: Actor
    summary: str
    letters: tuple[LetterRef, ...] = ()


def event_type(event: Any) -> str:
    """The stored name of the event's type without the store prefix, e.g. ContactFile.RestrictionLifted."""
    return str(getattr(type(event), "TOPIC", type(event).__qualname__)).removeprefix("vaern:")


def has_summary(event_class: type) -> bool:
    return event_class in _SUMMARIES


def summary(event: Any) -> str:
    """One readable line for the fact; an event type without its own line still names its type."""
    describe = _SUMMARIES.get(type(event))
    return describe(event) if describe else f"{event_type(event)} recorded"


def entries(history: Iterable[tuple[int, Any]]) -> list[Entry]:
    """The facts in log order, each letter attached to the fact that produced it and to its own facts."""
    ordered = sorted(history, key=lambda pair: pair[0])
    letters: dict[int, list[LetterRef]] = {}
    for index, (_, event) in enumerate(ordered):
        if isinstance(event, ContactFile.LetterIssued):
            ref = LetterRef(event.letter_id, event.kind, event.sha256)
            letters.setdefault(index, []).append(ref)
            producer = _producer(ordered[:index], event)
            if producer is not None:
                letters.setdefault(producer, []).append(ref)
    issued = {ref.letter_id: ref for refs in letters.values() for ref in refs}
    for index, (_, event) in enumerate(ordered):
        if isinstance(event, (ContactFile.LetterDispatched, ContactFile.LetterDelivered)) and event.letter_id in issued:
            letters.setdefault(index, []).append(issued[event.letter_id])
    return [_entry(position, event, tuple(letters.get(index, ()))) for index, (position, event) in enumerate(ordered)]


def _entry(position: int, event: Any, letters: tuple[LetterRef, ...]) -> Entry:
    return Entry(
        position=position, originator_id=event.originator_id, version=event.originator_version,
        type=event_type(event), effective_at=event.effective_at, recorded_at=event.timestamp, actor=event.actor,
        summary=summary(event), letters=letters,
    )


# Which fact each kind of letter comes from: the latest such fact on the letter's subject.
_PRODUCERS: dict[str, tuple[type, ...]] = {
    "warning": (ContactFile.WarningIssued,),
    "hearing": (ContactFile.HearingSent,),
    "decision": (ContactFile.RestrictionDecided,),
    "continuation": (ContactFile.RestrictionDecided,),
    "amendment": (ContactFile.RestrictionAmended,),
    "lift": (ContactFile.RestrictionLifted,),
}


def _producer(earlier: list[tuple[int, Any]], letter: ContactFile.LetterIssued) -> int | None:
    kinds = _PRODUCERS.get(letter.kind, ())
    for index in range(len(earlier) - 1, -1, -1):
        event = earlier[index][1]
        if isinstance(event, kinds) and event.originator_id == letter.originator_id and _subject(event) == letter.subject_id:
            return index
    return None


def _subject(event: Any) -> UUID | None:
    if isinstance(event, ContactFile.WarningIssued):
        return event.warning.warning_id
    return getattr(event, "restriction_id", None)


# ---- the summaries --------------------------------------------------------------------------


def _says(*event_classes: type) -> Callable[[Callable[[E], str]], Callable[[E], str]]:
    def register(describe: Callable[[E], str]) -> Callable[[E], str]:
        for event_class in event_classes:
            _SUMMARIES[event_class] = describe
        return describe

    return register


def _text(value: str | None) -> str:
    flat = " ".join((value or "").split())
    return flat if len(flat) <= MAX_TEXT else flat[: MAX_TEXT - 1].rstrip() + "…"


def moment(value: datetime) -> str:
    """A moment in Copenhagen time, to the microsecond when it has them (as the log keeps it)."""
    return value.astimezone(COPENHAGEN).isoformat(sep=" ", timespec="auto")


def _day(moment: datetime) -> str:
    return moment.astimezone(COPENHAGEN).date().isoformat()


def _minute(moment: datetime) -> str:
    return moment.astimezone(COPENHAGEN).strftime("%Y-%m-%d %H:%M")


def _short(identifier: UUID) -> str:
    return str(identifier)[:8]


def _words(value: Any) -> str:
    return str(getattr(value, "value", value)).replace("_", " ")


def _rule(terms: RestrictionTerms, channel: Channel) -> str:
    contact = terms.phone.contact if channel is Channel.PHONE else None
    return f"{_words(channel)} {_words(terms.rule_of(channel))}" + (f" ({contact})" if contact else "")


def terms_text(terms: RestrictionTerms) -> str:
    """The terms on one line: each restricted channel's rule, the open channel, the scope, the period."""
    return _terms(terms)


def _terms(terms: RestrictionTerms) -> str:
    rules = "; ".join(_rule(terms, c) for c in Channel if not terms.is_open(c))
    scope = terms.scope
    where = "" if scope.kind.value == "administration" else f", {_words(scope.kind)} {scope.centre or scope.case}"
    return f"{rules}; open channel {_words(terms.open_channel)}{where}; {_day(terms.valid_from)} to {_day(terms.valid_until)}"


@_says(ContactFile.Opened)
def _opened(e: ContactFile.Opened) -> str:
    return "Contact file opened"


@_says(ContactFile.PhoneNumberRegistered)
def _number(e: ContactFile.PhoneNumberRegistered) -> str:
    return f"Phone number ending {e.number[-4:]} registered as the citizen's"


@_says(ContactFile.AdjustmentNeedRecorded)
def _need(e: ContactFile.AdjustmentNeedRecorded) -> str:
    channels = ", ".join(_words(c) for c in e.need.relies_on)
    return f"Adjustment need recorded: {_text(e.need.description)} (relies on {channels})"


@_says(ContactFile.WarningIssued)
def _warning(e: ContactFile.WarningIssued) -> str:
    w = e.warning
    return f"Warning {_short(w.warning_id)} issued by {w.issued_by.name} to stop: {_text(w.behaviour)}"


@_says(ContactFile.RestrictionProposed)
def _proposed(e: ContactFile.RestrictionProposed) -> str:
    return f"Restriction {_short(e.restriction_id)} proposed by {e.proposed_by.name}: {_terms(e.terms)}"


@_says(ContactFile.HearingSent)
def _hearing_sent(e: ContactFile.HearingSent) -> str:
    return f"Hearing on restriction {_short(e.restriction_id)} sent; comments by {_minute(e.deadline)}"


@_says(ContactFile.HearingAnswered)
def _hearing_answered(e: ContactFile.HearingAnswered) -> str:
    return f"Citizen answered the hearing on restriction {_short(e.restriction_id)}: {_text(e.answer)}"


@_says(ContactFile.HearingSkipped)
def _hearing_skipped(e: ContactFile.HearingSkipped) -> str:
    return f"Hearing on restriction {_short(e.restriction_id)} skipped ({_words(e.exception)}): {_text(e.reason)}"


@_says(ContactFile.RestrictionDecided)
def _decided(e: ContactFile.RestrictionDecided) -> str:
    return f"Restriction {_short(e.restriction_id)} decided by {e.decided_by.name}: {_terms(e.terms)}"


@_says(ContactFile.RestrictionReviewed)
def _reviewed(e: ContactFile.RestrictionReviewed) -> str:
    r = e.review
    after = f"; next review {_day(r.next_review_at)}" if r.next_review_at else ""
    return f"Restriction {_short(e.restriction_id)} reviewed by {r.reviewed_by.name}: {_words(r.outcome)}{after}; {_text(r.reasons)}"


@_says(ContactFile.RestrictionAmended)
def _amended(e: ContactFile.RestrictionAmended) -> str:
    return f"Restriction {_short(e.restriction_id)} amended by {e.amended_by.name}: {_terms(e.terms)}; {_text(e.reasons)}"


@_says(ContactFile.ComplaintReceived)
def _complaint(e: ContactFile.ComplaintReceived) -> str:
    return f"Complaint about restriction {_short(e.restriction_id)} received: {_text(e.complaint.summary)}"


@_says(ContactFile.ComplaintDecided)
def _complaint_decided(e: ContactFile.ComplaintDecided) -> str:
    return f"Complaint {_short(e.complaint_id)} on restriction {_short(e.restriction_id)} {_words(e.outcome)}: {_text(e.reasons)}"


@_says(ContactFile.RestrictionLifted)
def _lifted(e: ContactFile.RestrictionLifted) -> str:
    return f"Restriction {_short(e.restriction_id)} lifted by {e.lifted_by.name}: {_text(e.reason)}"


@_says(ContactFile.RestrictionExpired)
def _expired(e: ContactFile.RestrictionExpired) -> str:
    return f"Restriction {_short(e.restriction_id)} expired at the end of its period ({_minute(e.effective_at)})"


@_says(ContactFile.LetterIssued)
def _letter(e: ContactFile.LetterIssued) -> str:
    return f"{_words(e.kind).capitalize()} letter {_short(e.letter_id)} on {_short(e.subject_id)} issued, signed by {e.signed_by.name}"


@_says(ContactFile.LetterDispatched)
def _dispatched(e: ContactFile.LetterDispatched) -> str:
    return f"Letter {_short(e.letter_id)} dispatched by {_text(e.channel)}"


@_says(ContactFile.LetterDelivered)
def _delivered(e: ContactFile.LetterDelivered) -> str:
    return f"Letter {_short(e.letter_id)} delivered; evidence: {_text(e.evidence)}"


@_says(Incident.Reported)
def _reported(e: Incident.Reported) -> str:
    f = e.facts
    kinds = ", ".join(_words(k) for k in f.kinds)
    death = "; death threat" if f.threat and f.threat.death_threat else ""
    return (
        f"Incident reported: {kinds}{death} by {_words(f.channel)} at {f.centre.value} on {_minute(f.occurred_at)}, "
        f"{len(f.affected)} employee(s) affected, perpetrator {_words(f.perpetrator.kind)}: {_text(f.description)}"
    )


@_says(Incident.LeaderInformed)
def _leader(e: Incident.LeaderInformed) -> str:
    return f"Leader {e.leader.name} informed"


@_says(Incident.SupportOffered, Incident.SupportAccepted, Incident.SupportDeclined)
def _support(e: Any) -> str:
    verb = {Incident.SupportOffered: "offered to", Incident.SupportAccepted: "accepted by",
            Incident.SupportDeclined: "declined by"}[type(e)]
    return f"Support ({_words(e.kind)}) {verb} employee {e.employee_id}"


@_says(Incident.DebriefingHeld)
def _debriefing(e: Incident.DebriefingHeld) -> str:
    return f"Debriefing held with {', '.join(e.employee_ids)}: {_text(e.summary)}"


@_says(Incident.NoteAdded)
def _note(e: Incident.NoteAdded) -> str:
    return f"Note: {_text(e.text)}"


@_says(Incident.EvidenceAttached)
def _evidence(e: Incident.EvidenceAttached) -> str:
    return f"Evidence attached ({e.media_type}, {e.size} bytes, sha256 {e.sha256[:12]}…): {_text(e.description)}"


@_says(Incident.TakedownRequested)
def _takedown(e: Incident.TakedownRequested) -> str:
    return f"Takedown {_short(e.takedown_id)} requested from the {_words(e.addressee)} on {_text(e.platform)}"


@_says(Incident.PostRemoved)
def _removed(e: Incident.PostRemoved) -> str:
    return f"Post removed (takedown {_short(e.takedown_id)})"


@_says(Incident.TakedownRefused)
def _refused(e: Incident.TakedownRefused) -> str:
    why = f": {_text(e.reason)}" if e.reason else ""
    return f"Takedown {_short(e.takedown_id)} refused{why}"


@_says(Incident.AbsenceRecorded)
def _absence(e: Incident.AbsenceRecorded) -> str:
    return f"Absence of employee {e.employee_id} recorded: {e.days} day(s) from {e.first_day.isoformat()}"


@_says(Incident.Corrected)
def _corrected(e: Incident.Corrected) -> str:
    changed = "; ".join(f"{field} now {_fact(getattr(e.facts, field, None))}" for field in e.fields)
    return f"Facts corrected ({changed or 'no field changed'}): {_text(e.reason)}"


MAX_VALUE = 60  # a corrected value is cut shorter still: several can share the line


def _fact(value: Any) -> str:
    """A corrected fact's new value in a few words; a citizen appears by the start of their reference only."""
    if value is None:
        return "none"
    if isinstance(value, Perpetrator):
        ref = f" {_short(value.citizen_ref)}" if value.citizen_ref else ""
        return f"{_words(value.kind)}{ref}"
    if isinstance(value, Threat):
        return ", ".join(_words(t) for t in value.targets) + ("; death threat" if value.death_threat else "")
    if isinstance(value, Person):
        return value.name
    if isinstance(value, datetime):
        return _minute(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (tuple, list)):
        return ", ".join(_fact(v) for v in value) or "none"
    flat = " ".join(_words(value).split())
    return flat if len(flat) <= MAX_VALUE else flat[: MAX_VALUE - 1].rstrip() + "…"


@_says(Incident.Closed)
def _closed(e: Incident.Closed) -> str:
    return f"Incident closed{': ' + _text(e.reason) if e.reason else ''}"


@_says(Incident.Reopened)
def _reopened(e: Incident.Reopened) -> str:
    return f"Incident reopened: {_text(e.reason)}"


@_says(Incident.PoliceReportConsentGiven, Incident.PoliceReportConsentDeclined, Incident.PoliceReportConsentWithdrawn)
def _consent(e: Any) -> str:
    verb = {Incident.PoliceReportConsentGiven: "gave", Incident.PoliceReportConsentDeclined: "declined",
            Incident.PoliceReportConsentWithdrawn: "withdrew"}[type(e)]
    return f"Employee {e.employee_id} {verb} consent to a police report by the administration"


@_says(Incident.PoliceReportAdviceGiven)
def _advice(e: Incident.PoliceReportAdviceGiven) -> str:
    return f"Advice on a police report: {_text(e.text)}"


@_says(Incident.PoliceReportFiled)
def _filed(e: Incident.PoliceReportFiled) -> str:
    return f"Reported to the police by the administration for {', '.join(e.employee_ids)} (reference {e.police_reference})"


@_says(Incident.PrivatePoliceReportFiled)
def _private(e: Incident.PrivatePoliceReportFiled) -> str:
    reference = f" (reference {e.police_reference})" if e.police_reference else ""
    return f"Employee {e.employee_id} reported to the police privately{reference}"


@_says(Incident.PoliceReportNotFiled)
def _not_filed(e: Incident.PoliceReportNotFiled) -> str:
    return f"Not reported to the police for {', '.join(e.employee_ids)}: {_text(e.reason)}"


@_says(SupersessionRegister.EventSuperseded)
def _superseded(e: SupersessionRegister.EventSuperseded) -> str:
    kind = e.topic.removeprefix("vaern:")
    return (
        f"Event {e.position} ({kind}, version {e.event_version}) superseded: followers read a corrected replacement"
        f" ({', '.join(e.corrected)}); {e.official.name}, {e.official.title}: {_text(e.reason)}"
    )
