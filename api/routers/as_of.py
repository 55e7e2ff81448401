"""Legal review as of a moment: what was in force as known now, what the front desk and phone routing
answered then, what was known then; as JSON or PDF.

Every read here is recorded in the access log (purpose legal review) for each citizen whose data the
answer shows or rests on: the citizen, another contact file sharing a number, the perpetrator of an
incident known then. The answer names the event-log position it reflects.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response

from api import roles
from api.deps import allowed
from api.reads import Reader, ReaderDep
from api.routers.timeline import WAITS, Format, _contact_file, _pdf
from api.security import Principal
from api.timeline_schemas import AsOfOut
from domain.application import utc_now
from domain.appointments.desk import DeskCentre, shown_then
from domain.bounds import Moment
from domain.errors import NotFound
from domain.incident.facts import Centre
from domain.records.as_of import (
    ViewPositions, as_of, check_asked_about, printed_second, recorded_by, relied_on, replay,
)
from infra.access_log import EVERY_CENTRE, LoggedLookup, lookup_what
from infra.as_of_pdf import as_of_sections
from infra.services import Services
from infra.timeline_pdf import TimelineExport, stamp
from projections.front_desk_appointments import citizens_meetings
from projections.incident_index import history

router = APIRouter(tags=["legal review"])
MayAsOf = allowed(roles.AS_OF)
At = Annotated[Moment, Query(description="the moment asked about, with its UTC offset; from 2000-01-01 to now")]


def _read_as_of(reader: Reader, caller: Principal, citizen_ref: UUID, at: datetime, what: str) -> AsOfOut:
    """The as-of answer, after recording the read for every citizen whose data it rests on or shows."""
    services = reader.services
    check_asked_about(at, services.app.clock())
    head = services.events.head()
    facts = _contact_file(services, citizen_ref, head)
    if not facts:
        raise NotFound("no contact file with that reference")
    looked_up, logged = services.access.view_positions_at(citizen_ref, at)
    at = looked_up or printed_second(at)
    known_then = replay(event for _, event in recorded_by(facts, at))
    numbers = [*(known_then.phone_numbers if known_then else ()), *replay(event for _, event in facts).phone_numbers]
    sharing = {ref: history(services.app, ref, stop=head) for ref in _sharing(services, citizen_ref, numbers, head)}
    services.wait_for(services.incident_index.name, head)
    candidates = [*relied_on(known_then), *(a.incident_id for a in services.incident_index.incidents_of(services.db, citizen_ref))]
    incidents = {i: history(services.app, i, stop=head) for i in dict.fromkeys(candidates)}
    views = _logged_lookups(logged)
    answer = as_of(facts, at, sharing, incidents, views)
    centre = _desk_centre(logged)
    meetings = shown_then(_meetings(services, citizen_ref, head), at, views.front_desk, centre.centre)
    shown = [i.incident.facts.perpetrator.citizen_ref for i in answer.incidents_then]
    reader.legal(caller, what, citizen_ref, *sharing, *(ref for ref in shown if ref is not None))
    return AsOfOut.of(citizen_ref, answer, head, meetings, centre)


def _meetings(services: Services, citizen_ref: UUID, head: int) -> dict[UUID, list[tuple[int, Any]]]:
    """The histories of the citizen's meetings by position `head` (found through the front-desk view's rows)."""
    services.wait_for(services.front_desk.name, head)
    return {meeting: history(services.app, meeting, stop=head) for meeting in citizens_meetings(services.db, citizen_ref)}


def _logged_lookups(logged: dict[str, LoggedLookup]) -> ViewPositions:
    """The view positions the citizen's lookups at the moment kept, and whether they went unanswered."""
    def seen(what: str) -> tuple[int | None, bool]:
        unanswered = lookup_what(what, answered=False)
        lookup = logged.get(what, logged.get(unanswered))
        return (lookup.position if lookup else None), what not in logged and unanswered in logged

    (desk, desk_unanswered), (phone, phone_unanswered) = seen("front_desk_lookup"), seen("phone_routing_lookup")
    return ViewPositions(desk, phone, desk_unanswered, phone_unanswered)


def _desk_centre(logged: dict[str, LoggedLookup]) -> DeskCentre:
    """The centre the front-desk lookup at the moment was answered for, as its entry kept it."""
    what = "front_desk_lookup"
    lookup = logged.get(what, logged.get(lookup_what(what, answered=False)))
    if lookup is None:
        return DeskCentre()
    if lookup.centre is None:
        return DeskCentre(recorded=False)
    return DeskCentre(None if lookup.centre == EVERY_CENTRE else Centre(lookup.centre))


def _sharing(services: Services, citizen_ref: UUID, held: Iterable[str], head: int) -> list[UUID]:
    """The other contact files that hold, by position `head`, one of the `held` numbers (from the routing view)."""
    numbers = list(held)
    if not numbers:
        return []
    services.wait_for(services.phone_routing.name, head)
    return services.phone_routing.holders(services.db, numbers, head, citizen_ref)


@router.get("/contact-files/{citizen_ref}/as-of", response_model=AsOfOut, responses=WAITS)
def get_as_of(citizen_ref: UUID, caller: MayAsOf, reader: ReaderDep, at: At, format: Format = "json") -> Any:
    """At moment `at`: what was in force as known now, what the front desk and phone routing answered, what was known."""
    if format == "pdf":
        return get_as_of_pdf(citizen_ref, caller, reader, at)
    return _read_as_of(reader, caller, citizen_ref, at, f"legal_as_of {at.isoformat()}")


@router.get("/contact-files/{citizen_ref}/as-of.pdf", response_class=Response, responses=WAITS)
def get_as_of_pdf(citizen_ref: UUID, caller: MayAsOf, reader: ReaderDep, at: At) -> Response:
    """The as-of answer as PDF, headed by the moment asked about and the export's time, user and log position."""
    out = _read_as_of(reader, caller, citizen_ref, at, f"legal_as_of_pdf {at.isoformat()}")
    export = TimelineExport(
        title="Juridisk gennemgang: status på et tidspunkt", subject=f"Borgerreference {citizen_ref}",
        subject_ref=citizen_ref, exported_at=utc_now(), exported_by=caller.actor, position=out.position, entries=(),
        header=(f"Tidspunkt: {stamp(at)}",), sections=as_of_sections(out),
    )
    return _pdf(export, f"as-of-{citizen_ref}")
