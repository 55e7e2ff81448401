"""The shapes of the routing messages on Kafka (CloudEvents 1.0, JSON) and how a received one is read.

Beside the messages there is the tombstone: a record keyed by the citizen's reference with no value
(null), sent when the citizen's personal data was erased. Compaction then removes every message
under that key, and a consumer deletes what it holds of the citizen (`parse_record`).

Declared here once and versioned; type names never come from Python class paths (the contract a
reader gets is docs/asyncapi.yaml; a test keeps the two in step). consumers.messages builds them
from the domain.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import time
from typing import Annotated, Literal, get_args
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from domain.values import PhoneRule

SPEC_VERSION = "1.0"
SOURCE = "urn:vaern:contact-files"
CONTENT_TYPE = "application/cloudevents+json; charset=UTF-8"
DATA_CONTENT_TYPE = "application/json"

PHONE_NUMBER_REGISTERED = "dk.kk.vaern.phone-number.registered.v1"
RESTRICTION_DECIDED = "dk.kk.vaern.restriction.decided.v1"
RESTRICTION_AMENDED = "dk.kk.vaern.restriction.amended.v1"
RESTRICTION_LIFTED = "dk.kk.vaern.restriction.lifted.v1"
RESTRICTION_EXPIRED = "dk.kk.vaern.restriction.expired.v1"

TOMBSTONE = "tombstone"  # the contract's name for a record without a value: a citizen's erasure

# The contract's own names for the phone rules: a new domain rule must be added here on purpose.
RULES: dict[PhoneRule, str] = {
    PhoneRule.OPEN: "open",
    PhoneRule.NAMED_CONTACT_ONLY: "named_contact_only",
    PhoneRule.TIME_WINDOW: "time_window",
    PhoneRule.BANNED: "banned",
}

Rule = Literal["open", "named_contact_only", "time_window", "banned"]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
MessageType = Literal[
    "dk.kk.vaern.phone-number.registered.v1",
    "dk.kk.vaern.restriction.decided.v1",
    "dk.kk.vaern.restriction.amended.v1",
    "dk.kk.vaern.restriction.lifted.v1",
    "dk.kk.vaern.restriction.expired.v1",
]
# Every type of the contract. All but the number's are about one restriction and carry data.change.
DECLARED_TYPES: tuple[str, ...] = get_args(MessageType)
E164 = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{6,14}$")]
Contact = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class MalformedMessage(ValueError):
    """A message that is not a valid routing update of this contract. Says what, never the data."""


class UnknownMessageType(MalformedMessage):
    """A message of a type this contract does not declare."""


class UndeclaredChange(RuntimeError):
    """A domain event changed a citizen's routing but has no message type: the contract needs a line."""


class _Contract(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Window(_Contract):
    """When calls are taken: weekdays and a local (Europe/Copenhagen) time span."""

    days: tuple[Day, ...] = Field(min_length=1)
    start: time
    end: time


class RestrictionRouting(_Contract):
    """The phone terms of one restriction that is not lifted, with its period."""

    restriction_id: UUID
    rule: Rule
    contact: Contact | None
    windows: tuple[Window, ...]
    valid_from: AwareDatetime
    valid_until: AwareDatetime


class Change(_Contract):
    """Which restriction a decided, amended, lifted or expired message is about."""

    restriction_id: UUID


class RoutingState(_Contract):
    """A citizen's complete phone routing after the change: `data` of every message."""

    citizen_ref: UUID
    sequence: int = Field(ge=1)
    position: int = Field(ge=1)
    numbers: tuple[E164, ...]
    restrictions: tuple[RestrictionRouting, ...]
    change: Change | None = Field(default=None, exclude_if=lambda change: change is None)


class RoutingUpdate(_Contract):
    """One message: the CloudEvents envelope around a citizen's routing state."""

    specversion: Literal["1.0"]
    id: str
    source: Literal["urn:vaern:contact-files"]
    type: MessageType
    subject: str
    time: AwareDatetime
    datacontenttype: Literal["application/json"]
    data: RoutingState

    @model_validator(mode="after")
    def _consistent(self) -> RoutingUpdate:
        if self.subject != str(self.data.citizen_ref):
            raise ValueError("subject is not data.citizen_ref")
        if self.id != message_id(self.data.citizen_ref, self.data.sequence):
            raise ValueError("id is not <citizen_ref>:<sequence>")
        if (self.data.change is None) != (self.type == PHONE_NUMBER_REGISTERED):
            raise ValueError(f"data.change must be present exactly on restriction messages, not on {self.type}")
        return self


@dataclass(frozen=True)
class Tombstone:
    """A record with the citizen's key and no value: their data was erased; drop every row held for them."""

    citizen_ref: UUID


class Snapshot(_Contract):
    """Every citizen's latest routing state (the `data` of their latest message) and the log position."""

    position: int = Field(ge=0)
    states: tuple[RoutingState, ...]


def message_id(citizen_ref: UUID, sequence: int) -> str:
    """The same for every delivery of one change, so consumers can spot redeliveries."""
    return f"{citizen_ref}:{sequence}"


def parse_message(value: bytes, key: bytes | None = None) -> RoutingUpdate:
    """Validates a message strictly; raises MalformedMessage (or UnknownMessageType) saying why."""
    try:
        raw = json.loads(value)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise MalformedMessage("the value is not UTF-8 JSON") from None
    if not isinstance(raw, dict):
        raise MalformedMessage("the value is not a JSON object")
    kind = raw.get("type")
    if kind not in DECLARED_TYPES:
        raise UnknownMessageType(f"unknown message type {str(kind)[:100]!r}")
    try:
        update = RoutingUpdate.model_validate_json(value)
    except ValidationError as error:
        raise MalformedMessage(f"{kind}: {_describe(error)}") from None
    if key is not None and key != update.subject.encode("utf-8"):
        raise MalformedMessage(f"{kind}: the key is not the subject")
    return update


def parse_record(value: bytes | None, key: bytes | None) -> RoutingUpdate | Tombstone:
    """A received record: a routing update (`parse_message`), or, without a value, the tombstone of the
    citizen its key names. Raises MalformedMessage saying why it is neither."""
    if value is not None:
        return parse_message(value, key)
    try:
        return Tombstone(UUID((key or b"").decode("ascii")))
    except (UnicodeDecodeError, ValueError):
        raise MalformedMessage("a record without a value whose key is not a citizen reference") from None


def parse_snapshot(value: bytes | str) -> Snapshot:
    """Validates a snapshot as GET /phone-routing/snapshot returns it; raises MalformedMessage saying why."""
    try:
        return Snapshot.model_validate_json(value)
    except ValidationError as error:
        raise MalformedMessage(f"snapshot: {_describe(error)}") from None


def _describe(error: ValidationError) -> str:
    # Field paths and reasons only: the input itself may hold phone numbers.
    return "; ".join(
        f"{'.'.join(str(part) for part in e['loc']) or 'value'}: {e['msg']}"
        for e in error.errors(include_input=False, include_url=False)
    )
