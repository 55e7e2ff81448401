"""Whether a citizen's restrictions let them come to a meeting, and whether a safety plan has grounds.

The rule on attendance, read from the restriction's own terms (domain/contact_file/restriction_terms.py):
- Only a decided restriction that has not ended counts (a proposal is not in force and binds no one),
  and only one whose period overlaps the meeting: one decided to start before the meeting's end counts
  even if it is not yet in force at booking.
- Its in-person rule decides. `open`, `by_appointment` and `guard_present` all admit a booked meeting:
  a booked meeting is exactly what `by_appointment` allows, and `guard_present` admits the citizen
  on condition that a guard is there (the leader's safety plan arranges that; it is not a refusal).
  `banned` refuses the meeting.
- A ban reaches the meeting only within the restriction's scope: an administration-wide ban reaches
  every meeting; a centre ban only meetings at that centre; a case ban only meetings about that case,
  and a meeting that names no case is taken to be about it (nothing shows that it is not).
- The terms' `instructions` are free text for the guards and are not read as permission: a meeting the
  administration wants despite a ban is allowed by deciding so in the terms (an amendment to
  `by_appointment`, or a narrower scope), so that the decision, not the booking, says the citizen may come.
The restrictions that reach a meeting in this way and limit attending (any rule but `open`) are those whose
terms the meeting's appointment letter states (domain/appointments/letter.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from domain.appointments.values import Place
from domain.contact_file.restriction_state import Restriction
from domain.contact_file.restriction_terms import IncidentBasis
from domain.errors import RuleViolation
from domain.values import InPersonRule, ScopeKind


def banning(
    restrictions: Iterable[Restriction], place: Place, case: str | None, starts_at: datetime, ends_at: datetime
) -> Restriction | None:
    """The first decided, unended restriction that bans the citizen from attending this meeting, if any."""
    reaching = governing(restrictions, place, case, starts_at, ends_at)
    return next((r for r in reaching if r.terms.in_person.rule is InPersonRule.BANNED), None)


def governing(
    restrictions: Iterable[Restriction], place: Place, case: str | None, starts_at: datetime, ends_at: datetime
) -> list[Restriction]:
    """The decided, unended restrictions whose in-person rule governs attending this meeting: one that limits
    attending (not `open`), whose period overlaps the meeting and whose scope reaches it."""
    found = []
    for restriction in restrictions:
        terms = restriction.terms
        if not restriction.active or terms.in_person.rule is InPersonRule.OPEN:
            continue
        if not (terms.valid_from < ends_at and starts_at < terms.valid_until):
            continue
        if _reaches(terms.scope.kind, terms.scope.centre, terms.scope.case, place, case):
            found.append(restriction)
    return found


def _reaches(kind: ScopeKind, centre: str | None, scoped_case: str | None, place: Place, case: str | None) -> bool:
    if kind is ScopeKind.CENTRE:
        return centre == place.centre.value
    if kind is ScopeKind.CASE:
        return case is None or case == scoped_case
    return True


def check_attendance(
    restrictions: Iterable[Restriction], place: Place, case: str | None, starts_at: datetime, ends_at: datetime
) -> None:
    """Refuses a meeting that a restriction in force at its time bans the citizen from attending."""
    found = banning(restrictions, place, case, starts_at, ends_at)
    if found is not None:
        raise RuleViolation(
            "citizen_ref",
            f"restriction {str(found.restriction_id)[:8]} bans the citizen from attending in person at that time; "
            "only a restriction whose terms admit a meeting (by appointment, or a scope not reaching it) allows one",
        )


def check_plan_grounds(
    citizen_ref: UUID, has_restriction_or_warning: bool, incidents: dict[UUID, IncidentBasis]
) -> None:
    """A safety plan is for a citizen with an incident or a restriction (or a warning) on file; each incident
    named must be one the citizen caused."""
    for incident_id, basis in incidents.items():
        if basis.citizen_ref != citizen_ref:
            raise RuleViolation("incident_ids", f"incident {incident_id} does not name this citizen as perpetrator")
    if not (incidents or has_restriction_or_warning):
        raise RuleViolation(
            "incident_ids",
            "a safety plan is for a citizen with an incident or a restriction on file: name the incident",
        )
