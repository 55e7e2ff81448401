"""An incident's commands as values: reporting it and recording its handling.

Each `...Inputs` class holds what a caller types in (an HTTP body extends it); the command adds the
incident it targets, the version the caller last saw, if any, and who asks. The police-report
commands are in `domain.incident.police_commands`.
"""

from __future__ import annotations

from typing import Annotated, Any, get_type_hints
from uuid import UUID

from pydantic import Field, create_model

from domain.bounds import Day, Moment
from domain.command import Command, Inputs
from domain.incident.facts import (
    MAX_ABSENCE_DAYS,
    MAX_EVIDENCE_BYTES,
    IncidentFacts,
    Link,
    Person,
    SupportKind,
    TakedownAddressee,
)
from domain.values import ShortText, Text

EmployeeIds = Annotated[list[ShortText], Field(min_length=1)]
"""The employees a fact is about: at least one, each by user id."""


class ReportIncident(Command):
    """Report an incident; the actor is recorded as the reporter."""

    facts: IncidentFacts


class OnIncident(Command):
    """A command on one incident, with the version the caller last saw when it gives one."""

    incident_id: UUID
    expected_version: int | None = None


class AtInputs(Inputs):
    """When the fact took effect, if not now."""

    at: Moment | None = Field(None, description="when it took effect; now if left out")


class InformLeaderInputs(AtInputs):
    leader: Person


class InformLeader(InformLeaderInputs, OnIncident):
    """Record that a leader was told about the incident."""


class SupportInputs(AtInputs):
    employee_id: ShortText
    kind: SupportKind


class OfferSupport(SupportInputs, OnIncident):
    """Record support offered to an affected employee."""


class AcceptSupport(SupportInputs, OnIncident):
    """Record that the employee accepted the support offered."""


class DeclineSupport(SupportInputs, OnIncident):
    """Record that the employee declined the support offered."""


class DebriefingInputs(AtInputs):
    employee_ids: EmployeeIds
    summary: Text


class HoldDebriefing(DebriefingInputs, OnIncident):
    """Record a debriefing held with affected employees, written up."""


class NoteInputs(AtInputs):
    text: Text = Field(description="what was said; `at` is when it was said")


class AddNote(NoteInputs, OnIncident):
    """Record information given orally, as of when it was given."""


class EvidenceInputs(Inputs):
    sha256: ShortText = Field(description="the SHA-256 of the stored file, 64 hexadecimal digits")
    media_type: ShortText = Field(examples=["image/png"])
    size: int = Field(ge=1, le=MAX_EVIDENCE_BYTES, description="bytes")
    description: Text


class AttachEvidence(EvidenceInputs, OnIncident):
    """Record a file (stored elsewhere by its SHA-256) as evidence."""


class TakedownInputs(AtInputs):
    addressee: TakedownAddressee
    platform: ShortText
    link: Link


class RequestTakedown(TakedownInputs, OnIncident):
    """Record a request that a post be taken down; the receipt names the request."""


class OnTakedown(OnIncident):
    """A command on one takedown request of an incident."""

    takedown_id: UUID


class RecordPostRemoved(AtInputs, OnTakedown):
    """Record that the post a takedown asked for was removed."""


class TakedownRefusedInputs(AtInputs):
    reason: Text | None = None


class RecordTakedownRefused(TakedownRefusedInputs, OnTakedown):
    """Record that a takedown was refused, with the reason given if any."""


class AbsenceInputs(Inputs):
    employee_id: ShortText
    first_day: Day
    days: int = Field(ge=1, le=MAX_ABSENCE_DAYS, description="a longer absence is recorded again from a later first day")


class RecordAbsence(AbsenceInputs, OnIncident):
    """Record an affected employee's absence: its first day and how many days."""


def _every_fact_optional() -> dict[str, Any]:
    """Each fact of an incident, of its own type (bounds included) or null, left out by default."""
    types = get_type_hints(IncidentFacts, include_extras=True)
    return {name: (types[name] | None, None) for name in IncidentFacts.model_fields}


FactsCorrection = create_model(
    "FactsCorrection",
    __base__=Inputs,
    __doc__="New values for some facts: a field left out keeps its value; null clears an optional one.",
    __module__=__name__,
    **_every_fact_optional(),
)


class CorrectionInputs(Inputs):
    changes: FactsCorrection
    reason: Text


class CorrectIncident(CorrectionInputs, OnIncident):
    """Record new values for some of the incident's facts, with the reason."""


class CloseInputs(Inputs):
    reason: Text | None = None


class CloseIncident(CloseInputs, OnIncident):
    """Close the incident; a leader must have been informed."""


class ReopenInputs(Inputs):
    reason: Text


class ReopenIncident(ReopenInputs, OnIncident):
    """Reopen a closed incident, with the reason."""
