"""Whether a caller reaches a citizen's file or an incident: their centre's, or one a leader granted them.

A caseworker whose token names a centre (`Principal.centre_bound`) reaches a file that is of their centre
and an incident of their centre; a leader's grant (domain/contact_file/access.py) lets them reach one
citizen's file and the incidents naming that citizen too. A file is of the centre it was opened at, of the
centres its restrictions' scopes name (`ContactFile.centres`) and of the centres of the incidents now naming
the citizen, read from the incident index: only when the file's own centres and grants do not admit the
caller, and then once the index has caught up with the log, so an incident just reported counts.
A file of no centre at all (opened before files kept one, or by a caller whose token names none, and named
by no incident) is every centre's, as all files were before: a deployment gives every caseworker a centre.
Every other caller (leaders, legal, a caseworker whose token names no centre) reaches every case.
A refusal is a 403 (`Forbidden`), written to the access log as denied against the citizen.
"""

from __future__ import annotations

from uuid import UUID

from api.problems import Forbidden
from api.security import Principal
from domain.contact_file.aggregate import ContactFile
from domain.errors import NotFound
from domain.incident.aggregate import Incident
from domain.incident.facts import IncidentFacts
from infra.services import Services


def reaches(services: Services, caller: Principal, file: ContactFile) -> bool:
    """Whether `caller` may read and write `file`."""
    if not caller.centre_bound or file.admits(caller.user_id, services.app.clock()):
        return True
    assert caller.centre is not None
    own = file.centres()
    if caller.centre.value in own:
        return True
    services.wait_for(services.incident_index.name, services.events.head())
    named = services.incident_index.incidents_of(services.db, file.id)
    centres = own | {services.app.get_incident(a.incident_id).facts.centre.value for a in named if a.current}
    return caller.centre.value in centres or not centres  # a file of no centre is every centre's, as before


def file_for(services: Services, caller: Principal, citizen_ref: UUID) -> ContactFile:
    """The citizen's file, if `caller` reaches it; Forbidden if not, NotFound if there is none."""
    file = services.app.get_contact_file(citizen_ref)
    if not reaches(services, caller, file):
        raise Forbidden("this file is another centre's, and no grant lets you reach it", caller.actor, citizen_ref)
    return file


def incident_for(services: Services, caller: Principal, incident_id: UUID) -> Incident:
    """The incident, if `caller` reaches it: of their centre, or naming a citizen whose file they were granted."""
    incident = services.app.get_incident(incident_id)
    if caller.sees(incident.facts.centre):
        return incident
    citizen_ref = incident.basis().citizen_ref
    if citizen_ref is not None and _granted(services, caller, citizen_ref):
        return incident
    raise Forbidden("this incident is another centre's, and no grant lets you reach it", caller.actor, citizen_ref)


def _granted(services: Services, caller: Principal, citizen_ref: UUID) -> bool:
    try:
        return services.app.get_contact_file(citizen_ref).admits(caller.user_id, services.app.clock())
    except NotFound:
        return False


def reporting(caller: Principal, facts: IncidentFacts) -> None:
    """Refuses a report of an incident at a centre the caller's cases are not of: they could not follow it up."""
    if not caller.sees(facts.centre):
        raise Forbidden("you report incidents at your own centre", caller.actor, facts.perpetrator.citizen_ref)


def guard(services: Services, caller: Principal, ids: dict[str, UUID]) -> None:
    """Refuses a write on a file or an incident (named by the path's ids) that `caller` does not reach."""
    if not caller.centre_bound:
        return
    if "citizen_ref" in ids:
        file_for(services, caller, ids["citizen_ref"])
    elif "incident_id" in ids:
        incident_for(services, caller, ids["incident_id"])
    elif "appointment_id" in ids:  # a meeting is its centre's
        appointment = services.app.get_appointment(ids["appointment_id"])
        if not caller.sees(appointment.place.centre):
            raise Forbidden("this meeting is at another centre than yours", caller.actor, appointment.citizen_ref)
