"""Which meeting an appointment letter may be issued for, and the terms it states.

The letter is recorded on the citizen's contact file like every letter (`LetterIssued`, kind
`appointment`, its subject the meeting), so it is fetched as stored, dispatched, delivered, shown in the
case's timeline and erased with the citizen as the others are. It states the meeting as it stands,
before it takes place: it is refused for a meeting that is not this citizen's, was cancelled, has begun
or has its outcome recorded, and for one a restriction decided since the booking bans the citizen from
attending (domain/letters/appointment.py refuses that). The terms are those of the restrictions that
govern attending the meeting (domain/appointments/attendance.py); the signer may not be, and the letter
may not name, an employee the incidents behind them affected.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from domain.appointments.aggregate import Appointment
from domain.appointments.attendance import governing
from domain.appointments.values import AppointmentStatus
from domain.contact_file.commands import IssueLetter
from domain.contact_file.restriction_state import Restriction
from domain.contact_file.restriction_terms import IncidentBasis
from domain.contact_file.state import FileState
from domain.errors import RuleViolation
from domain.letters.appointment import Meeting, compose_appointment_letter
from domain.letters.parts import Letter, check_names_absent

NAMES_AFFECTED = "the host shown names an employee the incidents affected; show the team or contact point instead"


def letter_meeting(file: FileState, meeting: Appointment | None, now: datetime) -> Appointment:
    """The meeting, if an appointment letter may be issued for it now from this file."""
    if meeting is None or meeting.citizen_ref != file.id:
        raise RuleViolation("subject_id", "no appointment with that id for this citizen")
    if file.erasure is not None:
        raise RuleViolation("subject_id", "the citizen's contact file was erased")
    if meeting.status is AppointmentStatus.CANCELLED:
        raise RuleViolation("subject_id", "the appointment was cancelled; a cancelled meeting gets no appointment letter")
    if meeting.outcome is not None or meeting.slot.starts_at <= now:
        raise RuleViolation("subject_id", "the meeting has begun; an appointment letter is sent before it")
    return meeting


def attending_restrictions(file: FileState, meeting: Appointment) -> list[Restriction]:
    """The citizen's restrictions that govern attending this meeting."""
    slot = meeting.slot
    return governing(file.restrictions.values(), meeting.place, meeting.case, slot.starts_at, slot.ends_at)


def compose_meeting_letter(
    meeting: Appointment, restrictions: list[Restriction], command: IssueLetter, incidents: Iterable[IncidentBasis],
    issued_on: date,
) -> Letter:
    """The meeting's letter, signed by the command's official; `incidents` are those behind `restrictions`."""
    relied_on = list(incidents)
    facts = Meeting(
        slot=meeting.slot, place=meeting.place, host_shown_as=meeting.host.shown_as, kind=meeting.kind,
        arranged_with_citizen=meeting.arranged_with_citizen,
    )
    letter = compose_appointment_letter(
        facts, [r.terms for r in restrictions], reference=meeting.id, recipient=command.recipient,
        signed_by=command.official, affected_employee_ids={e for i in relied_on for e in i.affected_employee_ids},
        issued_on=issued_on,
    )
    check_names_absent(letter, {name for i in relied_on for name in i.affected_names}, "host", NAMES_AFFECTED)
    return letter
