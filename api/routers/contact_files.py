"""Contact files: opening one, phone numbers, adjustment needs and warnings."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from fastapi import APIRouter, Response, status

from api import roles
from api.deps import allowed
from api.paging import RESPONSES as PAGED, paged
from api.reads import ReaderDep
from api.schemas import (
    AccessReportLineOut,
    AdjustmentNeedBody,
    ContactFileOut,
    FileBody,
    FileFoundOut,
    GrantAccessBody,
    PhoneNumberBody,
    WarningBody,
    WriteReceipt,
)
from api.writes import Write, add_writes, receipt_out
from domain.contact_file.commands import (
    GrantAccess,
    IssueWarning,
    OpenContactFile,
    RecordAdjustmentNeed,
    RegisterPhoneNumber,
    RevokeAccess,
)

router = APIRouter(prefix="/contact-files", tags=["contact files"])
MayOpenFile = allowed(roles.OPEN_FILE)
MayFindFile = allowed(roles.FIND_FILE)
MayReadFile = allowed(roles.READ_FILE)
MayAccessReport = allowed(roles.ACCESS_REPORT)


@router.post(
    "", response_model=WriteReceipt, status_code=status.HTTP_201_CREATED,
    responses={200: {"model": WriteReceipt, "description": "the citizen's file was open already: its reference"}},
)
def open_contact_file(body: FileBody, caller: MayOpenFile, reader: ReaderDep, response: Response) -> WriteReceipt:
    """Opens the citizen's contact file for the purpose stated, kept on the file (or finds the open one), and
    returns its opaque reference. To learn whether a file is open, find it instead: that creates nothing."""
    receipt = reader.open_file(caller, OpenContactFile.of(body, actor=caller.actor, centre=caller.centre))
    if receipt.position is None:
        response.status_code = status.HTTP_200_OK
    return receipt_out(response, receipt)


@router.post("/search", response_model=FileFoundOut, responses={404: {"description": "no file is open for the number"}})
def find_contact_file(body: FileBody, caller: MayFindFile, reader: ReaderDep) -> FileFoundOut:
    """Finds the citizen's open contact file by CPR number, for the purpose stated; creates nothing, and is
    recorded as a lookup of the citizen's data with that purpose."""
    return FileFoundOut(citizen_ref=reader.find_file(caller, body.cpr, body.purpose.value))


@router.get("/{citizen_ref}", response_model=ContactFileOut)
def get_contact_file(citizen_ref: UUID, caller: MayReadFile, reader: ReaderDep, response: Response) -> ContactFileOut:
    """The contact file as it stands: numbers, needs, warnings, restrictions with grounds, letters."""
    file = reader.contact_file(caller, citizen_ref)
    response.headers["ETag"] = f'"{file.version}"'
    return ContactFileOut.of(file, citizen_ref=citizen_ref)


add_writes(router, (
    Write("/{citizen_ref}/phone-numbers", RegisterPhoneNumber, PhoneNumberBody, roles.PHONE_NUMBERS,
          "Records a phone number as the citizen's (normalised to E.164); a known number changes nothing."),
    Write("/{citizen_ref}/adjustment-needs", RecordAdjustmentNeed, AdjustmentNeedBody, roles.ADJUSTMENT_NEEDS,
          "Records a need (e.g. dyslexia) that makes the citizen rely on certain channels.", status.HTTP_201_CREATED),
    Write("/{citizen_ref}/warnings", IssueWarning, WarningBody, roles.WARNINGS,
          "Records a warning asking the citizen to stop a named behaviour; the caller is the named official.",
          status.HTTP_201_CREATED),
    Write("/{citizen_ref}/grants", GrantAccess, GrantAccessBody, roles.GRANT_ACCESS,
          "Lets the caseworker named reach the citizen's file and the incidents naming them, whatever their centre,"
          " for the reason given, until the moment given; the caller is the granting leader.", status.HTTP_201_CREATED),
    Write("/{citizen_ref}/grants/{grant_id}/revoke", RevokeAccess, None, roles.REVOKE_ACCESS,
          "Ends a grant before its time; the caller is the revoking leader."),
))


ReportPage = paged("access_report", date, str)


@router.get("/{citizen_ref}/access-report", response_model=list[AccessReportLineOut], responses=PAGED)
def access_report(
    citizen_ref: UUID, caller: MayAccessReport, reader: ReaderDep, page: ReportPage, response: Response
) -> list[AccessReportLineOut]:
    """When, and why, the citizen's data was read: what the citizen may be told; never by whom. By day, then
    purpose, a page at a time: the next page is named in the `Link` header; each page read is itself a read."""
    lines, _ = page.cut(reader.access_report(caller, citizen_ref, page), lambda l: (l.day, l.purpose.value), response)
    return [AccessReportLineOut(day=l.day, purpose=l.purpose.value, reads=l.reads) for l in lines]
