"""Which appointments a caller reaches, and the logged read of one (beside api/reads.py, through its Reader).

A caseworker whose token names a centre books at and acts on meetings at their own centre, and books
only with citizens whose file they reach (api/case_access.py); leaders and unbound caseworkers reach
every centre's. Reading a meeting is a read of the citizen's data, logged against the citizen.
"""

from __future__ import annotations

from uuid import UUID

from api.case_access import guard
from api.problems import Forbidden
from api.reads import Reader
from api.security import Principal
from domain.appointments.aggregate import Appointment
from domain.errors import NotFound
from domain.incident.facts import Centre
from infra.access_log import case_purpose
from infra.services import Services


def at_centre(caller: Principal, centre: Centre, citizen_ref: UUID) -> None:
    """Refuses a caller bound to another centre than the meeting's."""
    if not caller.sees(centre):
        raise Forbidden("this meeting is at another centre than yours", caller.actor, citizen_ref)


def booking(services: Services, caller: Principal, citizen_ref: UUID, centre: Centre) -> None:
    """Refuses a booking the caller could not follow up: at another centre, or with a citizen they do not reach."""
    at_centre(caller, centre, citizen_ref)
    try:
        guard(services, caller, {"citizen_ref": citizen_ref})
    except NotFound:
        pass  # no file: the booking itself is refused, naming citizen_ref


def reached(services: Services, caller: Principal, appointment_id: UUID) -> Appointment:
    """The appointment, if the caller reaches it."""
    appointment = services.app.get_appointment(appointment_id)
    at_centre(caller, appointment.place.centre, appointment.citizen_ref)
    return appointment


def read(reader: Reader, caller: Principal, appointment_id: UUID) -> Appointment:
    """The appointment as it stands; the read is logged against its citizen."""
    appointment = reached(reader.services, caller, appointment_id)
    reader.record(caller, case_purpose(caller.actor), "appointment", appointment.citizen_ref)
    return appointment
