"""The appointment letter: when and where a meeting is, whom the citizen meets, and the terms on attending.

The time is the meeting's Copenhagen wall time as booked (its day and local start and end), never an
instant turned back into local time: a meeting booked in summer for a day in winter reads 10.00, as
booked. Whom the citizen meets is the host as the booking chose to show it: the team or contact point,
or the employee only where the booking names them. The terms are those of the citizen's restrictions
that govern attending this meeting (by appointment only, a guard present), in the decision letters'
words; the first such restriction's open channel and contact point is where the citizen writes if they
cannot come. Like every letter it names a responsible official who is not an employee the incidents
behind those restrictions affected.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from uuid import UUID

from domain.appointments.values import AppointmentKind, Place, Slot
from domain.contact_file.restriction_terms import RestrictionTerms
from domain.errors import RuleViolation
from domain.letters import texts
from domain.letters.kinds import TITLES
from domain.letters.parts import Letter, LetterKind, Recipient, Section, build_letter, check_signer, text_value
from domain.values import InPersonRule, Official, Value

ARRANGED_TITLE = "Bekræftelse af aftalt møde"


class Meeting(Value):
    """What an appointment letter says of the meeting, as booked: the host already as the booking shows it."""

    slot: Slot
    place: Place
    host_shown_as: str
    kind: AppointmentKind
    arranged_with_citizen: bool


def compose_appointment_letter(
    meeting: Meeting,
    attending: Sequence[RestrictionTerms],
    *,
    reference: UUID | str,
    recipient: Recipient | None,
    signed_by: Official | None,
    affected_employee_ids: Collection[str],
    issued_on: date,
) -> Letter:
    """The letter for a meeting on or after the letter's day; `attending` are the terms that govern attending it,
    and none of them may ban attending."""
    official = check_signer(signed_by, affected_employee_ids)
    if meeting.slot.date < issued_on:
        raise RuleViolation("subject_id", "the meeting's day has passed; an appointment letter is sent before it")
    if any(terms.in_person.rule is InPersonRule.BANNED for terms in attending):
        raise RuleViolation(
            "subject_id", "a restriction in force at the meeting bans the citizen from attending it; move or cancel it"
        )
    host = text_value("host", meeting.host_shown_as)
    sections = [_when_and_where(meeting, host), _attending(attending)]
    first = attending[0] if attending else None
    channel = texts.open_channel(first.open_channel, first.contact_point) if first else None
    sections.append(Section(heading="Hvis du ikke kan komme", paragraphs=texts.cannot_come(host, channel)))
    title = ARRANGED_TITLE if meeting.arranged_with_citizen else TITLES[LetterKind.APPOINTMENT]
    return build_letter(LetterKind.APPOINTMENT, title, reference, recipient, sections, official, issued_on)


def _when_and_where(meeting: Meeting, host: str) -> Section:
    slot, place = meeting.slot, meeting.place
    opening = texts.MEETING_ARRANGED if meeting.arranged_with_citizen else texts.MEETING_CALLED
    kind = texts.MEETING_KINDS.get(meeting.kind)
    centre = texts.CENTRE_NAMES.get(place.centre.value, place.centre.value)
    return Section(
        heading="Tid og sted",
        paragraphs=(f"{opening} {kind}" if kind else opening,),
        items=(
            f"Tidspunkt: {texts.meeting_time(slot.date, slot.starts, slot.ends)}",
            f"Sted: {centre}, {text_value('place.room', place.room)}",
            f"Du skal mødes med: {host}",
        ),
    )


def _attending(attending: Sequence[RestrictionTerms]) -> Section:
    """Where to go on arrival; then each in-person rule of the terms once, `by_appointment` saying that this
    meeting is such an appointment."""
    rules: dict[str, None] = {}
    for terms in attending:
        rule = texts.in_person_rule(terms.in_person)
        if terms.in_person.rule is InPersonRule.BY_APPOINTMENT:
            rule = f"{rule} {texts.THIS_IS_THE_APPOINTMENT}"
        rules[rule] = None
    paragraphs = (texts.MEETING_ARRIVAL, texts.ATTENDING_TERMS) if rules else (texts.MEETING_ARRIVAL,)
    return Section(heading="Når du møder op", paragraphs=paragraphs, items=tuple(rules))
