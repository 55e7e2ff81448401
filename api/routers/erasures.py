"""Erasure under the State Archives' authorisation: a citizen's personal data, or a former employee's.

Each is recorded as a fact first (who decided it, on which authorisation), then carried out by
destroying the data keys their personal text is sealed under (infra/erasure.py). The facts stay in
the log and in the timeline, as erased; management figures keep counting them.
"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter
from pydantic import Field

from api import roles
from api.deps import ExpectedVersion, ServicesDep, allowed
from api.schemas import Answer
from domain.contact_file.commands import EraseCitizen, EraseInputs
from domain.employee_erasure import EraseEmployee, EraseEmployeeInputs

router = APIRouter(tags=["erasure"])
MayEraseCitizen = allowed(roles.ERASE_CITIZEN)
MayEraseEmployee = allowed(roles.ERASE_EMPLOYEE)


class EraseBody(EraseInputs):
    pass


class EraseEmployeeBody(EraseEmployeeInputs):
    pass


class ErasureOut(Answer):
    erased_id: UUID = Field(description="the contact file erased, or the record of the employee's erasure")
    position: int = Field(description="the event-log position of the erasure")
    incident_ids: list[UUID] = Field(description="the incidents erased with the citizen")
    keys_destroyed: int = Field(description="data keys destroyed by this call (0 when a retry finds them gone)")


@router.post("/contact-files/{citizen_ref}/erasure", response_model=ErasureOut)
def erase_citizen(
    citizen_ref: UUID, body: EraseBody, caller: MayEraseCitizen, services: ServicesDep, version: ExpectedVersion
) -> ErasureOut:
    """Erases the citizen's personal data (their meetings' included) and that of the incidents now naming them,
    under the archive authorisation given; refused while a restriction is proposed or in force, a complaint is open,
    a meeting with them is booked and its outcome not recorded, or an incident naming them is open or under police
    investigation, or while a fact the erasure covers is stored in
    clear from before sealing (`vaern keys seal-existing` seals them). The caller is the responsible official."""
    head = services.events.head()
    services.wait_for(services.incident_index.name, head)
    named = [a.incident_id for a in services.incident_index.incidents_of(services.db, citizen_ref) if a.current]
    meetings = [a.id for a in services.app.meetings_of(citizen_ref)]
    services.shredder.require_sealed("citizen_ref", [citizen_ref, *named, *meetings])
    command = EraseCitizen.of(
        body, citizen_ref=citizen_ref, incident_ids=tuple(dict.fromkeys(named)), official=caller.official,
        actor=caller.actor, expected_version=version,
    )
    receipt = services.app.erase_citizen(command)
    destroyed = services.shredder.destroy(services.shredder.citizen_subjects(citizen_ref, receipt.incident_ids))
    return ErasureOut(
        erased_id=citizen_ref, position=receipt.position, incident_ids=list(receipt.incident_ids), keys_destroyed=destroyed
    )


@router.post("/employees/erasure", response_model=ErasureOut)
def erase_employee(body: EraseEmployeeBody, caller: MayEraseEmployee, services: ServicesDep) -> ErasureOut:
    """Erases a former employee's name, user id and title wherever they stand, under the archive authorisation
    given; the incidents, decisions and letters they were part of stay whole. The id is in the body, never the URL.
    Refused while any fact is stored in clear from before sealing (`vaern keys seal-existing` seals them)."""
    services.shredder.require_sealed("employee_id")
    receipt = services.app.erase_employee(EraseEmployee.of(body, official=caller.official, actor=caller.actor))
    destroyed = services.shredder.destroy([services.shredder.employee_subject(body.employee_id)])
    return ErasureOut(erased_id=receipt.erased_id, position=receipt.position, incident_ids=[], keys_destroyed=destroyed)
