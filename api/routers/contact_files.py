"""Contact files: opening one, registering phone numbers, deciding and lifting restrictions."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response, status

from api.deps import Caseworker, ExpectedVersion, FileOpener, FileReader, Leader, ServicesDep
from api.schemas import (
    ContactFileOut,
    CprBody,
    DecideRestrictionBody,
    LiftRestrictionBody,
    PhoneNumberBody,
    RestrictionOut,
    WriteReceipt,
)
from domain.application import Receipt, utc_now
from domain.identity import Cpr
from domain.restrictions import RestrictionTerms

router = APIRouter(prefix="/contact-files", tags=["contact files"])


def _receipt(response: Response, receipt: Receipt) -> WriteReceipt:
    response.headers["ETag"] = f'"{receipt.version}"'
    response.headers["Location"] = f"/contact-files/{receipt.citizen_ref}"
    return WriteReceipt(**receipt.__dict__)


@router.post("", response_model=WriteReceipt, status_code=status.HTTP_201_CREATED)
def open_contact_file(body: CprBody, caller: FileOpener, services: ServicesDep, response: Response) -> WriteReceipt:
    """Opens the citizen's contact file (or finds the open one) and returns its opaque reference."""
    receipt = services.app.open_contact_file(Cpr.parse(body.cpr), caller.actor)
    if receipt.position is None:
        response.status_code = status.HTTP_200_OK
    return _receipt(response, receipt)


@router.get("/{citizen_ref}", response_model=ContactFileOut)
def get_contact_file(citizen_ref: UUID, caller: FileReader, services: ServicesDep, response: Response) -> ContactFileOut:
    """The contact file as it stands: numbers and restrictions with their grounds."""
    file = services.app.get_contact_file(citizen_ref)
    now = utc_now()
    response.headers["ETag"] = f'"{file.version}"'
    return ContactFileOut(
        citizen_ref=citizen_ref,
        version=file.version,
        phone_numbers=list(file.phone_numbers),
        restrictions=[
            RestrictionOut(
                restriction_id=r.restriction_id,
                terms=r.terms,
                decided_by={"name": r.decided_by.name, "title": r.decided_by.title},
                decided_at=r.decided_at,
                lifted_at=r.lifted_at,
                in_force=r.in_force_at(now),
            )
            for r in file.restrictions.values()
        ],
    )


@router.post("/{citizen_ref}/phone-numbers", response_model=WriteReceipt)
def register_phone_number(
    citizen_ref: UUID,
    body: PhoneNumberBody,
    caller: Caseworker,
    services: ServicesDep,
    version: ExpectedVersion,
    response: Response,
) -> WriteReceipt:
    """Records a phone number as the citizen's (normalised to E.164); a known number changes nothing."""
    receipt = services.app.register_phone_number(citizen_ref, body.number, caller.actor, version)
    return _receipt(response, receipt)


@router.post("/{citizen_ref}/restrictions", response_model=WriteReceipt, status_code=status.HTTP_201_CREATED)
def decide_restriction(
    citizen_ref: UUID,
    body: DecideRestrictionBody,
    caller: Leader,
    services: ServicesDep,
    version: ExpectedVersion,
    response: Response,
) -> WriteReceipt:
    """Decides a restriction on the citizen's contact; the caller is the named deciding official."""
    terms = RestrictionTerms.model_validate(body.model_dump())
    receipt = services.app.decide_restriction(citizen_ref, terms, caller.official, caller.actor, version)
    return _receipt(response, receipt)


@router.post("/{citizen_ref}/restrictions/{restriction_id}/lift", response_model=WriteReceipt)
def lift_restriction(
    citizen_ref: UUID,
    restriction_id: UUID,
    body: LiftRestrictionBody,
    caller: Leader,
    services: ServicesDep,
    version: ExpectedVersion,
    response: Response,
) -> WriteReceipt:
    """Lifts a restriction from now on, with the reason; the caller is the named official."""
    receipt = services.app.lift_restriction(
        citizen_ref, restriction_id, body.reason, caller.official, caller.actor, version
    )
    return _receipt(response, receipt)
