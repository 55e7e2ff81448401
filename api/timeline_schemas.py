"""HTTP shapes of the legal timeline and the as-of answers (staff identities included: legal only)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from pydantic import Field

from api.schemas import Answer, DeskAppointmentOut, FileRecord, InPersonOut, desk_meetings
from domain.appointments.desk import DeskAppointment, DeskCentre

from domain.records.as_of import Answers, AsOf, IncidentThen, NumberThen, ReachBack
from domain.incident.facts import IncidentFacts
from domain.contact_file.restriction_state import Restriction
from domain.records.timeline import Entry
from domain.values import Actor, InPersonRule, PhoneRule, Role, TimeWindow
from infra.access_log import AccessEntry
from domain.contact_file.routing import strictest_first
from projections import front_desk
from projections.incident_index import Attribution


class LetterRefOut(Answer):
    letter_id: UUID
    kind: str
    sha256: str = Field(description="SHA-256 of the stored PDF: the exact copy sent")


class EntryOut(Answer):
    position: int = Field(description="the fact's position in the event log")
    originator_id: UUID = Field(
        description="the contact file (citizen reference) or incident the fact belongs to; for a supersession, the"
        " register of supersessions (the superseded fact is named in the summary)"
    )
    version: int
    type: str = Field(description="the stored type, e.g. ContactFile.RestrictionDecided or Incident.Reported")
    name: str = Field(description="the type's Danish name, as the PDF prints it, e.g. Restriktion besluttet")
    effective_at: datetime = Field(
        description="when the fact took effect (valid time); for Incident.Reported, when the incident occurred"
    )
    recorded_at: datetime = Field(description="when the fact was recorded (record time)")
    actor: Actor = Field(description="who recorded it")
    summary: str
    letters: list[LetterRefOut] = Field(description="the letters this fact produced or concerns")

    @classmethod
    def of(cls, entry: Entry) -> EntryOut:
        letters = [LetterRefOut(letter_id=l.letter_id, kind=l.kind, sha256=l.sha256) for l in entry.letters]
        return cls(**{**entry.__dict__, "letters": letters})


class AccessOut(Answer):
    at: datetime
    user_id: str
    role: Role | None = Field(description="none for an attempt refused for want of a valid token")
    purpose: str
    what: str
    view_position: int | None = Field(
        None, description="for a lookup: the position of the view it answered from; ask as-of at `at` to see the answer"
    )

    @classmethod
    def of(cls, entry: AccessEntry) -> AccessOut:
        return cls(at=entry.at, user_id=entry.user_id, role=entry.role, purpose=entry.purpose.value, what=entry.what,
                   view_position=entry.view_position)


class AttributionOut(Answer):
    incident_id: UUID
    since_position: int = Field(description="the log position from which the citizen was named as perpetrator")
    until_position: int | None = Field(description="the correction that named someone else; none if still so")

    @classmethod
    def of(cls, attribution: Attribution) -> AttributionOut:
        return cls(incident_id=attribution.incident_id, since_position=attribution.since, until_position=attribution.until)


class ExportHeader(Answer):
    exported_at: datetime
    exported_by: Actor
    position: int = Field(description="the event-log position the export reflects: no fact after it is shown")


class CitizenTimelineOut(ExportHeader):
    citizen_ref: UUID
    incidents: list[AttributionOut] = Field(description="incidents naming the citizen as perpetrator, now or before")
    entries: list[EntryOut]
    accesses: list[AccessOut] = Field(
        description="who read the citizen's data, when and why, oldest first: a page of `limit` (this read included, on"
        " the last page)"
    )
    accesses_next_cursor: str | None = Field(
        None, description="the `cursor` of the accesses' next page (also in the `Link` header); none on the last page"
    )


class IncidentTimelineOut(ExportHeader):
    incident_id: UUID
    perpetrator_refs: list[UUID] = Field(description="the citizens the incident named as perpetrator, now or before")
    appointment_id: UUID | None = Field(
        None, description="the meeting the incident was reported from, if it was; its fact of the link is among the entries"
    )
    entries: list[EntryOut]


class FrontDeskThenOut(Answer):
    """The front-desk lookup's answer, shaped as the live lookup gives it (which never says whether the
    citizen was on file: see `known_then` for that)."""

    in_person: InPersonOut
    also_in_force: list[InPersonOut]
    appointments_today: list[DeskAppointmentOut] | None = Field(
        None, description="as the live lookup: for by_appointment and guard_present, the citizen's meetings still"
        " booked on the day of `at` as the view held them, at the centre the lookup was answered for, or at every"
        " centre, each with its centre (see `answered_from.front_desk_centre`); null otherwise",
    )
    appointment_note: str | None = Field(None, description="'no appointment today' when the list is empty")

    @classmethod
    def of(cls, answers: Answers, meetings: Sequence[DeskAppointment] = ()) -> FrontDeskThenOut:
        shown = [_in_person(r) for r in sorted(answers.in_person, key=lambda r: front_desk.strictest_first(r.terms.in_person.rule, r.terms.valid_until, r.restriction_id))]
        headline = shown[0] if shown else InPersonOut(rule=InPersonRule.OPEN)
        return cls(in_person=headline, also_in_force=shown[1:], **desk_meetings(headline.rule, meetings))



def _in_person(r: Restriction) -> InPersonOut:
    t = r.terms
    return InPersonOut(
        rule=t.in_person.rule, instructions=t.in_person.instructions, contact_point=t.contact_point,
        valid_until=t.valid_until, scope=t.scope,
    )


class PhoneRoutingThenOut(Answer):
    """How a call from one of the citizen's numbers was routed: the live lookup's answer for that number."""

    number: str
    rule: PhoneRule
    contact: str | None = None
    windows: list[TimeWindow] = []
    valid_until: datetime | None = None
    known_number: bool = Field(description="whether any contact file held the number at the moment")
    holders: list[UUID] = Field(description="the contact files holding the number at the moment, this one included")
    restriction_id: UUID | None = Field(None, description="the restriction whose phone rule decided the routing")

    @classmethod
    def of(cls, number: NumberThen) -> PhoneRoutingThenOut:
        ordered = sorted(number.restrictions, key=lambda r: strictest_first(r.phone.rule, r.valid_until, r.restriction_id))
        held = {"number": number.number, "known_number": bool(number.holders), "holders": list(number.holders)}
        if not ordered:
            return cls(**held, rule=PhoneRule.OPEN)
        first = ordered[0]
        return cls(
            **held, rule=first.phone.rule, contact=first.phone.contact, windows=list(first.phone.windows),
            valid_until=first.valid_until, restriction_id=first.restriction_id,
        )


class ReachBackOut(Answer):
    restriction_id: UUID
    valid_from: datetime = Field(description="the start of the period as decided")
    decided_at: datetime = Field(description="the decision; the restriction is in force from here, not before")
    covers_at: bool = Field(description="whether the moment asked about lies between the two: in the period, not in force")

    @classmethod
    def of(cls, reach: ReachBack, at: datetime) -> ReachBackOut:
        return cls(restriction_id=reach.restriction_id, valid_from=reach.valid_from, decided_at=reach.decided_at,
                   covers_at=reach.covers(at))


class IncidentThenOut(Answer):
    """An incident as recorded by the moment: facts corrected later show as they then stood."""

    incident_id: UUID
    position_then: int = Field(description="the log position of the incident's latest fact recorded by `at`")
    version: int
    facts: IncidentFacts
    reported_at: datetime
    corrected_fields: list[str] = Field(description="fields corrected by `at`, in order")
    closed_at: datetime | None = None

    @classmethod
    def of(cls, then: IncidentThen) -> IncidentThenOut:
        i = then.incident
        return cls(
            incident_id=then.incident_id, position_then=then.position_then, version=i.version, facts=i.facts,
            reported_at=i.reported_at, corrected_fields=[f for c in i.corrections for f in c.fields],
            closed_at=i.closed_at,
        )


class ContactFileThenOut(FileRecord):
    """The contact file as recorded by the moment: proposals and hearings are in `restrictions`."""


class AnsweredFromOut(Answer):
    """What the front-desk and phone-routing answers rest on."""

    front_desk_position: int | None = Field(
        description="the front-desk view's position, kept by the citizen's front-desk lookup made at exactly `at`:"
        " the answer is exactly what that lookup showed. None: no such lookup was logged, and the answer is what"
        " a view that was current at `at` gave (every fact recorded by `at`)"
    )
    phone_routing_position: int | None = Field(
        description="the same for the phone routing, from a call routing lookup of the citizen made at exactly `at`"
    )
    front_desk_centre: str | None = Field(
        None, description="the centre the front-desk lookup at `at` was answered for: `appointments_today` lists"
        " that centre's meetings alone, as the guard was shown them. None: every centre's, each with its centre:"
        " the guard was bound to no centre and shown them all, no lookup was logged at `at`, or the lookup was"
        " logged before lookups recorded their centre (`front_desk_centre_not_recorded`)"
    )
    front_desk_centre_not_recorded: bool = Field(
        False, description="true when the front-desk lookup at `at` was logged before lookups recorded their"
        " centre: which centre's meetings the guard was shown is not known, so the meetings of every centre are"
        " listed, possibly more than the guard saw"
    )


class AsOfOut(Answer):
    citizen_ref: UUID
    at: datetime
    position: int = Field(description="the event-log position the answer reflects: no later fact is used")
    position_then: int = Field(description="the log position of the latest fact of this file recorded by `at`")
    in_force_known_now: list[Restriction] = Field(
        description="restrictions in force at `at` by effective time, from every fact recorded to date;"
        " a restriction is in force from its decision on, never earlier, whatever its period says"
    )
    in_force_known_then: list[Restriction] = Field(description="the same, from the facts recorded by `at` only")
    learned_later: list[UUID] = Field(description="restrictions whose standing at `at` changed by facts recorded later")
    reaches_back: list[ReachBackOut] = Field(
        description="decisions whose period, as decided, begins before the decision itself"
    )
    front_desk: FrontDeskThenOut = Field(description="what the front-desk lookup answered at `at`")
    phone_routing: list[PhoneRoutingThenOut] = Field(
        description="what the phone routing answered at `at` for a call from each number the citizen held then:"
        " the strictest rule in force across every contact file holding that number, as the live lookup gives it"
    )
    known_then: ContactFileThenOut | None = Field(description="the contact file as recorded by `at`; none if not yet open")
    incidents_known_then: list[IncidentThenOut] = Field(
        description="the incidents the file's restrictions rested on, or naming the citizen, as recorded by `at`"
    )
    answered_from: AnsweredFromOut
    unanswered: list[str] = Field(
        default_factory=list, description="the lookups (front_desk, phone_routing) logged at exactly `at` that gave no"
        " answer: 503 cannot tell, their view stopped or behind the log. Their answer above is what that view held"
        " (at the position in `answered_from`), which was not shown"
    )

    @classmethod
    def of(
        cls, citizen_ref: UUID, answer: AsOf, position: int, meetings: Sequence[DeskAppointment] = (),
        centre: DeskCentre = DeskCentre(),
    ) -> AsOfOut:
        return cls(
            citizen_ref=citizen_ref, at=answer.at, position=position, position_then=answer.position_then,
            in_force_known_now=list(answer.in_force_known_now), in_force_known_then=list(answer.in_force_known_then),
            learned_later=list(answer.learned_later),
            reaches_back=[ReachBackOut.of(r, answer.at) for r in answer.reaches_back],
            front_desk=FrontDeskThenOut.of(answer.answered, meetings),
            phone_routing=[PhoneRoutingThenOut.of(n) for n in answer.answered.numbers],
            known_then=ContactFileThenOut.of(answer.known_then) if answer.known_then else None,
            incidents_known_then=[IncidentThenOut.of(i) for i in answer.incidents_then],
            answered_from=AnsweredFromOut(
                front_desk_position=answer.views.front_desk, phone_routing_position=answer.views.phone_routing,
                front_desk_centre=centre.centre.value if centre.centre else None,
                front_desk_centre_not_recorded=not centre.recorded,
            ),
            unanswered=[name for name, flag in (("front_desk", answer.views.front_desk_unanswered),
                                                ("phone_routing", answer.views.phone_routing_unanswered)) if flag],
        )
