"""The contact file's commands as values: opening it, numbers, needs, warnings and letters.

Each `...Inputs` class holds what a caller types in (an HTTP body extends it); the command adds the
file it targets, who asks and, where a named official answers for it, the official.
The restriction's own commands are in `domain.contact_file.restriction_commands`.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any
from uuid import UUID

from pydantic import AwareDatetime, BeforeValidator, Field, StringConstraints

from domain.command import Command, Inputs
from domain.identity import Cpr
from domain.incident.facts import Centre
from domain.letters.parts import LetterKind, Recipient
from domain.values import ArchiveAuthorisation, Channel, Official, ShortText, Text

CPR_PATTERN = r"^[0-9]{6}-?[0-9]{4}$"  # the shape; Cpr.parse then checks the birth date


def _digits(value: Any) -> Any:
    """A CPR number already parsed is taken as its digits."""
    return value.digits if isinstance(value, Cpr) else value


CprText = Annotated[str, StringConstraints(strip_whitespace=True, pattern=CPR_PATTERN), BeforeValidator(_digits)]


class OnFile(Command):
    """A command on one contact file, with the version the caller last saw when it gives one."""

    citizen_ref: UUID
    expected_version: int | None = None


class Signed(Command):
    """A command a named official answers for."""

    official: Official


class FilePurpose(str, Enum):
    """Why a caseworker looks for or opens a citizen's file: stated each time, kept with the act."""

    INCIDENT = "incident"  # an incident the citizen caused (the first one opens the file)
    RESTRICTION = "restriction"  # a restriction on the citizen's contact, proposed or in force
    WARNING = "warning"
    ADJUSTMENT_NEED = "adjustment_need"
    PHONE_NUMBER = "phone_number"  # registering a number, so calls can be routed


class CprInputs(Inputs):
    cpr: CprText = Field(description="DDMMYY-SSSS or ten digits", examples=["010190-1234"], repr=False)


class OpenContactFileInputs(CprInputs):
    purpose: FilePurpose = Field(description="why the file is looked for or opened; kept with the act")


class OpenContactFile(OpenContactFileInputs, Command):
    """Open the citizen's contact file for a stated purpose, or find the one already open."""

    centre: Centre | None = None  # the centre of the caller opening it, the file's first centre


class GrantAccessInputs(Inputs):
    employee_id: ShortText = Field(description="the user id of the caseworker given access (in the body, never the URL)")
    reason: Text = Field(description="why they need the file; kept with the grant")
    until: AwareDatetime = Field(description="when the grant ends; in the future")


class GrantAccess(GrantAccessInputs, OnFile, Signed):
    """Let one caseworker reach the citizen's file and the incidents naming them, for a reason, until a moment."""


class RevokeAccess(OnFile, Signed):
    """End a grant before its time."""

    grant_id: UUID


class RegisterPhoneNumberInputs(Inputs):
    number: ShortText = Field(description="a phone number; without a country code it is taken as Danish")


class RegisterPhoneNumber(RegisterPhoneNumberInputs, OnFile):
    """Record a phone number as the citizen's."""


class RecordAdjustmentNeedInputs(Inputs):
    description: ShortText = Field(examples=["ordblind"])
    relies_on: list[Channel] = Field(min_length=1)


class RecordAdjustmentNeed(RecordAdjustmentNeedInputs, OnFile):
    """Record a need that makes the citizen rely on certain channels."""


class IssueWarningInputs(Inputs):
    behaviour: Text = Field(description="the behaviour the citizen is asked to stop")
    contact_point: ShortText = Field(description="where the citizen can contact the administration")
    incident_ids: list[UUID] = Field(min_length=1)


class IssueWarning(IssueWarningInputs, OnFile, Signed):
    """Warn the citizen to stop a named behaviour, resting on incidents."""


class IssueLetterInputs(Inputs):
    kind: LetterKind
    subject_id: UUID = Field(description="the restriction or warning the letter is about; for `appointment`, the meeting")
    recipient: Recipient = Field(
        description="the citizen's name and postal address, printed in the letter's address block; kept only in"
        " the stored PDF, never in an event or a log",
        examples=[{"name": "Jens Hansen", "address": ["Vesterbrogade 1, 2. th.", "1620 København V"]}],
        repr=False,
    )


class IssueLetter(IssueLetterInputs, OnFile, Signed):
    """Issue a letter about a restriction, a warning or a meeting, signed by the official."""


class DispatchChannel(str, Enum):
    DIGITAL_POST = "digital_post"
    POST = "post"
    HAND_DELIVERED = "hand_delivered"


class RecordDispatchInputs(Inputs):
    channel: DispatchChannel


class RecordDispatch(RecordDispatchInputs, OnFile):
    """Record how and when a letter was sent."""

    letter_id: UUID


class RecordDeliveryInputs(Inputs):
    evidence: Text = Field(description="e.g. the Digital Post receipt id, or who handed it over")


class RecordDelivery(RecordDeliveryInputs, OnFile):
    """Record the evidence that a letter reached the citizen."""

    letter_id: UUID


class EraseInputs(Inputs):
    authorisation: ArchiveAuthorisation = Field(
        description="the State Archives' authorisation the erasure rests on: its reference and the date it was granted"
    )


class EraseCitizen(EraseInputs, OnFile, Signed):
    """Erase the citizen's personal data, and that of the incidents naming them, under an archive authorisation."""

    incident_ids: tuple[UUID, ...] = Field(default=(), description="the incidents that now name the citizen as perpetrator")
