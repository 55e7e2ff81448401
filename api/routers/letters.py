"""Letters to the citizen: issued from the file as PDF, fetched as the stored bytes."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response, status

from api import roles
from api.deps import ServicesDep, allowed
from api.problems import ERASED_DESCRIPTION, PROBLEM
from api.reads import ReaderDep
from api.schemas import DeliveryBody, DispatchBody, IssueLetterBody, WriteReceipt
from api.writes import Write, add_writes, receipt_out
from domain.contact_file.commands import IssueLetter, RecordDelivery, RecordDispatch

router = APIRouter(prefix="/contact-files/{citizen_ref}/letters", tags=["letters"])
PDF = {
    200: {"content": {"application/pdf": {}}},
    410: {"description": ERASED_DESCRIPTION, "content": {PROBLEM: {}}},
    500: {"description": "the stored PDF no longer matches its hash"},
}
MayIssueLetter = allowed(roles.ISSUE_LETTER)
MayReadLetter = allowed(roles.READ_LETTER)


@router.post("", response_model=WriteReceipt, status_code=status.HTTP_201_CREATED)
def issue_letter(
    citizen_ref: UUID, body: IssueLetterBody, caller: MayIssueLetter, services: ServicesDep, response: Response
) -> WriteReceipt:
    """Issues a letter about a restriction or warning, or a meeting's appointment letter (kind `appointment`, the
    meeting as `subject_id`), to the citizen at the given address, signed by the caller; it is rendered once,
    here. `Location` points to the letter."""
    receipt = services.letters.issue(
        IssueLetter.of(body, citizen_ref=citizen_ref, official=caller.official, actor=caller.actor)
    )
    written = receipt_out(response, receipt)
    response.headers["Location"] = f"/contact-files/{citizen_ref}/letters/{receipt.created_id}"
    return written


@router.get("/{letter_id}", response_class=Response, responses=PDF)
def fetch_letter(citizen_ref: UUID, letter_id: UUID, caller: MayReadLetter, reader: ReaderDep) -> Response:
    """The letter exactly as issued: the stored PDF bytes."""
    content, media_type = reader.letter(caller, citizen_ref, letter_id)
    return Response(content, media_type=media_type, headers={"Content-Disposition": f'inline; filename="{letter_id}.pdf"'})


add_writes(router, (
    Write("/{letter_id}/dispatch", RecordDispatch, DispatchBody, roles.LETTER_SENT, "Records how and when the letter was sent.",
          if_match=False),
    Write("/{letter_id}/delivery", RecordDelivery, DeliveryBody, roles.LETTER_SENT,
          "Records the evidence that the letter reached the citizen.", if_match=False),
))
